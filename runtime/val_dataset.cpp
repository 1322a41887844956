// The validator's batches and inputs (runtime/val_dataset.h), in Ultralytics' arithmetic: float64 where
// Python computes, float32 where the labels are numpy/torch float32.
#include "runtime/val_dataset.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace y26::runtime {
namespace {

// LetterBox's ratio (scaleup=False): 1 unless the batch shape is smaller than the loaded image
double letterbox_ratio(const ValGeometry& g) {
  return std::min({static_cast<double>(g.lb.out_h()) / g.loaded_h, static_cast<double>(g.lb.out_w()) / g.loaded_w, 1.0});
}

}  // namespace

RectBatches rect_batches(const std::vector<std::array<int, 2>>& hw, int batch_size, int imgsz, int stride, double pad) {
  if (batch_size <= 0) throw Error("--batch " + std::to_string(batch_size) + ": must be positive");
  RectBatches r;
  r.batch_size = batch_size;
  const int n = static_cast<int>(hw.size());
  std::vector<double> ar(hw.size());
  for (int i = 0; i < n; ++i) ar[i] = static_cast<double>(hw[i][0]) / hw[i][1];
  r.order.resize(hw.size());
  std::iota(r.order.begin(), r.order.end(), 0);
  // numpy's argsort is not stable; images of equal ratio get the same batch shapes whichever order they take
  std::stable_sort(r.order.begin(), r.order.end(), [&](int a, int b) { return ar[a] < ar[b]; });
  const int batches = (n + batch_size - 1) / batch_size;
  for (int b = 0; b < batches; ++b) {
    const int first = b * batch_size, last = std::min(n, first + batch_size) - 1;
    const double mini = ar[r.order[first]], maxi = ar[r.order[last]];
    double sh = 1, sw = 1;
    if (maxi < 1) {
      sh = maxi;
    } else if (mini > 1) {
      sw = 1 / mini;
    }
    const auto side = [&](double s) { return static_cast<int>(std::ceil(s * imgsz / stride + pad)) * stride; };
    r.shape.push_back({side(sh), side(sw)});
  }
  return r;
}

ValGeometry val_geometry(int src_w, int src_h, int imgsz, const std::array<int, 2>& batch_shape) {
  ValGeometry g;
  g.src_w = src_w, g.src_h = src_h;
  g.loaded_w = src_w, g.loaded_h = src_h;
  const double r = static_cast<double>(imgsz) / std::max(src_h, src_w);
  if (r != 1) {
    g.loaded_w = std::min(static_cast<int>(std::ceil(src_w * r)), imgsz);
    g.loaded_h = std::min(static_cast<int>(std::ceil(src_h * r)), imgsz);
  }
  g.lb = letterbox_params(g.loaded_w, g.loaded_h, batch_shape[0], batch_shape[1], false, 32, false);
  return g;
}

Image val_input(const Image& src, const ValGeometry& g) {
  Image loaded;
  const Image* im = &src;
  if (g.loaded_w != src.width || g.loaded_h != src.height) {
    loaded.width = g.loaded_w, loaded.height = g.loaded_h;
    loaded.rgb = resize_linear_u8(src.rgb.data(), src.width, src.height, g.loaded_w, g.loaded_h);
    im = &loaded;
  }
  Image out;
  out.width = g.lb.out_w(), out.height = g.lb.out_h();
  out.rgb = letterbox_u8(*im, g.lb);
  return out;
}

std::vector<Target> val_targets(const std::vector<LabelRow>& rows, const ValGeometry& g) {
  // Instances: xywh -> xyxy (normalised), denormalize by the loaded size, scale by the letterbox ratio,
  // add the padding; float32 as numpy holds them
  const float rx = static_cast<float>(letterbox_ratio(g)), ry = rx;
  const float lw = static_cast<float>(g.loaded_w), lh = static_cast<float>(g.loaded_h);
  std::vector<Target> out;
  for (const auto& r : rows) {
    Target t;
    t.cls = r.cls;
    t.box.x1 = (r.x - r.w / 2) * lw * rx + static_cast<float>(g.lb.left);
    t.box.y1 = (r.y - r.h / 2) * lh * ry + static_cast<float>(g.lb.top);
    t.box.x2 = (r.x + r.w / 2) * lw * rx + static_cast<float>(g.lb.left);
    t.box.y2 = (r.y + r.h / 2) * lh * ry + static_cast<float>(g.lb.top);
    out.push_back(t);
  }
  return out;
}

Box val_box_to_source(const Box& b, const ValGeometry& g) {
  // ratio_pad = ((loaded_h / h0 * r, loaded_w / w0 * r), (left, top)), r the letterbox's (1 unless it shrank)
  const double r = letterbox_ratio(g);
  const float gain_y = static_cast<float>(static_cast<double>(g.loaded_h) / g.src_h * r);
  const float gain_x = static_cast<float>(static_cast<double>(g.loaded_w) / g.src_w * r);
  const float px = static_cast<float>(g.lb.left), py = static_cast<float>(g.lb.top);
  const float mx = static_cast<float>(g.src_w), my = static_cast<float>(g.src_h);
  return {std::clamp((b.x1 - px) / gain_x, 0.0f, mx), std::clamp((b.y1 - py) / gain_y, 0.0f, my),
          std::clamp((b.x2 - px) / gain_x, 0.0f, mx), std::clamp((b.y2 - py) / gain_y, 0.0f, my)};
}

}  // namespace y26::runtime
