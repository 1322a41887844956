// Runs a graph on the CPU inside one arena laid out by a memory plan, with one of two
// kernel sets: the reference kernels (bit-exact, the oracle for the CUDA kernels, and the
// only set with FP16 storage) or the fast ones (kernels/cpu/fast: FMA and vector code for
// this CPU's ISA, weights packed once here, every kernel's scratch allocated here too, so
// run() allocates nothing).
#pragma once

#include <vector>

#include "graph/ir.h"
#include "kernels/cpu/cpu_ops.h"
#include "kernels/cpu/fast/fast_ops.h"
#include "memory/planner.h"

namespace y26::runtime {

enum class CpuKernels { Reference, Fast };
const char* cpu_kernels_name(CpuKernels k);  // "reference", "fast"

class CpuExecutor {
 public:
  // round_fp16: store every activation rounded to FP16 (the GPU's storage precision); reference only.
  CpuExecutor(const graph::Graph& g, memory::Plan plan, kernels::cpu::ThreadPool& pool, bool round_fp16,
              CpuKernels kernels = CpuKernels::Reference);

  const graph::Graph& graph() const { return g_; }
  const memory::Plan& plan() const { return plan_; }
  int batch() const { return plan_.batch; }
  bool round_fp16() const { return ctx_.round_fp16; }
  CpuKernels kernels() const { return kernels_; }
  // Bytes beyond the arena: the fast set's packed weights and per-thread scratch (0 for the reference).
  std::int64_t packed_weight_bytes() const;
  std::int64_t scratch_bytes() const { return static_cast<std::int64_t>(scratch_.size()) * 4; }

  // What a fast executor for g adds beyond the arena: packed weights, and scratch per pool thread.
  static std::int64_t fast_weight_bytes(const graph::Graph& g);
  static std::int64_t fast_scratch_bytes(const graph::Graph& g, unsigned threads);

  // A slice of the arena as a batched NHWC view.
  kernels::View<float> view(const graph::Slice& s) const;
  // Poisons the arena with NaN, so a kernel that skips an element is caught.
  void poison();
  // Runs every node in order (the input buffer must be filled first).
  void run();
  void run_node(size_t index);

 private:
  static std::int64_t fast_per_worker(const graph::Graph& g);
  void run_reference(const graph::Node& n);
  void run_fast(const graph::Node& n);

  const graph::Graph& g_;
  memory::Plan plan_;
  mutable std::vector<float> arena_;
  kernels::cpu::Context ctx_;
  CpuKernels kernels_;
  std::vector<kernels::cpu::fast::PackedConv> packed_;  // per Graph::conv_weights entry (fast)
  std::vector<float> scratch_;                          // pool size x per_worker_ floats (fast)
  std::int64_t per_worker_ = 0;
};

}  // namespace y26::runtime
