#include "runtime/cpu_executor.h"

#include <limits>

namespace y26::runtime {

CpuExecutor::CpuExecutor(const graph::Graph& g, memory::Plan plan, kernels::cpu::ThreadPool& pool, bool round_fp16)
    : g_(g), plan_(std::move(plan)), arena_(static_cast<size_t>(plan_.arena)), ctx_{&pool, round_fp16} {}

kernels::View<float> CpuExecutor::view(const graph::Slice& s) const {
  const graph::Buffer& b = g_.buffers.at(static_cast<size_t>(s.buffer));
  const memory::BufferPlan& bp = plan_.buffers.at(static_cast<size_t>(s.buffer));
  float* data = arena_.data() + bp.offset + static_cast<std::int64_t>(s.pixel0) * b.c + s.c0;
  return {data, plan_.batch, s.h, s.w, s.c, b.c, b.elements()};
}

void CpuExecutor::poison() { std::fill(arena_.begin(), arena_.end(), std::numeric_limits<float>::quiet_NaN()); }

void CpuExecutor::run_node(size_t index) {
  namespace cpu = kernels::cpu;
  const graph::Node& n = g_.nodes[index];
  const auto out = view(n.output);
  switch (n.kind) {
    case graph::OpKind::Conv: {
      const auto res = n.residual ? view(*n.residual).as_const() : kernels::View<const float>{};
      cpu::conv2d(ctx_, view(n.inputs[0]).as_const(), out, g_.conv_weights[static_cast<size_t>(n.weights)].view(), n.conv,
                  n.residual ? &res : nullptr);
      break;
    }
    case graph::OpKind::MaxPool: cpu::max_pool2d(ctx_, view(n.inputs[0]).as_const(), out, n.pool); break;
    case graph::OpKind::Upsample: cpu::upsample_nearest2x(ctx_, view(n.inputs[0]).as_const(), out); break;
    case graph::OpKind::Attention:
      cpu::attention(ctx_, view(n.inputs[0]).as_const(), view(n.inputs[1]).as_const(), view(n.inputs[2]).as_const(), out,
                     n.attention);
      break;
  }
}

void CpuExecutor::run() {
  for (size_t i = 0; i < g_.nodes.size(); ++i) run_node(i);
}

}  // namespace y26::runtime
