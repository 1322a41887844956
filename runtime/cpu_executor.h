// Runs a graph on the CPU reference kernels inside one arena laid out by a memory plan.
#pragma once

#include <vector>

#include "graph/ir.h"
#include "kernels/cpu/cpu_ops.h"
#include "memory/planner.h"

namespace y26::runtime {

class CpuExecutor {
 public:
  // round_fp16: store every activation rounded to FP16 (the GPU's storage precision).
  CpuExecutor(const graph::Graph& g, memory::Plan plan, kernels::cpu::ThreadPool& pool, bool round_fp16);

  const graph::Graph& graph() const { return g_; }
  const memory::Plan& plan() const { return plan_; }
  int batch() const { return plan_.batch; }
  bool round_fp16() const { return ctx_.round_fp16; }

  // A slice of the arena as a batched NHWC view.
  kernels::View<float> view(const graph::Slice& s) const;
  // Poisons the arena with NaN, so a kernel that skips an element is caught.
  void poison();
  // Runs every node in order (the input buffer must be filled first).
  void run();
  void run_node(size_t index);

 private:
  const graph::Graph& g_;
  memory::Plan plan_;
  mutable std::vector<float> arena_;
  kernels::cpu::Context ctx_;
};

}  // namespace y26::runtime
