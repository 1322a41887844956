// Detection metrics as Ultralytics computes them (ultralytics 8.4.190: DetectionValidator.match_predictions,
// utils/metrics.py ap_per_class, compute_ap, DetMetrics), so that `y26 val` reports the numbers `yolo val`
// reports: per class and overall precision and recall at the confidence of the best mean F1, mAP50 and
// mAP50-95 (IoU 0.50:0.95 in steps of 0.05, greedy matching by confidence, 101-point interpolated AP).
//
// Arithmetic follows Ultralytics' where it decides an outcome: IoU in FP32 with eps 1e-7 against FP32
// thresholds made as torch.linspace makes them; curves, interpolation and trapezoids in FP64 as numpy's.
// One documented difference: predictions of equal confidence keep their order (a stable sort), where
// numpy's argsort leaves them in an unspecified one.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

namespace y26::runtime {

constexpr int kIouThresholds = 10;
// 0.50, 0.55, ..., 0.95 as torch.linspace(0.5, 0.95, 10) makes them in FP32.
const std::array<float, kIouThresholds>& iou_thresholds();

struct Box {
  float x1 = 0, y1 = 0, x2 = 0, y2 = 0;
};
float box_iou(const Box& a, const Box& b);  // box_iou's arithmetic, eps 1e-7

struct Prediction {
  Box box;
  float conf = 0;
  int cls = 0;
};
struct Target {
  Box box;
  int cls = 0;
};

// Which predictions of one image are true positives at each threshold (predictions in descending
// confidence order, as the validator receives them): match_predictions without scipy.
std::vector<std::array<bool, kIouThresholds>> match_predictions(const std::vector<Prediction>& preds,
                                                                 const std::vector<Target>& targets);

// The statistics of a whole split, image by image, then the metrics.
class DetMetrics {
 public:
  explicit DetMetrics(int nc) : nc_(nc) {}
  // One image: its predictions (any order; sorted here by confidence, stably) and its labels.
  void add_image(std::vector<Prediction> preds, const std::vector<Target>& targets);

  struct ClassResult {
    int cls = 0;
    int images = 0, instances = 0;  // images with this class among their labels, and its labels
    double precision = 0, recall = 0, ap50 = 0, ap50_95 = 0;
  };
  struct Result {
    int images = 0, instances = 0;
    double precision = 0, recall = 0, map50 = 0, map50_95 = 0;  // means over the classes with labels
    std::vector<ClassResult> classes;                            // the classes with labels, ascending
    std::vector<double> maps;  // per class id (nc): its mAP50-95, the overall one where it has no labels
  };
  Result compute() const;

 private:
  int nc_;
  int images_ = 0;
  std::vector<std::array<bool, kIouThresholds>> tp_;
  std::vector<float> conf_;
  std::vector<int> pred_cls_, target_cls_;
  std::vector<int> images_per_class_;
};

// compute_ap: AP from one recall/precision curve (101-point interpolation, trapezoids).
double compute_ap(const std::vector<double>& recall, const std::vector<double>& precision);

}  // namespace y26::runtime
