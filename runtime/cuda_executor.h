// Runs a graph on the CUDA FP16 kernels: weights uploaded once (one device
// allocation, kernel layout), one arena laid out by the same memory plan as the
// CPU backend, one stream, and the node sequence captured once as a CUDA graph
// and replayed. No device allocation happens in run().
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "graph/ir.h"
#include "kernels/cuda/cuda_ops.h"
#include "kernels/cuda/device_memory.h"
#include "memory/planner.h"

namespace y26::runtime {

class CudaExecutor {
 public:
  CudaExecutor(const graph::Graph& g, memory::Plan plan);
  ~CudaExecutor();
  CudaExecutor(const CudaExecutor&) = delete;
  CudaExecutor& operator=(const CudaExecutor&) = delete;

  const graph::Graph& graph() const { return g_; }
  const memory::Plan& plan() const { return plan_; }
  kernels::View<kernels::cuda::half_bits> view(const graph::Slice& s) const;

  // Host staging (pinned): the input buffer (batch x h x w x 3 FP16) and the head output.
  kernels::cuda::half_bits* host_input() { return host_in_; }
  const kernels::cuda::half_bits* host_head() const { return host_head_; }
  std::int64_t input_elements() const { return in_elems_; }
  std::int64_t head_elements() const { return head_elems_; }

  // Upload the staged input, replay the graph, download the head; returns when the head is on the host.
  void run();
  // Device bytes this executor holds (weights + arena), counted at allocation.
  std::int64_t device_bytes() const { return weights_.size() + arena_.size(); }
  // cudaMalloc calls made by the last run() (always 0: asserted by the [cuda] tests).
  std::int64_t allocations_in_last_run() const { return allocs_in_run_; }

 private:
  void launch_nodes();

  const graph::Graph& g_;
  memory::Plan plan_;
  kernels::cuda::DeviceBuffer weights_, arena_;
  std::vector<kernels::cuda::DeviceConvWeights> conv_;
  void* stream_ = nullptr;      // cudaStream_t
  void* graph_exec_ = nullptr;  // cudaGraphExec_t, captured on the first run
  kernels::cuda::half_bits* host_in_ = nullptr;
  kernels::cuda::half_bits* host_head_ = nullptr;
  std::int64_t in_elems_ = 0, head_elems_ = 0, allocs_in_run_ = 0;
};

}  // namespace y26::runtime
