// Builds the YOLO26 detection graph from a WeightMap. Channel counts, repeats,
// block types (Bottleneck, C3k, attention), attention heads, the head's classes
// and levels all come from tensor names and shapes, so width/depth-scaled,
// channel-pruned and custom-class models load; a missing or inconsistent
// tensor is a y26::Error naming it.
#pragma once

#include "graph/ir.h"
#include "loader/weight_map.h"

namespace y26::graph {

struct BuildOptions {
  int height = 640, width = 640;  // network input; multiples of 32
  bool end2end = true;            // one-to-one head + top-k; false: one-to-many head + NMS
};

Graph build_yolo26(const WeightMap& weights, const BuildOptions& options);

// The largest stride of the network: input sizes must be multiples of it.
inline constexpr int kMaxStride = 32;

}  // namespace y26::graph
