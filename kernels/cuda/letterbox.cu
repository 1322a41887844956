// Pre-processing on the GPU: letterbox (resize + pad 114) -> x / 255 -> FP16,
// one thread per output pixel. The resize reproduces OpenCV's 8-bit INTER_LINEAR
// exactly as runtime/letterbox.cpp does (its CPU twin): 11-bit fixed-point
// coefficients computed in the same float steps, the x position clamped, the y
// rows clamped, and OpenCV's SIMD rounding in the vertical pass.
#include "kernels/cuda/check.cuh"
#include "kernels/cuda/cuda_ops.h"

namespace y26::kernels::cuda {
Y26_CUDA_VARIANT_BEGIN
namespace {

struct Tap {
  int i0, i1, a0, a1;
};

__device__ Tap tap(int d, int ssize, int dsize, bool clamp_position) {
  const double scale = 1.0 / (static_cast<double>(dsize) / ssize);
  // explicit _rn operations: no fused multiply-add, so the position rounds exactly as on the CPU
  float f = static_cast<float>(__dadd_rn(__dmul_rn(d + 0.5, scale), -0.5));
  int s = static_cast<int>(floorf(f));
  f -= static_cast<float>(s);
  if (clamp_position) {
    if (s < 0) f = 0.0f, s = 0;
    if (s >= ssize - 1) f = 0.0f, s = ssize - 1;
  }
  Tap t;
  t.i0 = min(max(s, 0), ssize - 1);
  t.i1 = min(max(s + 1, 0), ssize - 1);
  t.a0 = __float2int_rn(__fmul_rn(1.0f - f, 2048.0f));
  t.a1 = __float2int_rn(__fmul_rn(f, 2048.0f));
  return t;
}

__global__ void __launch_bounds__(256) letterbox_kernel(const unsigned char* src, LetterboxGeometry g, unsigned short* out,
                                                        long long px, int out_h, int out_w) {
  pdl_prologue();
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= out_h * out_w) return;
  const int y = i / out_w, x = i % out_w;
  unsigned short* o = out + static_cast<long long>(i) * px;
  const int dy = y - g.top, dx = x - g.left;
  if (dy < 0 || dy >= g.unpad_h || dx < 0 || dx >= g.unpad_w) {
    const unsigned short pad = to_half_bits(__fdiv_rn(114.0f, 255.0f));
    o[0] = o[1] = o[2] = pad;
    return;
  }
  if (g.unpad_w == g.src_w && g.unpad_h == g.src_h) {  // no resize: Ultralytics skips cv2.resize
    const unsigned char* s = src + (static_cast<long long>(dy) * g.src_w + dx) * 3;
    for (int c = 0; c < 3; ++c) o[c] = to_half_bits(__fdiv_rn(static_cast<float>(s[c]), 255.0f));
    return;
  }
  const Tap tx = tap(dx, g.src_w, g.unpad_w, true), ty = tap(dy, g.src_h, g.unpad_h, false);
  const unsigned char* r0 = src + static_cast<long long>(ty.i0) * g.src_w * 3;
  const unsigned char* r1 = src + static_cast<long long>(ty.i1) * g.src_w * 3;
  for (int c = 0; c < 3; ++c) {
    const int h0 = r0[tx.i0 * 3 + c] * tx.a0 + r0[tx.i1 * 3 + c] * tx.a1;
    const int h1 = r1[tx.i0 * 3 + c] * tx.a0 + r1[tx.i1 * 3 + c] * tx.a1;
    const int v = (((ty.a0 * (h0 >> 4)) >> 16) + ((ty.a1 * (h1 >> 4)) >> 16) + 2) >> 2;
    o[c] = to_half_bits(__fdiv_rn(static_cast<float>(min(max(v, 0), 255)), 255.0f));
  }
}

// One thread per row: the four coordinates mapped as scale_box_to_original maps them (std::clamp
// keeps a NaN, so does this).
__global__ void map_boxes_kernel(float* rows, int batch, int rows_per_image, int row_floats, const BoxMapping* maps,
                                 bool rotated, int kpt_n, int kpt_dim) {
  pdl_prologue();
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= batch * rows_per_image) return;
  const BoxMapping m = maps[i / rows_per_image];
  float* r = rows + static_cast<long long>(i) * row_floats;
  if (rotated) {  // centre, width and height, unclipped
    r[0] = __fdiv_rn(__fsub_rn(r[0], m.pad_x), m.gain_x);
    r[1] = __fdiv_rn(__fsub_rn(r[1], m.pad_y), m.gain_y);
    r[2] = __fdiv_rn(r[2], m.gain_x);
    r[3] = __fdiv_rn(r[3], m.gain_y);
    return;
  }
  const auto map = [](float v, float pad, float gain, float hi) {
    const float x = __fdiv_rn(__fsub_rn(v, pad), gain);
    return x < 0.0f ? 0.0f : (hi < x ? hi : x);
  };
  r[0] = map(r[0], m.pad_x, m.gain_x, m.max_x);
  r[1] = map(r[1], m.pad_y, m.gain_y, m.max_y);
  r[2] = map(r[2], m.pad_x, m.gain_x, m.max_x);
  r[3] = map(r[3], m.pad_y, m.gain_y, m.max_y);
  for (int j = 0; j < kpt_n; ++j) {  // scale_coords: the same mapping and clip, the visibility untouched
    float* p = r + 6 + j * kpt_dim;
    p[0] = map(p[0], m.pad_x, m.gain_x, m.max_x);
    p[1] = map(p[1], m.pad_y, m.gain_y, m.max_y);
  }
}

}  // namespace

void map_boxes(float* rows, int batch, int rows_per_image, int row_floats, const BoxMapping* maps, void* stream,
               bool rotated, int kpt_n, int kpt_dim) {
  if (kpt_n > 0 && (rotated || 6 + kpt_n * kpt_dim > row_floats)) throw Error("CUDA map_boxes: keypoints do not fit the rows");
  const long long n = static_cast<long long>(batch) * rows_per_image;
  if (n == 0) return;
  launch_kernel("map_boxes_kernel", map_boxes_kernel, blocks_for(n, 256), 256, static_cast<cudaStream_t>(stream), rows,
                batch, rows_per_image, row_floats, maps, rotated, kpt_n, kpt_dim);
}

void letterbox_to_input(const std::uint8_t* src, const LetterboxGeometry& g, const View<half_bits>& out, int image,
                        void* stream) {
  if (out.c != 3 || g.unpad_w + g.left > out.w || g.unpad_h + g.top > out.h)
    throw Error("CUDA letterbox: geometry does not fit the input view");
  unsigned short* base = out.data + image * out.image_stride;
  launch_kernel("letterbox_kernel", letterbox_kernel, blocks_for(static_cast<long long>(out.h) * out.w, 256), 256,
                static_cast<cudaStream_t>(stream), src, g, base, out.pixel_stride, out.h, out.w);
}

Y26_CUDA_VARIANT_END
}  // namespace y26::kernels::cuda
