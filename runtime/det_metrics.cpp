// Ultralytics' detection metrics (runtime/det_metrics.h), function by function.
#include "runtime/det_metrics.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <set>

namespace y26::runtime {
namespace {

// numpy.interp for increasing xp (duplicates allowed): the last xp[j] <= x, linear between j and j + 1.
double interp(double x, const std::vector<double>& xp, const std::vector<double>& fp, double left, double right) {
  const size_t n = xp.size();
  if (n == 0) return left;
  if (x < xp[0]) return left;
  if (x > xp[n - 1]) return right;
  if (x == xp[n - 1]) return fp[n - 1];
  const size_t j = static_cast<size_t>(std::upper_bound(xp.begin(), xp.end(), x) - xp.begin()) - 1;
  const double slope = (fp[j + 1] - fp[j]) / (xp[j + 1] - xp[j]);
  double y = slope * (x - xp[j]) + fp[j];
  if (std::isnan(y)) {
    y = slope * (x - xp[j + 1]) + fp[j + 1];
    if (std::isnan(y) && fp[j] == fp[j + 1]) y = fp[j];
  }
  return y;
}

// numpy.linspace(0, 1, n): i * step, the last exactly 1
std::vector<double> linspace01(int n) {
  std::vector<double> x(static_cast<size_t>(n));
  const double step = 1.0 / (n - 1);
  for (int i = 0; i < n; ++i) x[static_cast<size_t>(i)] = i * step;
  x.back() = 1.0;
  return x;
}

double trapezoid(const std::vector<double>& y, const std::vector<double>& x) {
  double s = 0;
  for (size_t i = 0; i + 1 < x.size(); ++i) s += (x[i + 1] - x[i]) * (y[i + 1] + y[i]) / 2.0;
  return s;
}

// utils/metrics.py smooth(y, f): a box filter of round(len * f * 2) // 2 + 1 taps, edges padded with the ends
std::vector<double> smooth(const std::vector<double>& y, double f) {
  const int nf = static_cast<int>(std::nearbyint(static_cast<double>(y.size()) * f * 2)) / 2 + 1;
  const int half = nf / 2;
  std::vector<double> padded(static_cast<size_t>(half), y.front());
  padded.insert(padded.end(), y.begin(), y.end());
  padded.insert(padded.end(), static_cast<size_t>(half), y.back());
  std::vector<double> out(y.size());
  for (size_t i = 0; i < y.size(); ++i) {
    double s = 0;
    for (int k = 0; k < nf; ++k) s += padded[i + static_cast<size_t>(k)] * (1.0 / nf);
    out[i] = s;
  }
  return out;
}

}  // namespace

const std::array<float, kIouThresholds>& iou_thresholds() {
  // torch.linspace(0.5, 0.95, 10), FP32: start + step * i below half way, end - step * (steps - 1 - i) above
  static const std::array<float, kIouThresholds> t = [] {
    std::array<float, kIouThresholds> v{};
    const float start = 0.5f, end = 0.95f, step = (end - start) / static_cast<float>(kIouThresholds - 1);
    for (int i = 0; i < kIouThresholds; ++i)
      v[static_cast<size_t>(i)] = i < kIouThresholds / 2 ? start + step * static_cast<float>(i)
                                                         : end - step * static_cast<float>(kIouThresholds - 1 - i);
    return v;
  }();
  return t;
}

float box_iou(const Box& a, const Box& b) {
  const float iw = std::max(0.0f, std::min(a.x2, b.x2) - std::max(a.x1, b.x1));
  const float ih = std::max(0.0f, std::min(a.y2, b.y2) - std::max(a.y1, b.y1));
  const float inter = iw * ih;
  return inter / ((a.x2 - a.x1) * (a.y2 - a.y1) + (b.x2 - b.x1) * (b.y2 - b.y1) - inter + 1e-7f);
}

std::vector<std::array<bool, kIouThresholds>> match_predictions(const std::vector<Prediction>& preds,
                                                                 const std::vector<Target>& targets) {
  const auto& th = iou_thresholds();
  std::vector<std::array<bool, kIouThresholds>> correct(preds.size(), std::array<bool, kIouThresholds>{});
  if (preds.empty() || targets.empty()) return correct;
  const size_t m = targets.size();
  // IoU of each target with each prediction, 0 where the classes differ
  std::vector<float> iou(m * preds.size());
  for (size_t t = 0; t < m; ++t)
    for (size_t j = 0; j < preds.size(); ++j)
      iou[t * preds.size() + j] = targets[t].cls == preds[j].cls ? box_iou(targets[t].box, preds[j].box) : 0.0f;
  std::vector<std::array<bool, kIouThresholds>> matched(m, std::array<bool, kIouThresholds>{});
  for (size_t j = 0; j < preds.size(); ++j) {  // in descending confidence: the first to claim a target keeps it
    bool any = false;
    for (size_t t = 0; t < m && !any; ++t) any = iou[t * preds.size() + j] >= th[0];
    if (!any) continue;
    for (int k = 0; k < kIouThresholds; ++k) {
      size_t best = 0;
      float best_iou = -1;
      for (size_t t = 0; t < m; ++t) {  // argmax: the first of equal values
        const float v = matched[t][static_cast<size_t>(k)] ? 0.0f : iou[t * preds.size() + j];
        if (v > best_iou) best_iou = v, best = t;
      }
      correct[j][static_cast<size_t>(k)] = best_iou >= th[static_cast<size_t>(k)];
      matched[best][static_cast<size_t>(k)] = matched[best][static_cast<size_t>(k)] || correct[j][static_cast<size_t>(k)];
    }
  }
  return correct;
}

double compute_ap(const std::vector<double>& recall, const std::vector<double>& precision) {
  std::vector<double> mrec = {0.0}, mpre = {1.0};
  mrec.insert(mrec.end(), recall.begin(), recall.end());
  mpre.insert(mpre.end(), precision.begin(), precision.end());
  mrec.push_back(recall.empty() ? 1.0 : recall.back());
  mrec.push_back(1.0);
  mpre.push_back(0.0);
  mpre.push_back(0.0);
  for (size_t i = mpre.size() - 1; i-- > 0;) mpre[i] = std::max(mpre[i], mpre[i + 1]);  // the precision envelope
  static const std::vector<double> x = linspace01(101);
  std::vector<double> y(x.size());
  for (size_t i = 0; i < x.size(); ++i) y[i] = interp(x[i], mrec, mpre, mpre.front(), mpre.back());
  return trapezoid(y, x);
}

void DetMetrics::add_image(std::vector<Prediction> preds, const std::vector<Target>& targets) {
  std::stable_sort(preds.begin(), preds.end(), [](const Prediction& a, const Prediction& b) { return a.conf > b.conf; });
  const auto tp = match_predictions(preds, targets);
  tp_.insert(tp_.end(), tp.begin(), tp.end());
  for (const auto& p : preds) {
    conf_.push_back(p.conf);
    pred_cls_.push_back(p.cls);
  }
  std::set<int> present;
  for (const auto& t : targets) {
    target_cls_.push_back(t.cls);
    present.insert(t.cls);
  }
  if (images_per_class_.size() < static_cast<size_t>(nc_)) images_per_class_.resize(static_cast<size_t>(nc_), 0);
  for (int c : present)
    if (c >= 0 && c < nc_) ++images_per_class_[static_cast<size_t>(c)];
  ++images_;
}

DetMetrics::Result DetMetrics::compute() const {
  Result r;
  r.images = images_;
  r.instances = static_cast<int>(target_cls_.size());
  // predictions by descending confidence over the whole split (stable: image order, then each image's order)
  std::vector<size_t> order(conf_.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return conf_[a] > conf_[b]; });
  std::set<int> classes(target_cls_.begin(), target_cls_.end());
  const std::vector<double> x = linspace01(1000);
  const double eps = 1e-16;
  std::vector<std::vector<double>> p_curve, r_curve;
  std::vector<std::array<double, kIouThresholds>> ap;
  std::vector<int> counts;
  for (int c : classes) {
    const int n_l = static_cast<int>(std::count(target_cls_.begin(), target_cls_.end(), c));
    counts.push_back(n_l);
    std::vector<double> pc(x.size(), 0.0), rc(x.size(), 0.0);
    std::array<double, kIouThresholds> apc{};
    std::vector<size_t> mine;
    for (size_t i : order)
      if (pred_cls_[i] == c) mine.push_back(i);
    if (!mine.empty() && n_l > 0) {
      std::vector<double> neg_conf;
      for (size_t i : mine) neg_conf.push_back(-static_cast<double>(conf_[i]));
      std::array<std::vector<double>, kIouThresholds> recall, precision;
      for (int k = 0; k < kIouThresholds; ++k) {
        double tpc = 0, fpc = 0;
        for (size_t i : mine) {
          const bool t = tp_[i][static_cast<size_t>(k)];
          tpc += t ? 1 : 0;
          fpc += t ? 0 : 1;
          recall[static_cast<size_t>(k)].push_back(tpc / (n_l + eps));
          precision[static_cast<size_t>(k)].push_back(tpc / (tpc + fpc));
        }
        apc[static_cast<size_t>(k)] = compute_ap(recall[static_cast<size_t>(k)], precision[static_cast<size_t>(k)]);
      }
      for (size_t i = 0; i < x.size(); ++i) {
        rc[i] = interp(-x[i], neg_conf, recall[0], 0.0, recall[0].back());
        pc[i] = interp(-x[i], neg_conf, precision[0], 1.0, precision[0].back());
      }
    }
    p_curve.push_back(pc);
    r_curve.push_back(rc);
    ap.push_back(apc);
  }
  const size_t nc = classes.size();
  size_t best = 0;
  if (nc > 0) {  // the confidence of the best mean F1 (smoothed)
    std::vector<double> f1_mean(x.size(), 0.0);
    for (size_t i = 0; i < x.size(); ++i) {
      double s = 0;
      for (size_t c = 0; c < nc; ++c) s += 2 * p_curve[c][i] * r_curve[c][i] / (p_curve[c][i] + r_curve[c][i] + eps);
      f1_mean[i] = s / static_cast<double>(nc);
    }
    const auto smoothed = smooth(f1_mean, 0.1);
    best = static_cast<size_t>(std::max_element(smoothed.begin(), smoothed.end()) - smoothed.begin());
  }
  double sp = 0, sr = 0, s50 = 0, sall = 0;
  size_t ci = 0;
  for (int c : classes) {
    ClassResult cr;
    cr.cls = c;
    cr.instances = counts[ci];
    cr.images = c >= 0 && c < static_cast<int>(images_per_class_.size()) ? images_per_class_[static_cast<size_t>(c)] : 0;
    cr.precision = p_curve[ci][best];
    cr.recall = r_curve[ci][best];
    cr.ap50 = ap[ci][0];
    double s = 0;
    for (double v : ap[ci]) s += v;
    cr.ap50_95 = s / kIouThresholds;
    sp += cr.precision, sr += cr.recall, s50 += cr.ap50, sall += s;
    r.classes.push_back(cr);
    ++ci;
  }
  if (nc > 0) {
    r.precision = sp / static_cast<double>(nc);
    r.recall = sr / static_cast<double>(nc);
    r.map50 = s50 / static_cast<double>(nc);
    r.map50_95 = sall / static_cast<double>(nc * kIouThresholds);
  }
  r.maps.assign(static_cast<size_t>(nc_), r.map50_95);
  for (const auto& cr : r.classes)
    if (cr.cls >= 0 && cr.cls < nc_) r.maps[static_cast<size_t>(cr.cls)] = cr.ap50_95;
  return r;
}

}  // namespace y26::runtime
