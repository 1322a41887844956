// The CUDA backend's workspace: which post-processing runs on the GPU, the split-K scratch of the
// convolutions, and how the one workspace allocation is laid out. Plain arithmetic (no CUDA
// headers), so plans in CPU-only builds report the same bytes the CUDA backend allocates, and the
// executor, the engine and the tests share one definition of the layout.
#pragma once

#include <algorithm>
#include <climits>
#include <cstdlib>
#include <string>
#include <cstdint>
#include <vector>

#include "graph/ir.h"
#include "graph/schedule.h"
#include "kernels/cuda/cuda_ops.h"
#include "memory/planner.h"

namespace y26::runtime {

// At small batch one branch of the network cannot fill the GPU, so the executor runs independent
// branches (graph/schedule.h) on several streams and plans memory for that; larger batches run in
// graph order on one stream with the smaller sequential plan.
// Y26_GPU_BRANCHES=0 runs every batch in graph order (plan and executor alike): a switch for bisecting.
inline constexpr int kConcurrentMaxBatch = 4;
inline bool gpu_branches_enabled() {
  static const bool on = [] {
    const char* e = std::getenv("Y26_GPU_BRANCHES");
    return e == nullptr || std::string(e) != "0";
  }();
  return on;
}
inline memory::Execution gpu_execution(int batch) {
  return batch <= kConcurrentMaxBatch && gpu_branches_enabled() ? memory::Execution::Concurrent
                                                                 : memory::Execution::Sequential;
}
inline memory::Plan gpu_plan(const graph::Graph& g, int batch) {
  return memory::plan_memory(g, batch, memory::Strategy::GreedyBySize, gpu_execution(batch));
}

struct DeviceSelection {
  int end2end_k = 0;  // > 0: top-k with this many candidates (end-to-end head)
  bool nms = false;   // one-to-many head: NMS on the device
  float conf = 0.25f, iou = 0.7f;
  int max_det = 300;
  kernels::cuda::HeadExtras extras;  // an OBB head's angle or a pose head's keypoints, carried into the rows
  bool any() const { return end2end_k > 0 || nms; }
  int rows() const { return nms ? max_det : end2end_k; }  // result rows per image
  int row_floats() const { return extras.row_floats(); }  // floats per result row
};

// What runs on the device for this head and these options (nothing when it would not fit). An
// oriented-box head's rows carry the angle (its NMS: probabilistic IoU, fast NMS), a pose head's its
// keypoints (a classifier's logits go to the host).
inline DeviceSelection choose_device_selection(const graph::Head& head, float conf, float iou, int max_det) {
  DeviceSelection s;
  const bool obb = head.task == graph::Task::Obb, pose = head.task == graph::Task::Pose;
  if (head.task != graph::Task::Detect && !obb && !pose) return s;
  const int k = std::min(std::max(max_det, 300), head.anchors());  // the predictor's max(max_det, 300) candidates
  if (head.end2end && k <= kernels::cuda::kTopKMax) s.end2end_k = k;
  s.nms = !head.end2end && max_det <= 4096;
  if (obb) s.extras.angle = head.extra_channel();
  if (pose) s.extras.kpt_channel = head.extra_channel(), s.extras.kpt_n = head.kpt_n, s.extras.kpt_dim = head.kpt_dim;
  s.conf = conf, s.iou = iou, s.max_det = max_det;
  return s;
}

// Workspace: [selection scratch | batch x rows x 6 result floats | batch counts (NMS) | batch box mappings |
//             mask requests and logits (a segmentation head) | split-K counters, one run per split convolution |
//             split-K partials], each 256-byte aligned.
// Partials of two split convolutions share memory unless they may run at the same time (different
// branches of the schedule, at small batch); counters are never shared, because a convolution relies
// on finding its counters at zero, as the previous run left them.
struct SplitScratch {
  std::int64_t partial_offset = 0, partial_bytes = 0;  // partial_bytes 0: the node does not split
  std::int64_t counters_offset = 0, counters_bytes = 0;
};
struct WorkspaceLayout {
  std::int64_t rows_offset = 0, counts_offset = 0;
  std::int64_t maps_offset = 0;  // batch BoxMappings: the selected rows are mapped to original pixels on the device
  // A segmentation head: kMaskChunk mask requests and their logits (kernels::cuda::mask_logits); -1: none
  std::int64_t mask_requests_offset = -1, mask_logits_offset = -1;
  std::vector<SplitScratch> split;  // by node
  std::int64_t total = 0;
};

// For the plan the executor runs: its batch, and (Concurrent) the dependencies it runs the graph by.
inline WorkspaceLayout workspace_layout(const graph::Graph& g, const memory::Plan& plan, const DeviceSelection& s) {
  const int batch = plan.batch;
  namespace kc = kernels::cuda;
  WorkspaceLayout l;
  std::int64_t end = 0;
  if (s.any()) {
    const auto& head = g.head;
    l.rows_offset = s.end2end_k > 0 ? kc::end2end_workspace_bytes(batch, head.anchors(), head.nc, s.end2end_k)
                                    : kc::nms_workspace_bytes(batch, head.anchors(), s.extras.angle >= 0);
    l.counts_offset = l.rows_offset + kc::align_device(static_cast<std::int64_t>(batch) * s.rows() * s.row_floats() * 4);
    l.maps_offset = l.counts_offset + (s.nms ? kc::align_device(static_cast<std::int64_t>(batch) * 4) : 0);
    end = l.maps_offset + kc::align_device(static_cast<std::int64_t>(batch) * static_cast<std::int64_t>(sizeof(kc::BoxMapping)));
  }
  if (g.head.protos >= 0) {  // a segmentation head's masks, kMaskChunk detections at a time
    const auto& pb = g.buffers[static_cast<size_t>(g.head.protos)];
    l.mask_requests_offset = end;
    l.mask_logits_offset = end + kc::align_device(kc::kMaskChunk * static_cast<std::int64_t>(sizeof(kc::MaskRequest)));
    end = l.mask_logits_offset + kc::align_device(kc::kMaskChunk * static_cast<std::int64_t>(pb.h) * pb.w * 4);
  }
  l.split.resize(g.nodes.size());
  std::vector<size_t> split_nodes;
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    const auto& n = g.nodes[i];
    if (n.kind != graph::OpKind::Conv) continue;
    const auto& w = g.conv_weights[static_cast<size_t>(n.weights)];
    if (w.groups > 1) continue;
    const auto sp = kc::conv_split(static_cast<std::int64_t>(batch) * n.output.h * n.output.w, w.cout,
                                   kc::conv_k_padded(w.kh, w.kw, w.cin));
    if (sp.splits <= 1) continue;
    split_nodes.push_back(i);
    l.split[i].partial_bytes = kc::align_device(sp.partial_bytes());
    l.split[i].counters_bytes = kc::align_device(sp.counter_bytes());
    l.split[i].counters_offset = end;
    end += l.split[i].counters_bytes;
  }
  // Partials: best fit, largest first, apart from those of convolutions that may run concurrently.
  const bool concurrent = plan.execution == memory::Execution::Concurrent;
  const graph::Schedule& sched = plan.schedule;
  auto may_overlap_in_time = [&](size_t a, size_t b) {
    const int x = static_cast<int>(a), y = static_cast<int>(b);
    return concurrent && !sched.precedes(x, y) && !sched.precedes(y, x);
  };
  std::stable_sort(split_nodes.begin(), split_nodes.end(),
                   [&](size_t a, size_t b) { return l.split[a].partial_bytes > l.split[b].partial_bytes; });
  std::int64_t partial_end = 0;
  std::vector<size_t> placed;
  for (size_t i : split_nodes) {
    std::vector<std::pair<std::int64_t, std::int64_t>> busy;
    for (size_t o : placed)
      if (may_overlap_in_time(i, o))
        busy.emplace_back(l.split[o].partial_offset, l.split[o].partial_offset + l.split[o].partial_bytes);
    std::sort(busy.begin(), busy.end());
    std::int64_t cursor = 0, best = -1, best_gap = INT64_MAX;
    for (const auto& [b0, b1] : busy) {
      if (b0 - cursor >= l.split[i].partial_bytes && b0 - cursor < best_gap) best = cursor, best_gap = b0 - cursor;
      cursor = std::max(cursor, b1);
    }
    l.split[i].partial_offset = best >= 0 ? best : cursor;  // relative for now
    partial_end = std::max(partial_end, l.split[i].partial_offset + l.split[i].partial_bytes);
    placed.push_back(i);
  }
  for (size_t i : split_nodes) l.split[i].partial_offset += end;
  l.total = end + partial_end;
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
