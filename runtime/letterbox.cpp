#include "runtime/letterbox.h"

#include <algorithm>
#include <cfenv>
#include <cmath>

#include "common/half.h"

namespace y26::runtime {
namespace {

// Python's round(): half to even (the default floating-point rounding mode).
int py_round(double v) { return static_cast<int>(std::nearbyint(v)); }

constexpr int kCoefBits = 11;  // OpenCV INTER_RESIZE_COEF_BITS
constexpr int kCoefScale = 1 << kCoefBits;

struct Tap {
  int i0, i1;        // source indices, clamped
  int a0, a1;        // fixed-point weights, sum ~ 2048
};

// OpenCV resizeGeneric's coefficients. Along x the position is clamped to the
// image (weight 0 beyond the last pixel); along y it is not, but the two source
// rows are clamped, which changes the rounding at the borders.
std::vector<Tap> taps(int ssize, int dsize, bool clamp_position) {
  const double scale = 1.0 / (static_cast<double>(dsize) / ssize);
  std::vector<Tap> t(static_cast<size_t>(dsize));
  for (int d = 0; d < dsize; ++d) {
    float f = static_cast<float>((d + 0.5) * scale - 0.5);
    int s = static_cast<int>(std::floor(f));
    f -= static_cast<float>(s);
    if (clamp_position) {
      if (s < 0) f = 0, s = 0;
      if (s >= ssize - 1) f = 0, s = ssize - 1;
    }
    Tap& tp = t[static_cast<size_t>(d)];
    tp.i0 = std::clamp(s, 0, ssize - 1);
    tp.i1 = std::clamp(s + 1, 0, ssize - 1);
    tp.a0 = static_cast<int>(std::lrint((1.0f - f) * kCoefScale));
    tp.a1 = static_cast<int>(std::lrint(f * kCoefScale));
  }
  return t;
}

}  // namespace

Letterbox letterbox_params(int src_w, int src_h, int target_h, int target_w, bool minimal, int stride, bool scaleup) {
  Letterbox lb;
  lb.src_w = src_w;
  lb.src_h = src_h;
  double r = std::min(static_cast<double>(target_h) / src_h, static_cast<double>(target_w) / src_w);
  if (!scaleup) r = std::min(r, 1.0);
  lb.unpad_w = std::max(py_round(src_w * r), 1);
  lb.unpad_h = std::max(py_round(src_h * r), 1);
  double dw = target_w - lb.unpad_w, dh = target_h - lb.unpad_h;
  if (minimal) {
    dw = std::fmod(dw, stride);
    dh = std::fmod(dh, stride);
  }
  dw /= 2;
  dh /= 2;
  lb.top = py_round(dh - 0.1);
  lb.bottom = py_round(dh + 0.1);
  lb.left = py_round(dw - 0.1);
  lb.right = py_round(dw + 0.1);
  return lb;
}

std::vector<std::uint8_t> resize_linear_u8(const std::uint8_t* src, int sw, int sh, int dw, int dh) {
  const auto xt = taps(sw, dw, true), yt = taps(sh, dh, false);
  // Horizontal pass into int rows (value x 2048), then the vertical pass with the
  // rounding of OpenCV's SIMD kernel: ((b0*(S0>>4))>>16) + ((b1*(S1>>4))>>16) + 2) >> 2.
  std::vector<int> rows(static_cast<size_t>(sh) * dw * 3);
  for (int y = 0; y < sh; ++y) {
    const std::uint8_t* s = src + static_cast<size_t>(y) * sw * 3;
    int* r = rows.data() + static_cast<size_t>(y) * dw * 3;
    for (int x = 0; x < dw; ++x) {
      const Tap& t = xt[static_cast<size_t>(x)];
      for (int c = 0; c < 3; ++c) r[x * 3 + c] = s[t.i0 * 3 + c] * t.a0 + s[t.i1 * 3 + c] * t.a1;
    }
  }
  std::vector<std::uint8_t> out(static_cast<size_t>(dh) * dw * 3);
  for (int y = 0; y < dh; ++y) {
    const Tap& t = yt[static_cast<size_t>(y)];
    const int* r0 = rows.data() + static_cast<size_t>(t.i0) * dw * 3;
    const int* r1 = rows.data() + static_cast<size_t>(t.i1) * dw * 3;
    std::uint8_t* o = out.data() + static_cast<size_t>(y) * dw * 3;
    for (int i = 0; i < dw * 3; ++i) {
      const int v = (((t.a0 * (r0[i] >> 4)) >> 16) + ((t.a1 * (r1[i] >> 4)) >> 16) + 2) >> 2;
      o[i] = static_cast<std::uint8_t>(std::clamp(v, 0, 255));
    }
  }
  return out;
}

std::vector<std::uint8_t> letterbox_u8(const Image& img, const Letterbox& lb) {
  std::vector<std::uint8_t> resized;
  const std::uint8_t* src = img.rgb.data();
  if (lb.unpad_w != img.width || lb.unpad_h != img.height) {
    resized = resize_linear_u8(img.rgb.data(), img.width, img.height, lb.unpad_w, lb.unpad_h);
    src = resized.data();
  }
  const int ow = lb.out_w(), oh = lb.out_h();
  std::vector<std::uint8_t> out(static_cast<size_t>(ow) * oh * 3, 114);
  for (int y = 0; y < lb.unpad_h; ++y) {
    std::copy_n(src + static_cast<size_t>(y) * lb.unpad_w * 3, static_cast<size_t>(lb.unpad_w) * 3,
                out.data() + (static_cast<size_t>(y + lb.top) * ow + lb.left) * 3);
  }
  return out;
}

void to_input(const std::vector<std::uint8_t>& lb_rgb, const kernels::View<float>& dst, int b, bool round_fp16) {
  for (int y = 0; y < dst.h; ++y) {
    for (int x = 0; x < dst.w; ++x) {
      const std::uint8_t* s = lb_rgb.data() + (static_cast<size_t>(y) * dst.w + x) * 3;
      float* d = dst.pixel(b, y, x);
      for (int c = 0; c < 3; ++c) {
        const float v = static_cast<float>(s[c]) / 255.0f;
        d[c] = round_fp16 ? round_to_half(v) : v;
      }
    }
  }
}

kernels::cuda::BoxMapping box_mapping(int lb_h, int lb_w, int src_h, int src_w) {
  // ops.scale_boxes: the gain is re-derived per axis from the rounded resized size.
  const double gain = std::min(static_cast<double>(lb_h) / src_h, static_cast<double>(lb_w) / src_w);
  const int new_h = std::max(py_round(src_h * gain), 1), new_w = std::max(py_round(src_w * gain), 1);
  kernels::cuda::BoxMapping m;
  m.gain_y = static_cast<float>(static_cast<double>(new_h) / src_h);
  m.gain_x = static_cast<float>(static_cast<double>(new_w) / src_w);
  m.pad_x = static_cast<float>(py_round((lb_w - new_w) / 2.0 - 0.1));
  m.pad_y = static_cast<float>(py_round((lb_h - new_h) / 2.0 - 0.1));
  m.max_x = static_cast<float>(src_w), m.max_y = static_cast<float>(src_h);
  return m;
}

void scale_box_to_original(float box[4], int lb_h, int lb_w, int src_h, int src_w) {
  const auto m = box_mapping(lb_h, lb_w, src_h, src_w);
  box[0] = std::clamp((box[0] - m.pad_x) / m.gain_x, 0.0f, m.max_x);
  box[1] = std::clamp((box[1] - m.pad_y) / m.gain_y, 0.0f, m.max_y);
  box[2] = std::clamp((box[2] - m.pad_x) / m.gain_x, 0.0f, m.max_x);
  box[3] = std::clamp((box[3] - m.pad_y) / m.gain_y, 0.0f, m.max_y);
}

}  // namespace y26::runtime
