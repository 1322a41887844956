#include "runtime/cuda_executor.h"

#include <cuda_runtime_api.h>
#include <nvtx3/nvToolsExt.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <cstring>

#include "common/half.h"
#include "kernels/cpu/thread_pool.h"
#include "kernels/cuda/weight_pack.h"
#include "y26/y26.h"

namespace y26::runtime {
Y26_CUDA_VARIANT_BEGIN
namespace {

namespace kc = kernels::cuda;

void check(cudaError_t e, const char* what) {
  if (e != cudaSuccess) throw Error(std::string("CUDA: ") + what + ": " + cudaGetErrorString(e));
}

std::size_t align256(std::size_t bytes) { return static_cast<std::size_t>(kc::align_device(static_cast<std::int64_t>(bytes))); }

// An NVTX range for the lifetime of a scope (shows up in Nsight Systems; free when no tool listens).
struct NvtxRange {
  explicit NvtxRange(const char* name) { nvtxRangePushA(name); }
  ~NvtxRange() { nvtxRangePop(); }
};

// memcpy in chunks of at least 256 KiB over the pool's threads: one thread copies ~10 GB/s, and a
// batch of 64 images at 640 is 79 MB.
void copy_to_pinned(std::uint8_t* dst, const std::uint8_t* src, std::size_t bytes, kernels::cpu::ThreadPool* pool) {
  constexpr std::size_t kChunk = 256 * 1024;
  const std::int64_t chunks =
      pool ? std::min<std::int64_t>(pool->size(), static_cast<std::int64_t>((bytes + kChunk - 1) / kChunk)) : 1;
  if (chunks <= 1) {
    std::memcpy(dst, src, bytes);
    return;
  }
  const std::size_t per = (bytes + static_cast<std::size_t>(chunks) - 1) / static_cast<std::size_t>(chunks);
  pool->parallel_for(chunks, [&](std::int64_t begin, std::int64_t end) {
    for (std::int64_t c = begin; c < end; ++c) {
      const std::size_t from = static_cast<std::size_t>(c) * per, to = std::min(bytes, from + per);
      if (from < to) std::memcpy(dst + from, src + from, to - from);
    }
  });
}

}  // namespace

DeviceWeights::DeviceWeights(const graph::Graph& g) {
  NvtxRange range("y26 upload weights");
  // All convolution weights (FP16, kernel layout) and biases (FP32) in one allocation.
  std::vector<std::vector<kc::half_bits>> packed;
  std::size_t total = 0;
  for (const auto& cw : g.conv_weights) {
    packed.push_back(kc::pack_conv_weights(cw.view()));
    total += static_cast<std::size_t>(kc::device_weight_bytes(cw.kh, cw.kw, cw.cin, cw.cout, cw.groups));
  }
  buffer_ = kc::DeviceBuffer(total);
  std::size_t offset = 0;
  for (size_t i = 0; i < g.conv_weights.size(); ++i) {
    const auto& cw = g.conv_weights[i];
    buffer_.upload(packed[i].data(), packed[i].size() * 2, offset);
    const auto* w = reinterpret_cast<const kc::half_bits*>(buffer_.as<char>() + offset);
    offset += align256(packed[i].size() * 2);
    buffer_.upload(cw.bias.data(), cw.bias.size() * 4, offset);
    const auto* b = reinterpret_cast<const float*>(buffer_.as<char>() + offset);
    offset += align256(cw.bias.size() * 4);
    conv_.push_back(
        {w, b, cw.cin, cw.cout, cw.kh, cw.kw, cw.groups, cw.groups > 1 ? 0 : kc::conv_k_padded(cw.kh, cw.kw, cw.cin)});
  }
  // cudaMemcpy from pageable memory may return before its DMA lands, on the legacy stream, which the
  // executors' non-blocking streams do not wait for: finish here.
  kc::synchronize();
}

CudaExecutor::CudaExecutor(const graph::Graph& g, memory::Plan plan, std::shared_ptr<const DeviceWeights> weights,
                           DeviceSelection sel, ConvKernels kernels)
    : g_(g), plan_(std::move(plan)), weights_(std::move(weights)), sel_(sel) {
  try {
    init(g, kernels);
  } catch (...) {
    release();  // the destructor does not run for a half-built object: free what init() got so far
    throw;
  }
}

void CudaExecutor::init(const graph::Graph& g, ConvKernels kernels) {
  const bool cudnn = kernels != ConvKernels::Y26;
  // Y26_CUDA_GRAPHS=0: launch every kernel on each run (per-layer NVTX ranges in Nsight; the tests compare
  // both ways), read per executor so that one process can run both.
  const char* graphs_env = std::getenv("Y26_CUDA_GRAPHS");
  graphs_ = graphs_env == nullptr || std::strcmp(graphs_env, "0") != 0;
  if (g.head.end2end) sel_.nms = false;
  else sel_.end2end_k = 0;
  layout_ = workspace_layout(g, plan_, sel_);
  arena_ = kc::DeviceBuffer(static_cast<std::size_t>(plan_.arena) * 2);
  arena_.fill(0xFF);  // FP16 NaN: a read of anything never written shows up in the outputs
  head_elems_ = static_cast<std::int64_t>(plan_.batch) * g.buffers[static_cast<size_t>(g.head.output)].elements();
  // workspace: the selection's scratch, the selected rows (and, for NMS, the counts), the split-K scratch
  if (layout_.total > 0) workspace_ = kc::DeviceBuffer(static_cast<size_t>(layout_.total));
  for (const SplitScratch& r : layout_.split) {  // by node
    char* base = workspace_.as<char>();
    if (r.partial_bytes == 0) {
      conv_scratch_.emplace_back();
      continue;
    }
    conv_scratch_.push_back({reinterpret_cast<float*>(base + r.partial_offset),
                             reinterpret_cast<unsigned*>(base + r.counters_offset), r.partial_bytes, r.counters_bytes});
    // zero once: each split convolution leaves its counters at zero when it finishes
    check(cudaMemset(base + r.counters_offset, 0, static_cast<size_t>(r.counters_bytes)), "cudaMemset");
  }
  if (!device_selection()) {
    check(cudaMallocHost(reinterpret_cast<void**>(&host_head_), static_cast<size_t>(head_elems_) * 2), "cudaMallocHost");
  } else {
    check(cudaMallocHost(reinterpret_cast<void**>(&host_selected_), static_cast<size_t>(plan_.batch) * selected_rows() * sel_.row_floats() * 4),
          "cudaMallocHost");
    check(cudaMallocHost(reinterpret_cast<void**>(&host_counts_), static_cast<size_t>(plan_.batch) * 4), "cudaMallocHost");
    check(cudaMallocHost(reinterpret_cast<void**>(&host_maps_), static_cast<size_t>(plan_.batch) * sizeof(kc::BoxMapping)),
          "cudaMallocHost");
  }
  cudaStream_t s = nullptr;
  check(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking), "cudaStreamCreate");
  stream_ = s;
  for (void** e : {&run_start_, &run_end_}) {
    cudaEvent_t ev = nullptr;
    check(cudaEventCreate(&ev), "cudaEventCreate");
    *e = ev;
  }
  concurrent_ = plan_.execution == memory::Execution::Concurrent && !cudnn;
  if (concurrent_) {
    auto event = [] {
      cudaEvent_t ev = nullptr;
      check(cudaEventCreateWithFlags(&ev, cudaEventDisableTiming), "cudaEventCreate");
      return static_cast<void*>(ev);
    };
    for (int k = 1; k < plan_.schedule.streams; ++k) {
      cudaStream_t side = nullptr;
      check(cudaStreamCreateWithFlags(&side, cudaStreamNonBlocking), "cudaStreamCreate");
      side_streams_.push_back(side);
      join_events_.push_back(event());
    }
    for (size_t i = 0; i < g.nodes.size(); ++i) node_events_.push_back(event());
    fork_event_ = event();
  }
  if (cudnn) {
    std::size_t ws = 0;
    cudnn_.resize(g.nodes.size());
    for (size_t i = 0; i < g.nodes.size(); ++i) {
      const graph::Node& n = g.nodes[i];
      if (n.kind != graph::OpKind::Conv) continue;
      const auto res = n.residual ? view(*n.residual).as_const() : kernels::View<const kc::half_bits>{};
      cudnn_[i] = std::make_unique<kc::CudnnConv>(g.conv_weights[static_cast<size_t>(n.weights)].view(), n.conv,
                                                  view(n.inputs[0]).as_const(), view(n.output), n.residual ? &res : nullptr,
                                                  weights_->conv(n.weights).bias,
                                                  kernels == ConvKernels::CudnnConvOnly ? kc::CudnnPath::ConvOnly : kc::CudnnPath::FusedGraph);
      ws = std::max(ws, cudnn_[i]->workspace_bytes());
    }
    cudnn_workspace_ = kc::DeviceBuffer(ws);
  }
  kc::synchronize();  // the poison fill and any uploads above ran on the legacy stream; ours does not wait for it
}

CudaExecutor::~CudaExecutor() { release(); }

void CudaExecutor::release() noexcept {
  if (graph_exec_) cudaGraphExecDestroy(static_cast<cudaGraphExec_t>(graph_exec_));
  for (void* e : {run_start_, run_end_, fork_event_})
    if (e) cudaEventDestroy(static_cast<cudaEvent_t>(e));
  for (const auto* events : {&node_events_, &join_events_})
    for (void* e : *events) cudaEventDestroy(static_cast<cudaEvent_t>(e));
  for (void* side : side_streams_) cudaStreamDestroy(static_cast<cudaStream_t>(side));
  if (stream_) cudaStreamDestroy(static_cast<cudaStream_t>(stream_));
  if (host_pixels_) cudaFreeHost(host_pixels_);
  if (host_head_) cudaFreeHost(host_head_);
  if (host_selected_) cudaFreeHost(host_selected_);
  if (host_counts_) cudaFreeHost(host_counts_);
  if (host_maps_) cudaFreeHost(host_maps_);
}

std::string CudaExecutor::launch_detail(size_t i) const {
  const graph::Node& n = g_.nodes[i];
  std::string d;
  if (concurrent_ && plan_.schedule.stream[i] != 0) d += ", stream " + std::to_string(plan_.schedule.stream[i]);
  if (n.kind != graph::OpKind::Conv) return d;
  if (!cudnn_.empty()) return d + ", cuDNN " + cudnn_[i]->path_name();
  const auto& w = weights_->conv(n.weights);
  if (w.groups > 1) return d;
  const auto out = view(n.output);
  const auto how = kc::choose_conv_launch(static_cast<long long>(out.n) * out.h * out.w, out.c, w.k_padded,
                                          conv_scratch_[i].partial ? &conv_scratch_[i] : nullptr);
  d += std::string(", tile ") + kc::conv_tile_name(how.tile);
  if (how.splits > 1) d += " split " + std::to_string(how.splits);
  return d;
}

std::vector<float> CudaExecutor::head_image(int image) const {
  const auto head = view(g_.whole(g_.head.output));
  const std::int64_t elems = head.image_stride;  // the head buffer is whole: rows of 4 + nc, contiguous
  std::vector<kc::half_bits> bits(static_cast<size_t>(elems));
  const auto offset = reinterpret_cast<const char*>(head.data + image * head.image_stride) - arena_.as<const char>();
  arena_.download(bits.data(), bits.size() * 2, static_cast<std::size_t>(offset));
  std::vector<float> rows(bits.size());
  for (size_t i = 0; i < bits.size(); ++i) rows[i] = half_to_float(bits[i]);
  return rows;
}

std::vector<float> CudaExecutor::mask_logits(const std::vector<kc::MaskRequest>& requests) const {
  if (g_.head.protos < 0) throw Error("mask_logits: the model has no mask prototypes (not a segmentation model)");
  const auto head = view(g_.whole(g_.head.output)).as_const();
  const auto protos = view(g_.whole(g_.head.protos)).as_const();
  const std::int64_t pixels = static_cast<std::int64_t>(protos.h) * protos.w;
  for (const auto& r : requests)
    if (r.image < 0 || r.image >= plan_.batch || r.anchor < 0 || r.anchor >= g_.head.anchors())
      throw Error("mask_logits: a request outside the batch or the head's anchors");
  std::vector<float> out(requests.size() * static_cast<size_t>(pixels));
  auto s = static_cast<cudaStream_t>(stream_);
  auto* dev_requests = reinterpret_cast<kc::MaskRequest*>(workspace_.as<char>() + layout_.mask_requests_offset);
  auto* dev_logits = reinterpret_cast<float*>(workspace_.as<char>() + layout_.mask_logits_offset);
  for (size_t i = 0; i < requests.size(); i += kc::kMaskChunk) {
    const int n = static_cast<int>(std::min<size_t>(kc::kMaskChunk, requests.size() - i));
    check(cudaMemcpyAsync(dev_requests, requests.data() + i, static_cast<size_t>(n) * sizeof(kc::MaskRequest),
                          cudaMemcpyHostToDevice, s), "cudaMemcpyAsync");
    kc::mask_logits(head, g_.head.extra_channel(), protos, dev_requests, n, dev_logits, s);
    check(cudaMemcpyAsync(out.data() + i * static_cast<size_t>(pixels), dev_logits, static_cast<size_t>(n * pixels) * 4,
                          cudaMemcpyDeviceToHost, s), "cudaMemcpyAsync");
    check(cudaStreamSynchronize(s), "cudaStreamSynchronize");  // before the next chunk reuses the requests
  }
  return out;
}

kernels::View<kc::half_bits> CudaExecutor::view(const graph::Slice& s) const {
  const graph::Buffer& b = g_.buffers.at(static_cast<size_t>(s.buffer));
  const memory::BufferPlan& bp = plan_.buffers.at(static_cast<size_t>(s.buffer));
  kc::half_bits* data = arena_.as<kc::half_bits>() + bp.offset + static_cast<std::int64_t>(s.pixel0) * b.c + s.c0;
  return {data, plan_.batch, s.h, s.w, s.c, b.c, b.elements()};
}

void CudaExecutor::letterbox_staged() {
  const auto in = view(g_.whole(g_.input));
  for (size_t i = 0; i < staged_.size(); ++i)
    kc::letterbox_to_input(staging_.as<std::uint8_t>() + staged_[i].offset, staged_[i].geometry, in, static_cast<int>(i), stream_);
}

std::vector<double> CudaExecutor::time_ops() {
  if (staged_.empty()) throw Error("time_ops: no images yet (run() first)");
  auto s = static_cast<cudaStream_t>(stream_);
  // Later ops reuse the input's bytes: without this the ops after the first would run on leftovers
  // (measured on the CPU: the ops' sum 1.22x a whole run instead of 1.05x).
  letterbox_staged();
  std::vector<cudaEvent_t> ev(g_.nodes.size() + 2);
  for (auto& e : ev) check(cudaEventCreate(&e), "cudaEventCreate");
  std::vector<double> ms;
  try {
    check(cudaEventRecord(ev[0], s), "cudaEventRecord");
    launch_nodes(false, [&](size_t i) { check(cudaEventRecord(ev[i + 1], s), "cudaEventRecord"); });
    check(cudaEventRecord(ev.back(), s), "cudaEventRecord");
    check(cudaEventSynchronize(ev.back()), "cudaEventSynchronize");
    for (size_t i = 0; i + 1 < ev.size(); ++i) {
      float t = 0;
      check(cudaEventElapsedTime(&t, ev[i], ev[i + 1]), "cudaEventElapsedTime");
      ms.push_back(t);
    }
  } catch (...) {
    for (auto& e : ev) cudaEventDestroy(e);
    throw;
  }
  for (auto& e : ev) cudaEventDestroy(e);
  return ms;
}

void* CudaExecutor::node_stream(size_t node, bool concurrent) const {
  const int k = concurrent ? plan_.schedule.stream[node] : 0;
  return k == 0 ? stream_ : side_streams_[static_cast<size_t>(k - 1)];
}

void CudaExecutor::launch_nodes(bool concurrent, const std::function<void(size_t)>& after_node) {
  concurrent = concurrent && concurrent_;
  auto main = static_cast<cudaStream_t>(stream_);
  if (concurrent) {  // fork: every side stream starts after what the main stream has so far
    check(cudaEventRecord(static_cast<cudaEvent_t>(fork_event_), main), "cudaEventRecord");
    for (void* side : side_streams_) {
      check(cudaStreamWaitEvent(static_cast<cudaStream_t>(side), static_cast<cudaEvent_t>(fork_event_), 0),
            "cudaStreamWaitEvent");
    }
  }
  for (size_t i = 0; i < g_.nodes.size(); ++i) {
    const graph::Node& n = g_.nodes[i];
    NvtxRange layer(n.name.c_str());  // recorded at capture, and on every run when graphs are off
    void* const stream = node_stream(i, concurrent);
    if (concurrent) {  // wait for the predecessors that ran on other streams
      for (int p : plan_.schedule.preds[i]) {
        if (plan_.schedule.stream[static_cast<size_t>(p)] == plan_.schedule.stream[i]) continue;
        check(cudaStreamWaitEvent(static_cast<cudaStream_t>(stream),
                                  static_cast<cudaEvent_t>(node_events_[static_cast<size_t>(p)]), 0),
              "cudaStreamWaitEvent");
      }
    }
    const auto out = view(n.output);
    switch (n.kind) {
      case graph::OpKind::Conv: {
        const auto res = n.residual ? view(*n.residual).as_const() : kernels::View<const kc::half_bits>{};
        if (!cudnn_.empty()) {
          cudnn_[i]->run(view(n.inputs[0]).as_const(), out, n.residual ? &res : nullptr, cudnn_workspace_.get(), stream);
          break;
        }
        kc::conv2d(view(n.inputs[0]).as_const(), out, weights_->conv(n.weights), n.conv, n.residual ? &res : nullptr, stream,
                   kc::ConvTile::Auto, conv_scratch_[i].partial ? &conv_scratch_[i] : nullptr);
        break;
      }
      case graph::OpKind::MaxPool: kc::max_pool2d(view(n.inputs[0]).as_const(), out, n.pool, stream); break;
      case graph::OpKind::Upsample: {
        const auto res = n.residual ? view(*n.residual).as_const() : kernels::View<const kc::half_bits>{};
        kc::upsample_nearest2x(view(n.inputs[0]).as_const(), out, stream, n.residual ? &res : nullptr);
        break;
      }
      case graph::OpKind::DepthToSpace: kc::depth_to_space2x(view(n.inputs[0]).as_const(), out, stream); break;
      case graph::OpKind::GlobalAvgPool: kc::global_avg_pool(view(n.inputs[0]).as_const(), out, stream); break;
      case graph::OpKind::Attention:
        kc::attention(view(n.inputs[0]).as_const(), view(n.inputs[1]).as_const(), view(n.inputs[2]).as_const(), out,
                      n.attention, stream);
        break;
    }
    if (concurrent)
      check(cudaEventRecord(static_cast<cudaEvent_t>(node_events_[i]), static_cast<cudaStream_t>(stream)),
            "cudaEventRecord");
    if (after_node) after_node(i);
  }
  if (concurrent) {  // join: the main stream continues after every side stream's last node
    for (size_t k = 0; k < side_streams_.size(); ++k) {
      check(cudaEventRecord(static_cast<cudaEvent_t>(join_events_[k]), static_cast<cudaStream_t>(side_streams_[k])),
            "cudaEventRecord");
      check(cudaStreamWaitEvent(main, static_cast<cudaEvent_t>(join_events_[k]), 0), "cudaStreamWaitEvent");
    }
  }
  if (device_selection()) {
    NvtxRange post(sel_.nms ? "y26 postprocess (NMS)" : "y26 postprocess (top-k)");
    const auto* head = view(g_.whole(g_.head.output)).data;
    const int anchors = g_.head.anchors(), nc = g_.head.nc, batch = plan_.batch;
    auto* rows = reinterpret_cast<float*>(workspace_.as<char>() + layout_.rows_offset);
    if (sel_.nms) {
      auto* counts = reinterpret_cast<int*>(workspace_.as<char>() + layout_.counts_offset);
      kc::select_nms(head, batch, anchors, nc, g_.head.row(), sel_.extras, head_levels(g_.head), sel_.conf, sel_.iou,
                     sel_.max_det, workspace_.get(), rows, counts, stream_);
    } else {
      kc::select_end2end(head, batch, anchors, nc, g_.head.row(), sel_.extras, sel_.end2end_k, head_levels(g_.head),
                         workspace_.get(), rows, stream_);
    }
    // to the original images' pixels, with this run's letterbox of each image (uploaded before the graph)
    kc::map_boxes(rows, batch, selected_rows(), sel_.row_floats(),
                  reinterpret_cast<const kc::BoxMapping*>(workspace_.as<char>() + layout_.maps_offset), stream_,
                  sel_.extras.angle >= 0, sel_.extras.kpt_channel >= 0 ? sel_.extras.kpt_n : 0, sel_.extras.kpt_dim);
  }
}

void CudaExecutor::run(const std::vector<const Image*>& images, const std::vector<Letterbox>& boxes,
                       kernels::cpu::ThreadPool* pool) {
  NvtxRange range("y26 run");
  const std::int64_t allocs_before = kc::device_allocations();
  auto s = static_cast<cudaStream_t>(stream_);
  {
    NvtxRange pre("y26 preprocess");
    std::size_t total = 0;
    for (const Image* im : images) total += im->rgb.size();
    if (total > host_pixels_size_) {  // grow (rarely): the previous run has finished, nothing uses them
      if (host_pixels_) cudaFreeHost(host_pixels_);
      host_pixels_ = nullptr;
      check(cudaMallocHost(reinterpret_cast<void**>(&host_pixels_), total), "cudaMallocHost");
      host_pixels_size_ = total;
      staging_ = kc::DeviceBuffer(total);
    }
    // Image by image: while the copy engine uploads image i and the GPU letterboxes it, the CPU copies
    // image i + 1 into pinned memory.
    const auto in = view(g_.whole(g_.input));
    std::size_t offset = 0;
    staged_.clear();
    for (size_t i = 0; i < images.size(); ++i) {
      const Image& im = *images[i];
      copy_to_pinned(host_pixels_ + offset, im.rgb.data(), im.rgb.size(), pool);
      // The device time starts with the first upload, not with the host's copy into pinned memory before it
      // (later images' host copies overlap the device's work on the earlier ones).
      if (i == 0) check(cudaEventRecord(static_cast<cudaEvent_t>(run_start_), s), "cudaEventRecord");
      check(cudaMemcpyAsync(staging_.as<std::uint8_t>() + offset, host_pixels_ + offset, im.rgb.size(),
                            cudaMemcpyHostToDevice, s),
            "upload images");
      const Letterbox& lb = boxes[i];
      staged_.push_back({offset, {lb.src_w, lb.src_h, lb.unpad_w, lb.unpad_h, lb.top, lb.left}});
      kc::letterbox_to_input(staging_.as<std::uint8_t>() + offset, staged_.back().geometry, in, static_cast<int>(i), stream_);
      offset += im.rgb.size();
    }
    if (device_selection()) {  // how the selected rows map back to each image
      for (size_t i = 0; i < images.size(); ++i) {
        host_maps_[i] = box_mapping(boxes[i].out_h(), boxes[i].out_w(), images[i]->height, images[i]->width);
      }
      check(cudaMemcpyAsync(workspace_.as<char>() + layout_.maps_offset, host_maps_, images.size() * sizeof(kc::BoxMapping),
                            cudaMemcpyHostToDevice, s),
            "upload box mappings");
    }
  }
  if (!graphs_) {
    launch_nodes(true);
  } else if (graph_exec_ == nullptr) {
    // The node sequence never changes for this shape and batch: capture it once, replay it after.
    cudaGraph_t graph = nullptr;
    check(cudaStreamBeginCapture(s, cudaStreamCaptureModeThreadLocal), "cudaStreamBeginCapture");
    std::string refused;
    try {
      launch_nodes(true);
    } catch (const std::exception& ex) {
      cudaStreamEndCapture(s, &graph);
      if (graph) cudaGraphDestroy(graph);
      if (cudnn_.empty()) throw;
      refused = ex.what();
      graph = nullptr;
    }
    cudaGraphExec_t exec = nullptr;
    if (refused.empty()) {
      cudaError_t e = cudaStreamEndCapture(s, &graph);
      if (e == cudaSuccess) {
        e = cudaGraphInstantiate(&exec, graph, 0);
        cudaGraphDestroy(graph);
      }
      if (e != cudaSuccess && cudnn_.empty()) check(e, "graph capture");
      if (e != cudaSuccess) refused = cudaGetErrorString(e);
    }
    if (refused.empty()) {
      graph_exec_ = exec;
    } else {
      // Some cuDNN engines cannot be captured: the baseline then runs op by op, and says so once
      cudaGetLastError();
      std::fprintf(stderr, "y26: cuDNN baseline: graph capture failed (%s); launching op by op\n", refused.c_str());
      graphs_ = false;
      launch_nodes(true);
    }
  }
  if (graphs_) check(cudaGraphLaunch(static_cast<cudaGraphExec_t>(graph_exec_), s), "cudaGraphLaunch");
  if (device_selection()) {
    const std::size_t row_bytes = static_cast<std::size_t>(plan_.batch) * selected_rows() * sel_.row_floats() * 4;
    check(cudaMemcpyAsync(host_selected_, workspace_.as<char>() + layout_.rows_offset, row_bytes, cudaMemcpyDeviceToHost, s),
          "download detections");
    if (sel_.nms) {
      check(cudaMemcpyAsync(host_counts_, workspace_.as<char>() + layout_.counts_offset,
                            static_cast<std::size_t>(plan_.batch) * 4, cudaMemcpyDeviceToHost, s),
            "download counts");
    }
  } else {
    const auto head = view(g_.whole(g_.head.output));
    check(cudaMemcpyAsync(host_head_, head.data, static_cast<size_t>(head_elems_) * 2, cudaMemcpyDeviceToHost, s),
          "download head");
  }
  check(cudaEventRecord(static_cast<cudaEvent_t>(run_end_), s), "cudaEventRecord");
  check(cudaStreamSynchronize(s), "y26 run");
  float ms = 0;
  check(cudaEventElapsedTime(&ms, static_cast<cudaEvent_t>(run_start_), static_cast<cudaEvent_t>(run_end_)),
        "cudaEventElapsedTime");
  last_device_ms_ = ms;
  allocs_in_run_ = kc::device_allocations() - allocs_before;
}

Y26_CUDA_VARIANT_END
}  // namespace y26::runtime
