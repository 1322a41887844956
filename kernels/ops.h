// Operator parameters and tensor views shared by the CPU and CUDA backends.
// Kernels know nothing of graphs: they take views and parameter structs.
#pragma once

#include <cstdint>

namespace y26::kernels {

// A 4-D NHWC tensor view. Element (b, y, x, ch) lives at
//   data[b * image_stride + (y * w + x) * pixel_stride + ch],
// so a channel slice of a wider tensor (a Concat input, a Chunk output) is a view
// with an offset data pointer and pixel_stride > c: producers write into concat
// outputs and consumers read chunks without copies.
template <typename T>
struct View {
  T* data = nullptr;
  int n = 0, h = 0, w = 0, c = 0;
  std::int64_t pixel_stride = 0;  // elements between neighbouring pixels (>= c)
  std::int64_t image_stride = 0;  // elements between images of the batch

  T* pixel(int b, int y, int x) const {
    return data + b * image_stride + (static_cast<std::int64_t>(y) * w + x) * pixel_stride;
  }
  View<const T> as_const() const { return {data, n, h, w, c, pixel_stride, image_stride}; }
};

enum class Activation : std::uint8_t { None, SiLU };

// Convolution weights as the CPU kernels read them (FP32):
//   dense (groups == 1):   w[((ky * kw + kx) * cin + ci) * cout + co]   (K x Cout, Cout fastest)
//   depthwise (groups == cin == cout): w[(ky * kw + kx) * c + ch]
// BatchNorm is already folded into w and bias.
struct ConvWeights {
  const float* w = nullptr;
  const float* bias = nullptr;  // cout values, never null
  int cin = 0, cout = 0, kh = 1, kw = 1, groups = 1;
};

struct ConvParams {
  int stride = 1;
  int pad = 0;
  Activation act = Activation::None;
};

struct PoolParams {
  int k = 5, stride = 1, pad = 2;
};

// PSA attention: per image and head, out = V softmax(scale * Q^T K)^T over N = h*w tokens.
// q, k: key_dim channels per head; v and out: head_dim channels per head; head h's
// channels are [h * dim, (h + 1) * dim) of each view.
struct AttentionParams {
  int heads = 1, key_dim = 0, head_dim = 0;
  float scale = 1.0f;
};

}  // namespace y26::kernels
