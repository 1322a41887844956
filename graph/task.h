// Which YOLO task a checkpoint's head is for, read from the checkpoint itself — the model yaml's
// head module where the file carries the yaml, and the head's tensors (a Segment head has a
// prototype branch, a Pose head keypoint convs, an OBB head an angle branch, a classifier a
// linear layer) — never from the file's name. The detection graph refuses every other task with
// this, instead of running its detection part and returning boxes without masks, keypoints or
// angles.
#pragma once

#include <array>
#include <string>

#include "graph/ir.h"
#include "loader/weight_map.h"

namespace y26::graph {

struct HeadKind {
  Task task = Task::Unknown;
  std::string module;  // the head module: the yaml's name ("Segment26") or what the tensors show ("Segment")
  std::string layer;   // its state-dict prefix, e.g. "model.23" ("" when no head was found)
};

HeadKind head_kind(const WeightMap& w);

// A pose model's kpt_shape as its yaml says ([17, 3]: x, y and a visibility logit per keypoint); {0, 0}
// when the file carries no yaml or the yaml no usable kpt_shape.
std::array<int, 2> kpt_shape(const WeightMap& w);

}  // namespace y26::graph
