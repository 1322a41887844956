// The engine options that reproduce one `yolo predict` run recorded by weights/make_goldens.py or
// make_task_goldens.py (its "args" and the head it ran), on the CPU in FP32 at 640.
#pragma once

#include <nlohmann/json.hpp>

#include "y26/y26.h"

namespace y26::test {

inline Options predict_run_options(const nlohmann::json& run) {
  Options o;
  o.device = "cpu";
  o.imgsz = 640;
  o.conf = run["args"]["conf"].get<float>();
  o.iou = run["args"]["iou"].get<float>();
  o.max_det = run["args"]["max_det"].get<int>();
  o.nms = run["head"] == "one2many";
  return o;
}

}  // namespace y26::test
