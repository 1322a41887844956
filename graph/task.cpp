#include "graph/task.h"

#include <algorithm>
#include <nlohmann/json.hpp>

namespace y26::graph {
namespace {

Task task_of_module(const std::string& m) {
  if (m == "Detect" || m == "v10Detect") return Task::Detect;
  if (m == "Segment" || m == "Segment26") return Task::Segment;
  if (m == "Pose" || m == "Pose26") return Task::Pose;
  if (m == "OBB" || m == "OBB26") return Task::Obb;
  if (m == "Classify") return Task::Classify;
  return Task::Unknown;  // YOLOE, World, RT-DETR, depth, semantic segmentation, ...
}

// The last layer of the state dict ("model.N." with the largest N).
int last_layer(const WeightMap& w) {
  int last = -1;
  for (const auto& [name, t] : w.tensors) {
    if (name.rfind("model.", 0) != 0) continue;
    int n = 0;
    size_t i = 6;
    for (; i < name.size() && name[i] >= '0' && name[i] <= '9' && n < 100000; ++i) n = n * 10 + (name[i] - '0');
    if (i > 6 && i < name.size() && name[i] == '.') last = std::max(last, n);
  }
  return last;
}

bool has_prefix(const WeightMap& w, const std::string& prefix) {
  const auto it = w.tensors.lower_bound(prefix);
  return it != w.tensors.end() && it->first.rfind(prefix, 0) == 0;
}

// The task the head's tensors show, with the Ultralytics class that has them.
HeadKind from_tensors(const WeightMap& w, const std::string& p) {
  const auto any = [&](const char* a, const char* b) { return has_prefix(w, p + a) || has_prefix(w, p + b); };
  if (has_prefix(w, p + ".linear.")) return {Task::Classify, "Classify", p};
  if (has_prefix(w, p + ".proto.")) return {Task::Segment, "Segment", p};
  if (any(".cv4_kpts.", ".one2one_cv4_kpts.")) return {Task::Pose, "Pose26", p};
  if (any(".cv4.", ".one2one_cv4.")) {
    // OBB's extra branch predicts one angle; the v8-style Pose head's predicts the keypoints
    for (const char* branch : {".cv4.0.2.weight", ".one2one_cv4.0.2.weight"}) {
      if (const Tensor* t = w.find(p + branch); t && !t->shape.empty()) {
        return t->shape[0] == 1 ? HeadKind{Task::Obb, "OBB", p} : HeadKind{Task::Pose, "Pose", p};
      }
    }
    return {Task::Unknown, "a head with an extra 'cv4' branch", p};
  }
  if (any(".cv2.", ".one2one_cv2.")) return {Task::Detect, "Detect", p};
  return {Task::Unknown, "", p};
}

}  // namespace

const char* task_name(Task t) {
  switch (t) {
    case Task::Detect: return "detect";
    case Task::Segment: return "segment";
    case Task::Pose: return "pose";
    case Task::Obb: return "obb";
    case Task::Classify: return "classify";
    case Task::Unknown: break;
  }
  return "unknown";
}

HeadKind head_kind(const WeightMap& w) {
  const int last = last_layer(w);
  const std::string p = last >= 0 ? "model." + std::to_string(last) : "";
  const HeadKind tensors = last >= 0 ? from_tensors(w, p) : HeadKind{};
  if (w.meta.yaml_json.empty()) return tensors;
  // The yaml names the head module. A module y26 does not know (YOLOE, World, RT-DETR, ...) is
  // refused whatever its tensors look like; where the tensors show another task than the yaml's (a
  // yaml edited by hand, a state dict from elsewhere), the tensors are what would run.
  try {
    const auto yaml = nlohmann::json::parse(w.meta.yaml_json);
    const auto& layers = yaml.contains("head") ? yaml.at("head") : yaml.at("backbone");
    const std::string module = layers.back().at(2).get<std::string>();
    const Task t = task_of_module(module);
    if (t == Task::Unknown) return {Task::Unknown, module, p};
    if (tensors.task == Task::Unknown || tensors.task == t) return {t, module, p};
    return {tensors.task, tensors.module + " (the yaml says " + module + ")", p};
  } catch (const std::exception&) {
    return tensors;  // no usable yaml: the tensors decide
  }
}

std::array<int, 2> kpt_shape(const WeightMap& w) {
  if (w.meta.yaml_json.empty()) return {0, 0};
  try {
    const auto s = nlohmann::json::parse(w.meta.yaml_json).at("kpt_shape");
    const int n = s.at(0).get<int>(), dim = s.at(1).get<int>();
    if (s.size() == 2 && n > 0 && n <= 1000 && (dim == 2 || dim == 3)) return {n, dim};
  } catch (const std::exception&) {
  }
  return {0, 0};
}

}  // namespace y26::graph
