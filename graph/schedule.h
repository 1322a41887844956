// Which nodes of a graph must run in order, from the slices they read and write, and a
// mapping of nodes onto a few CUDA streams that lets independent branches (the detection
// head's box and class chains of each level, the P3 head beside the rest of the neck) run
// at the same time inside one CUDA graph.
#pragma once

#include <cstdint>
#include <vector>

#include "graph/ir.h"

namespace y26::graph {

struct Schedule {
  // preds[i]: the nodes node i must wait for directly (read-after-write, write-after-read and
  // write-after-write on overlapping slices), all with smaller indices.
  std::vector<std::vector<int>> preds;
  // Node j precedes node i in every execution that respects preds (transitively).
  bool precedes(int j, int i) const { return (ancestors[static_cast<size_t>(i)][static_cast<size_t>(j) / 64] >> (j % 64)) & 1; }
  std::vector<std::vector<std::uint64_t>> ancestors;  // bitsets over node indices

  // Stream of each node (0: the stream the run starts and ends on) and how many are used. A node
  // continues the stream of a direct predecessor when it is that stream's latest node.
  std::vector<int> stream;
  int streams = 1;
};

// Streams exist only while a CUDA graph is captured (the replayed graph keeps just the dependencies);
// more streams mean fewer orderings added beyond the dependencies.
inline constexpr int kMaxStreams = 8;

Schedule schedule(const Graph& g);

// Two slices share elements (same buffer, overlapping channels and pixels).
bool slices_overlap(const Slice& a, const Slice& b);

}  // namespace y26::graph
