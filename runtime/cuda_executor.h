// Runs a graph on the CUDA FP16 kernels: weights uploaded once (one device
// allocation, kernel layout), one arena laid out by the same memory plan as the
// CPU backend, one stream, and the node sequence captured once as a CUDA graph
// and replayed. No device allocation happens in run().
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "graph/ir.h"
#include "kernels/cuda/conv2d_cudnn.h"
#include "kernels/cuda/cuda_ops.h"
#include "kernels/cuda/device_memory.h"
#include "memory/planner.h"
#include "runtime/device_selection.h"
#include "runtime/gpu_backend.h"
#include "runtime/letterbox.h"

namespace y26::kernels::cpu {
class ThreadPool;
}

namespace y26::runtime {
Y26_CUDA_VARIANT_BEGIN

// The folded convolution weights on the device (FP16 in kernel layout, FP32 bias), uploaded once
// per model and shared by every executor (input shape, batch) and every Engine::share() of it.
class DeviceWeights final : public GpuWeights {
 public:
  explicit DeviceWeights(const graph::Graph& g);
  const kernels::cuda::DeviceConvWeights& conv(int index) const { return conv_[static_cast<size_t>(index)]; }
  std::int64_t bytes() const override { return static_cast<std::int64_t>(buffer_.size()); }

 private:
  kernels::cuda::DeviceBuffer buffer_;
  std::vector<kernels::cuda::DeviceConvWeights> conv_;
};

class CudaExecutor final : public GpuExecutor {
 public:
  // sel: post-processing on the device (runtime/device_selection.h); run() then brings back decoded
  // rows instead of the whole head. kernels: whose convolutions (ConvKernels::Cudnn*: every convolution through
  // cuDNN, the vendor baseline of `--kernels cudnn`, on one stream: a cuDNN handle serves one stream at a time).
  CudaExecutor(const graph::Graph& g, memory::Plan plan, std::shared_ptr<const DeviceWeights> weights, DeviceSelection sel,
               ConvKernels kernels = ConvKernels::Y26);
  ~CudaExecutor() override;
  CudaExecutor(const CudaExecutor&) = delete;
  CudaExecutor& operator=(const CudaExecutor&) = delete;

  const graph::Graph& graph() const { return g_; }
  const memory::Plan& plan() const { return plan_; }
  kernels::View<kernels::cuda::half_bits> view(const graph::Slice& s) const;

  // Image `image`'s head rows of the last run(), as floats (anchors x (4 + nc); a synchronous download:
  // for the rare image whose device selection must be redone on the host).
  std::vector<float> head_image(int image) const override;
  // The head output of the last run() (pinned host memory, FP16), when selection runs on the host (else null).
  const kernels::cuda::half_bits* host_head() const override { return host_head_; }
  std::int64_t head_elements() const override { return head_elems_; }
  // With device selection: per image `selected_rows()` rows of [x1, y1, x2, y2, score, class] in the
  // original image's pixels, best first (pinned); with NMS, `host_counts()[image]` of them are detections.
  // An OBB head's rows: [cx, cy, w, h, score, class, angle].
  const float* host_selected() const override { return host_selected_; }
  int selected_rows() const override { return sel_.rows(); }
  int selected_row_floats() const override { return sel_.row_floats(); }
  const int* host_counts() const override { return host_counts_; }
  // A segmentation head: the mask logits of the last run()'s detections `requests` (image, anchor), each
  // protos.h x protos.w FP32 values, request after request (kernels::cuda::mask_logits, synchronous).
  std::vector<float> mask_logits(const std::vector<kernels::cuda::MaskRequest>& requests) const override;
  bool device_selection() const override { return sel_.any(); }
  bool nms_selection() const override { return sel_.nms; }

  // One run: the images' 8-bit RGB pixels go to the device through pinned staging, are
  // letterboxed there into the input buffer, the graph is replayed and the head comes back.
  // The staging buffers grow only when a call brings more pixels than any before. `pool` (optional)
  // shares the host copies into pinned memory (1.2 MB per 640x640 image, 79 MB at batch 64).
  void run(const std::vector<const Image*>& images, const std::vector<Letterbox>& boxes,
           kernels::cpu::ThreadPool* pool = nullptr) override;
  // Per-op device time (ms) of one run launched op by op, CUDA events around each, on the images of
  // the previous run(): their pixels are letterboxed into the input buffer again first (untimed), because
  // the memory plan lets later ops reuse the input's bytes. Last entry: the device post-processing.
  std::vector<double> time_ops() override;

  // Device bytes this executor holds (arena and workspaces; the shared weights are not counted here).
  std::int64_t device_bytes() const override {
    std::int64_t n = static_cast<std::int64_t>(arena_.size() + workspace_.size() + cudnn_workspace_.size());
    for (const auto& c : cudnn_) n += c ? static_cast<std::int64_t>(c->weight_bytes()) : 0;
    return n;
  }
  // How node i's kernel is launched, for per-op timings: ", tile 64x64", ", tile 32x32 split 3", ", cuDNN", ...
  std::string launch_detail(size_t i) const override;
  // Device time of the last run(), from the first image's upload (after its host copy into pinned memory)
  // to the end of the last download (CUDA events on the stream).
  double last_device_ms() const override { return last_device_ms_; }
  // cudaMalloc calls made by the last run() (always 0: asserted by the [cuda] tests).
  std::int64_t allocations_in_last_run() const { return allocs_in_run_; }

 private:
  // Launches every op (and the device post-processing); after_node(i) runs after op i's launch.
  // concurrent: independent branches on the schedule's streams, forked from and joined back into the
  // main stream (only with a plan made for concurrent execution); else everything in graph order on it.
  void launch_nodes(bool concurrent, const std::function<void(size_t)>& after_node = {});
  void* node_stream(size_t node, bool concurrent) const;
  void init(const graph::Graph& g, ConvKernels kernels);  // the constructor's work; on a throw, release() frees what it got
  void release() noexcept;                       // frees the streams, events, graph and pinned buffers

  const graph::Graph& g_;
  memory::Plan plan_;
  std::shared_ptr<const DeviceWeights> weights_;
  kernels::cuda::DeviceBuffer arena_, workspace_, staging_;
  DeviceSelection sel_;
  WorkspaceLayout layout_;
  std::vector<kernels::cuda::ConvScratch> conv_scratch_;  // split-K scratch by node, inside workspace_
  std::vector<std::unique_ptr<kernels::cuda::CudnnConv>> cudnn_;  // by node index, when running the cuDNN baseline
  kernels::cuda::DeviceBuffer cudnn_workspace_;
  float* host_selected_ = nullptr;
  int* host_counts_ = nullptr;
  kernels::cuda::BoxMapping* host_maps_ = nullptr;  // pinned, batch of them
  // The last run's letterbox of each image from staging_ (byte offset, geometry): time_ops() refills the input
  struct StagedImage {
    std::size_t offset;
    kernels::cuda::LetterboxGeometry geometry;
  };
  std::vector<StagedImage> staged_;
  void letterbox_staged();  // the input buffer from staging_, per staged_
  void* stream_ = nullptr;      // cudaStream_t
  void* graph_exec_ = nullptr;  // cudaGraphExec_t, captured on the first run
  bool graphs_ = true;          // capture and replay (else launch kernel by kernel: Y26_CUDA_GRAPHS=0)
  std::uint8_t* host_pixels_ = nullptr;  // pinned, host_pixels_size_ bytes
  std::size_t host_pixels_size_ = 0;
  kernels::cuda::half_bits* host_head_ = nullptr;
  std::int64_t head_elems_ = 0, allocs_in_run_ = 0;
  void *run_start_ = nullptr, *run_end_ = nullptr;  // cudaEvent_t around each run()
  // Concurrent branches (plan_.execution == Concurrent and not the cuDNN baseline, whose one workspace
  // serialises it), run by plan_.schedule: its streams 1.., an event per node, fork and join events.
  bool concurrent_ = false;
  std::vector<void*> side_streams_, node_events_, join_events_;
  void* fork_event_ = nullptr;
  double last_device_ms_ = 0;
};

// This variant's backend for the Engine (runtime/cuda_backend.cpp).
const GpuBackend& backend();

Y26_CUDA_VARIANT_END
}  // namespace y26::runtime
