// Instance masks from mask logits, step for step as Ultralytics 8.4.190 (runtime/masks.h). The bilinear
// resizes are PyTorch's F.interpolate(mode="bilinear", align_corners=False) on the CPU: per output index
// the source coordinate scale * (i + 0.5) - 0.5 clamped at 0, its floor and the next index (the last one
// repeated at the edge), weights 1 - t and t, rows of the two columns blended first; only the pixels a
// box keeps are computed.
#include "runtime/masks.h"

#include "kernels/cpu/simd.h"
#include "runtime/letterbox.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace y26::runtime {
namespace {

int py_round(double v) { return static_cast<int>(std::nearbyint(v)); }  // Python's round: half to even

// One axis of a bilinear resize: for output index i, the two source indices and their weights.
struct Taps {
  std::vector<int> i0, i1;
  std::vector<float> w0, w1;
};
// `scale`: PyTorch's source/destination ratio (in / out for a size, 1 / f for a scale factor), in FP32 as its
// CPU kernel computes it.
Taps taps(int in, int out, float scale) {
  Taps t;
  t.i0.resize(static_cast<size_t>(out));
  t.i1.resize(static_cast<size_t>(out));
  t.w0.resize(static_cast<size_t>(out));
  t.w1.resize(static_cast<size_t>(out));
  for (int i = 0; i < out; ++i) {
    const float src = std::max(scale * (static_cast<float>(i) + 0.5f) - 0.5f, 0.0f);
    const int i0 = static_cast<int>(src);
    const float l1 = std::min(std::max(src - static_cast<float>(i0), 0.0f), 1.0f);
    t.i0[static_cast<size_t>(i)] = i0;
    t.i1[static_cast<size_t>(i)] = i0 + (i0 < in - 1 ? 1 : 0);
    t.w0[static_cast<size_t>(i)] = 1.0f - l1;
    t.w1[static_cast<size_t>(i)] = l1;
  }
  return t;
}

// A float map (h x w, row-major).
struct Map {
  int h = 0, w = 0;
  std::vector<float> v;
  float at(int y, int x) const { return v[static_cast<size_t>(y) * w + x]; }
};

float sample(const Map& m, const Taps& ty, const Taps& tx, int y, int x) {
  const auto yi = static_cast<size_t>(y), xi = static_cast<size_t>(x);
  const int y0 = ty.i0[yi], y1 = ty.i1[yi], x0 = tx.i0[xi], x1 = tx.i1[xi];
  const float top = m.at(y0, x0) * tx.w0[xi] + m.at(y0, x1) * tx.w1[xi];
  const float bottom = m.at(y1, x0) * tx.w0[xi] + m.at(y1, x1) * tx.w1[xi];
  return top * ty.w0[yi] + bottom * ty.w1[yi];
}

// F.interpolate(src, scale_factor=f, mode="bilinear") of a whole map.
Map upsample(const Map& src, int f) {
  Map out{src.h * f, src.w * f, {}};
  out.v.resize(static_cast<size_t>(out.h) * out.w);
  const Taps ty = taps(src.h, out.h, 1.0f / static_cast<float>(f)), tx = taps(src.w, out.w, 1.0f / static_cast<float>(f));
  for (int y = 0; y < out.h; ++y)
    for (int x = 0; x < out.w; ++x) out.v[static_cast<size_t>(y) * out.w + x] = sample(src, ty, tx, y, x);
  return out;
}

// crop_mask's box on an h x w grid: columns x1 <= c < x2, rows y1 <= r < y2, as half-open index ranges.
struct Crop {
  int c0 = 0, c1 = 0, r0 = 0, r1 = 0;
};
Crop crop_of(const float box[4], int h, int w) {
  auto lo = [](float v, int n) { return static_cast<int>(std::clamp(std::ceil(static_cast<double>(v)), 0.0, static_cast<double>(n))); };
  Crop c{lo(box[0], w), lo(box[2], w), lo(box[1], h), lo(box[3], h)};
  c.c1 = std::max(c.c1, c.c0), c.r1 = std::max(c.r1, c.r0);
  return c;
}

// The logits' region rows r0..r1, columns c0..c1 resized to out_h x out_w and thresholded (> 0) inside
// `keep` only: the binary mask of that rectangle of the out_h x out_w frame (nothing outside it is set).
Mask resize_threshold(const Map& m, int r0, int r1, int c0, int c1, int out_h, int out_w, const Crop& keep) {
  const int in_h = r1 - r0, in_w = c1 - c0;
  Map region{in_h, in_w, {}};
  region.v.resize(static_cast<size_t>(in_h) * in_w);
  for (int y = 0; y < in_h; ++y)
    std::copy_n(m.v.begin() + static_cast<std::ptrdiff_t>(y + r0) * m.w + c0, in_w, region.v.begin() + static_cast<std::ptrdiff_t>(y) * in_w);
  const Taps ty = taps(in_h, out_h, static_cast<float>(in_h) / static_cast<float>(out_h));
  const Taps tx = taps(in_w, out_w, static_cast<float>(in_w) / static_cast<float>(out_w));
  Mask mask{keep.c0, keep.r0, keep.c1 - keep.c0, keep.r1 - keep.r0, {}};
  mask.pixels.resize(static_cast<size_t>(mask.width) * mask.height);
  for (int y = keep.r0; y < keep.r1; ++y)
    for (int x = keep.c0; x < keep.c1; ++x)
      mask.pixels[static_cast<size_t>(y - keep.r0) * mask.width + (x - keep.c0)] = sample(region, ty, tx, y, x) > 0.0f ? 1 : 0;
  return mask;
}

// process_mask_native's path to the original image: (map, padding crop) as scale_masks takes them.
struct NativeCrop {
  Map map;  // the logits, upsampled by f
  int top = 0, bottom = 0, left = 0, right = 0;
};
NativeCrop native_crop(const Map& logits, int h, int w) {
  const int mh = logits.h, mw = logits.w;
  const double gain = std::min(4.0 * mh / h, 4.0 * mw / w);
  const int pad = (4 * mh - std::max(py_round(h * gain), 1)) | (4 * mw - std::max(py_round(w * gain), 1));
  const int f = 4 / std::gcd(4, pad | (pad >> 1));  // pad >= 0: Python's // 2
  NativeCrop n;
  n.map = f > 1 ? upsample(logits, f) : logits;
  const int im1_h = n.map.h, im1_w = n.map.w;
  const double g = std::min(static_cast<double>(im1_h) / h, static_cast<double>(im1_w) / w);
  const double pad_w = (im1_w - std::max(py_round(w * g), 1)) / 2.0, pad_h = (im1_h - std::max(py_round(h * g), 1)) / 2.0;
  n.top = py_round(pad_h - 0.1), n.left = py_round(pad_w - 0.1);
  n.bottom = n.top + std::max(py_round(h * g), 1), n.right = n.left + std::max(py_round(w * g), 1);
  if (im1_h == h && im1_w == w) n.top = 0, n.left = 0, n.bottom = h, n.right = w;  // scale_masks returns it as is
  return n;
}

Map logits_map(const float* logits, const MaskFrame& f) {
  Map m{f.proto_h, f.proto_w, {}};
  m.v.assign(logits, logits + static_cast<std::ptrdiff_t>(f.proto_h) * f.proto_w);
  return m;
}

}  // namespace

// A portable build targets baseline x86-64, where std::fmaf is a library call (~4x slower here); a clone
// for FMA-capable CPUs, picked at load time, makes it one instruction. Fused multiply-adds round once
// either way: every clone gives the same bits (and the CUDA kernel's).
Y26_TARGET_CLONES("fma", "default")
void mask_logits(const float* coeffs, int nm, const float* protos, std::int64_t pixel_stride, std::int64_t pixels,
                 float* out) {
  // 8 pixels at a time: 8 independent fmaf chains keep the FMA units busy (one chain waits on its own
  // latency), each pixel's sum still in k order from 0.
  constexpr int kBlock = 8;
  std::int64_t p = 0;
  for (; p + kBlock <= pixels; p += kBlock) {
    float acc[kBlock] = {};
    const float* proto = protos + p * pixel_stride;
    for (int k = 0; k < nm; ++k)
      for (int j = 0; j < kBlock; ++j) acc[j] = std::fmaf(coeffs[k], proto[j * pixel_stride + k], acc[j]);
    for (int j = 0; j < kBlock; ++j) out[p + j] = acc[j];
  }
  for (; p < pixels; ++p) {
    const float* proto = protos + p * pixel_stride;
    float acc = 0.0f;
    for (int k = 0; k < nm; ++k) acc = std::fmaf(coeffs[k], proto[k], acc);
    out[p] = acc;
  }
}

// The mask of the frame it is made in (runtime/masks.h), as the rectangle of its crop.
Mask frame_mask(const float* logits, const MaskFrame& f, const float box[4], bool retina) {
  const Map m = logits_map(logits, f);
  if (!retina) return resize_threshold(m, 0, m.h, 0, m.w, f.input_h, f.input_w, crop_of(box, f.input_h, f.input_w));
  const NativeCrop n = native_crop(m, f.image_h, f.image_w);
  return resize_threshold(n.map, n.top, n.bottom, n.left, n.right, f.image_h, f.image_w, crop_of(box, f.image_h, f.image_w));
}

std::vector<std::uint8_t> mask_in_frame(const float* logits, const MaskFrame& f, const float box[4], bool retina) {
  const Mask m = frame_mask(logits, f, box, retina);
  const int w = retina ? f.image_w : f.input_w, h = retina ? f.image_h : f.input_h;
  std::vector<std::uint8_t> frame(static_cast<size_t>(w) * h, 0);
  for (int y = 0; y < m.height; ++y)
    std::copy_n(m.pixels.begin() + static_cast<std::ptrdiff_t>(y) * m.width, m.width,
                frame.begin() + static_cast<std::ptrdiff_t>(m.y + y) * w + m.x);
  return frame;
}

std::optional<Mask> assemble_mask(const float* logits, const MaskFrame& f, const float input_box[4], const float image_box[4],
                                  bool retina) {
  const Mask fm = frame_mask(logits, f, retina ? image_box : input_box, retina);
  if (std::find(fm.pixels.begin(), fm.pixels.end(), 1) == fm.pixels.end()) return std::nullopt;
  // the original pixels whose source in the frame lies in the crop: themselves (retina), or those whose
  // centre falls on an input pixel of it (the source index is monotonic: the range is a binary search)
  std::vector<int> col, row;
  if (!retina) {
    const auto m = box_mapping(f.input_h, f.input_w, f.image_h, f.image_w);
    for (int x = 0; x < f.image_w; ++x) col.push_back(static_cast<int>(std::floor((static_cast<float>(x) + 0.5f) * m.gain_x + m.pad_x)));
    for (int y = 0; y < f.image_h; ++y) row.push_back(static_cast<int>(std::floor((static_cast<float>(y) + 0.5f) * m.gain_y + m.pad_y)));
  }
  auto source_range = [&](const std::vector<int>& src, int lo, int hi, int& first, int& last) {
    if (retina) return void(first = lo), void(last = hi);
    first = static_cast<int>(std::lower_bound(src.begin(), src.end(), lo) - src.begin());
    last = static_cast<int>(std::lower_bound(src.begin(), src.end(), hi) - src.begin());
  };
  int xa = 0, xb = 0, ya = 0, yb = 0;
  source_range(col, fm.x, fm.x + fm.width, xa, xb);
  source_range(row, fm.y, fm.y + fm.height, ya, yb);
  auto on = [&](int x, int y) {
    const int sx = retina ? x : col[static_cast<size_t>(x)], sy = retina ? y : row[static_cast<size_t>(y)];
    return fm.pixels[static_cast<size_t>(sy - fm.y) * fm.width + (sx - fm.x)] != 0;
  };
  int x0 = xb, x1 = xa - 1, y0 = yb, y1 = ya - 1;
  for (int y = ya; y < yb; ++y)
    for (int x = xa; x < xb; ++x)
      if (on(x, y)) x0 = std::min(x0, x), x1 = std::max(x1, x), y0 = std::min(y0, y), y1 = std::max(y1, y);
  Mask mask;
  if (x1 < x0) return mask;  // kept by Ultralytics, but too thin to cover an original pixel's centre
  mask.x = x0, mask.y = y0, mask.width = x1 - x0 + 1, mask.height = y1 - y0 + 1;
  mask.pixels.resize(static_cast<size_t>(mask.width) * mask.height);
  for (int y = y0; y <= y1; ++y)
    for (int x = x0; x <= x1; ++x) mask.pixels[static_cast<size_t>(y - y0) * mask.width + (x - x0)] = on(x, y) ? 1 : 0;
  return mask;
}

}  // namespace y26::runtime

namespace y26 {

bool Mask::contains(int px, int py) const {
  return px >= x && px < x + width && py >= y && py < y + height && pixels[static_cast<size_t>(py - y) * width + (px - x)] != 0;
}
std::int64_t Mask::area() const { return std::count(pixels.begin(), pixels.end(), std::uint8_t{1}); }

std::string coco_rle(const Mask& mask, int image_w, int image_h) {
  std::vector<std::int64_t> counts;
  std::int64_t run = 0;
  std::uint8_t current = 0;
  for (int x = 0; x < image_w; ++x) {
    for (int y = 0; y < image_h; ++y) {
      const std::uint8_t v = mask.contains(x, y) ? 1 : 0;
      if (v != current) counts.push_back(run), run = 0, current = v;
      ++run;
    }
  }
  counts.push_back(run);
  std::string s;
  for (size_t i = 0; i < counts.size(); ++i) {  // pycocotools' rleToString
    std::int64_t v = counts[i];
    if (i > 2) v -= counts[i - 2];
    bool more = true;
    while (more) {
      std::int64_t c = v & 0x1f;
      v >>= 5;  // arithmetic: the sign carries on
      more = (c & 0x10) ? v != -1 : v != 0;
      if (more) c |= 0x20;
      s.push_back(static_cast<char>(c + 48));
    }
  }
  return s;
}

}  // namespace y26
