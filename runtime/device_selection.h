// The CUDA backend's workspace: which post-processing runs on the GPU, the split-K scratch of the
// convolutions, and how the one workspace allocation is laid out. Plain arithmetic (no CUDA
// headers), so plans in CPU-only builds report the same bytes the CUDA backend allocates, and the
// executor, the engine and the tests share one definition of the layout.
#pragma once

#include <algorithm>
#include <cstdint>

#include "graph/ir.h"
#include "kernels/cuda/cuda_ops.h"

namespace y26::runtime {

struct DeviceSelection {
  int end2end_k = 0;  // > 0: top-k with this many candidates (end-to-end head)
  bool nms = false;   // one-to-many head: NMS on the device
  float conf = 0.25f, iou = 0.7f;
  int max_det = 300;
  bool any() const { return end2end_k > 0 || nms; }
  int rows() const { return nms ? max_det : end2end_k; }  // result rows per image
};

// What runs on the device for this head and these options (nothing when it would not fit).
inline DeviceSelection choose_device_selection(const graph::Head& head, float conf, float iou, int max_det) {
  DeviceSelection s;
  const int k = std::min(std::max(max_det, 300), head.anchors());  // the predictor's max(max_det, 300) candidates
  if (head.end2end && k <= kernels::cuda::kTopKMax) s.end2end_k = k;
  s.nms = !head.end2end && max_det <= 4096;
  s.conf = conf, s.iou = iou, s.max_det = max_det;
  return s;
}

// Workspace: [selection scratch | batch x rows x 6 result floats | batch counts (NMS) |
//             split-K partials | split-K counters], each part 256-byte aligned.
struct WorkspaceLayout {
  std::int64_t rows_offset = 0, counts_offset = 0;
  std::int64_t split_offset = 0, split_bytes = 0, counters_offset = 0, counters_bytes = 0;
  std::int64_t total = 0;
};

inline WorkspaceLayout workspace_layout(const graph::Graph& g, int batch, const DeviceSelection& s) {
  namespace kc = kernels::cuda;
  WorkspaceLayout l;
  if (s.any()) {
    const auto& head = g.head;
    l.rows_offset = s.end2end_k > 0 ? kc::end2end_workspace_bytes(batch, head.anchors(), head.nc, s.end2end_k)
                                    : kc::nms_workspace_bytes(batch, head.anchors());
    l.counts_offset = l.rows_offset + kc::align_device(static_cast<std::int64_t>(batch) * s.rows() * 6 * 4);
    l.split_offset = l.counts_offset + (s.nms ? kc::align_device(static_cast<std::int64_t>(batch) * 4) : 0);
  }
  // split-K: partials sized for the largest split layer, counters for the most tiles of any split layer
  std::int64_t partial = 0, tiles = 0;
  for (const auto& n : g.nodes) {
    if (n.kind != graph::OpKind::Conv) continue;
    const auto& w = g.conv_weights[static_cast<size_t>(n.weights)];
    if (w.groups > 1) continue;
    const auto sp = kc::conv_split(static_cast<std::int64_t>(batch) * n.output.h * n.output.w, w.cout,
                                   kc::conv_k_padded(w.kh, w.kw, w.cin));
    partial = std::max(partial, sp.partial_bytes());
    tiles = std::max(tiles, sp.counter_bytes() / 4);
  }
  l.split_bytes = kc::align_device(partial);
  l.counters_offset = l.split_offset + l.split_bytes;
  l.counters_bytes = kc::align_device(tiles * 4);
  l.total = l.counters_offset + l.counters_bytes;
  return l;
}

// The head's levels as the device post-processing kernels take them.
inline kernels::cuda::HeadLevels head_levels(const graph::Head& head) {
  kernels::cuda::HeadLevels lv;
  lv.count = static_cast<int>(std::min<size_t>(head.levels.size(), 4));
  for (int l = 0; l < lv.count; ++l) {
    const auto& hl = head.levels[static_cast<size_t>(l)];
    lv.w[l] = hl.w, lv.anchor_offset[l] = hl.anchor_offset, lv.stride[l] = hl.stride;
  }
  return lv;
}

}  // namespace y26::runtime
