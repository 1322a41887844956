#include "runtime/classify.h"

#include "runtime/postprocess.h"

#include <algorithm>
#include <cmath>
#include <cstdint>

namespace y26::runtime {
namespace {

constexpr int kPrecisionBits = 32 - 8 - 2;  // Pillow's PRECISION_BITS for 8-bit images

// One pass's taps: output i reads inputs [first[i], first[i] + count[i]) with weights[i * ksize + j].
struct Taps {
  int ksize = 0;
  std::vector<int> first, count;
  std::vector<std::int32_t> weights;
};

// Pillow's precompute_coeffs + normalize_coeffs_8bpc for the bilinear (triangle, support 1) filter.
Taps bilinear_taps(int in_size, int out_size) {
  const double scale = static_cast<double>(in_size) / out_size;
  const double filterscale = std::max(scale, 1.0);
  const double support = 1.0 * filterscale;
  Taps t;
  t.ksize = static_cast<int>(std::ceil(support)) * 2 + 1;
  t.first.resize(static_cast<size_t>(out_size));
  t.count.resize(static_cast<size_t>(out_size));
  t.weights.assign(static_cast<size_t>(out_size) * t.ksize, 0);
  std::vector<double> k(static_cast<size_t>(t.ksize));
  for (int xx = 0; xx < out_size; ++xx) {
    const double center = (xx + 0.5) * scale;
    const double ss = 1.0 / filterscale;
    const int xmin = std::max(static_cast<int>(center - support + 0.5), 0);
    const int xmax = std::min(static_cast<int>(center + support + 0.5), in_size) - xmin;
    double ww = 0.0;
    for (int x = 0; x < xmax; ++x) {
      double d = (x + xmin - center + 0.5) * ss;
      if (d < 0.0) d = -d;
      k[static_cast<size_t>(x)] = d < 1.0 ? 1.0 - d : 0.0;
      ww += k[static_cast<size_t>(x)];
    }
    for (int x = 0; x < xmax; ++x) {
      double w = k[static_cast<size_t>(x)];
      if (ww != 0.0) w /= ww;
      const double f = w * (1 << kPrecisionBits);
      t.weights[static_cast<size_t>(xx) * t.ksize + x] = static_cast<std::int32_t>(w < 0 ? -0.5 + f : 0.5 + f);
    }
    t.first[static_cast<size_t>(xx)] = xmin;
    t.count[static_cast<size_t>(xx)] = xmax;
  }
  return t;
}

std::uint8_t clip8(std::int32_t v) { return static_cast<std::uint8_t>(std::clamp(v >> kPrecisionBits, 0, 255)); }

// One separable pass: `along_x` resamples rows (in.width -> out_w), else columns (in.height -> out_h).
Image resample_pass(const Image& in, int out_w, int out_h, bool along_x) {
  const Taps t = bilinear_taps(along_x ? in.width : in.height, along_x ? out_w : out_h);
  Image out;
  out.width = out_w;
  out.height = out_h;
  out.rgb.resize(static_cast<size_t>(out_w) * out_h * 3);
  for (int y = 0; y < out_h; ++y) {
    for (int x = 0; x < out_w; ++x) {
      const int i = along_x ? x : y;
      const std::int32_t* k = t.weights.data() + static_cast<size_t>(i) * t.ksize;
      std::int32_t s0 = 1 << (kPrecisionBits - 1), s1 = s0, s2 = s0;
      for (int j = 0; j < t.count[static_cast<size_t>(i)]; ++j) {
        const int src = t.first[static_cast<size_t>(i)] + j;
        const std::uint8_t* p = along_x ? in.pixel(src, y) : in.pixel(x, src);
        s0 += p[0] * k[j], s1 += p[1] * k[j], s2 += p[2] * k[j];
      }
      std::uint8_t* o = out.pixel(x, y);
      o[0] = clip8(s0), o[1] = clip8(s1), o[2] = clip8(s2);
    }
  }
  return out;
}

}  // namespace

Image pil_resize_bilinear(const Image& im, int out_w, int out_h) {
  if (out_w <= 0 || out_h <= 0) throw Error("resize: the output size must be positive");
  // Pillow: horizontal first (when the width changes), then vertical; an unchanged size is a copy. (It
  // passes only the rows the vertical pass reads through the horizontal one: the same values.)
  Image cur = im.width != out_w ? resample_pass(im, out_w, im.height, true) : im;
  return cur.height != out_h ? resample_pass(cur, out_w, out_h, false) : cur;
}

Image classify_transform(const Image& im, int size) {
  if (im.width <= 0 || im.height <= 0) throw Error("classify: an image has no pixels");
  const bool wide = im.width > im.height;
  const int shorter = wide ? im.height : im.width, longer = wide ? im.width : im.height;
  // torchvision: int(size * long / short), Python's true division then truncation
  const int resized_long = static_cast<int>(static_cast<double>(static_cast<std::int64_t>(size) * longer) / shorter);
  const int rw = wide ? resized_long : size, rh = wide ? size : resized_long;
  const Image resized = (rw == im.width && rh == im.height) ? im : pil_resize_bilinear(im, rw, rh);
  // CenterCrop: int(round((in - size) / 2.0)), the rounding half to even (nearbyint's default mode)
  const int top = static_cast<int>(std::nearbyint((rh - size) / 2.0));
  const int left = static_cast<int>(std::nearbyint((rw - size) / 2.0));
  Image out;
  out.width = out.height = size;
  out.rgb.resize(static_cast<size_t>(size) * size * 3);
  for (int y = 0; y < size; ++y)
    std::copy_n(resized.pixel(left, top + y), static_cast<size_t>(size) * 3, out.pixel(0, y));
  return out;
}

std::vector<float> softmax(const float* logits, int n) {
  std::vector<float> p(logits, logits + n);
  if (n == 0) return p;
  const float m = *std::max_element(p.begin(), p.end());
  float sum = 0.0f;
  for (float& v : p) sum += (v = std::exp(v - m));
  for (float& v : p) v /= sum;
  return p;
}

}  // namespace y26::runtime

std::vector<int> y26::Classification::top(int k) const {
  return runtime::top_k_indices(probs, std::clamp(k, 0, static_cast<int>(probs.size())));
}
