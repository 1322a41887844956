#include "runtime/cpu_executor.h"

#include <algorithm>
#include <limits>
#include <stdexcept>

namespace y26::runtime {

const char* cpu_kernels_name(CpuKernels k) { return k == CpuKernels::Fast ? "fast" : "reference"; }

CpuExecutor::CpuExecutor(const graph::Graph& g, memory::Plan plan, kernels::cpu::ThreadPool& pool, bool round_fp16,
                         CpuKernels kernels)
    : g_(g), plan_(std::move(plan)), arena_(static_cast<size_t>(plan_.arena)), ctx_{&pool, round_fp16}, kernels_(kernels) {
  namespace fast = kernels::cpu::fast;
  if (kernels_ != CpuKernels::Fast) return;
  if (round_fp16) throw std::logic_error("FP16 storage runs on the reference kernels only");
  const fast::Isa isa = fast::detect_isa();
  packed_.reserve(g_.conv_weights.size());
  for (const graph::ConvWeights& w : g_.conv_weights) packed_.push_back(fast::pack_conv(w.view(), isa));
  per_worker_ = fast_per_worker(g_);
  scratch_.assign(static_cast<size_t>(per_worker_) * pool.size(), 0.0f);
}

std::int64_t CpuExecutor::fast_per_worker(const graph::Graph& g) {
  namespace fast = kernels::cpu::fast;
  const fast::Isa isa = fast::detect_isa();
  std::int64_t floats = 0;
  for (const graph::Node& n : g.nodes) {
    if (n.kind == graph::OpKind::Conv) {
      const graph::ConvWeights& w = g.conv_weights[static_cast<size_t>(n.weights)];
      fast::PackedConv shape;  // the scratch depends on the shape and ISA only
      shape.isa = isa;
      shape.cin = w.cin;
      shape.kh = w.kh;
      shape.kw = w.kw;
      shape.groups = w.groups;
      floats = std::max(floats, fast::conv_scratch_floats(shape));
    } else if (n.kind == graph::OpKind::Attention) {
      floats = std::max(floats, fast::attention_scratch_floats(n.attention, n.inputs[0].h * n.inputs[0].w));
    }
  }
  return floats;
}

std::int64_t CpuExecutor::fast_weight_bytes(const graph::Graph& g) {
  std::int64_t bytes = 0;
  for (const graph::ConvWeights& w : g.conv_weights) bytes += kernels::cpu::fast::packed_bytes(w.view(), kernels::cpu::fast::detect_isa());
  return bytes;
}

std::int64_t CpuExecutor::fast_scratch_bytes(const graph::Graph& g, unsigned threads) {
  return fast_per_worker(g) * threads * 4;
}

std::int64_t CpuExecutor::packed_weight_bytes() const {
  std::int64_t bytes = 0;
  for (const auto& p : packed_) bytes += p.bytes();
  return bytes;
}

kernels::View<float> CpuExecutor::view(const graph::Slice& s) const {
  const graph::Buffer& b = g_.buffers.at(static_cast<size_t>(s.buffer));
  const memory::BufferPlan& bp = plan_.buffers.at(static_cast<size_t>(s.buffer));
  float* data = arena_.data() + bp.offset + static_cast<std::int64_t>(s.pixel0) * b.c + s.c0;
  return {data, plan_.batch, s.h, s.w, s.c, b.c, b.elements()};
}

void CpuExecutor::poison() { std::fill(arena_.begin(), arena_.end(), std::numeric_limits<float>::quiet_NaN()); }

void CpuExecutor::run_reference(const graph::Node& n) {
  namespace cpu = kernels::cpu;
  const auto out = view(n.output);
  switch (n.kind) {
    case graph::OpKind::Conv: {
      const auto res = n.residual ? view(*n.residual).as_const() : kernels::View<const float>{};
      cpu::conv2d(ctx_, view(n.inputs[0]).as_const(), out, g_.conv_weights[static_cast<size_t>(n.weights)].view(), n.conv,
                  n.residual ? &res : nullptr);
      break;
    }
    case graph::OpKind::MaxPool: cpu::max_pool2d(ctx_, view(n.inputs[0]).as_const(), out, n.pool); break;
    case graph::OpKind::Upsample: {
      const auto res = n.residual ? view(*n.residual).as_const() : kernels::View<const float>{};
      cpu::upsample_nearest2x(ctx_, view(n.inputs[0]).as_const(), out, n.residual ? &res : nullptr);
      break;
    }
    case graph::OpKind::DepthToSpace: cpu::depth_to_space2x(ctx_, view(n.inputs[0]).as_const(), out); break;
    case graph::OpKind::GlobalAvgPool: cpu::global_avg_pool(ctx_, view(n.inputs[0]).as_const(), out); break;
    case graph::OpKind::Attention:
      cpu::attention(ctx_, view(n.inputs[0]).as_const(), view(n.inputs[1]).as_const(), view(n.inputs[2]).as_const(), out,
                     n.attention);
      break;
  }
}

void CpuExecutor::run_fast(const graph::Node& n) {
  namespace fast = kernels::cpu::fast;
  const auto out = view(n.output);
  switch (n.kind) {
    case graph::OpKind::Conv: {
      const auto res = n.residual ? view(*n.residual).as_const() : kernels::View<const float>{};
      fast::conv2d(ctx_, view(n.inputs[0]).as_const(), out, packed_[static_cast<size_t>(n.weights)], n.conv,
                   n.residual ? &res : nullptr, scratch_.data(), per_worker_);
      break;
    }
    case graph::OpKind::MaxPool: fast::max_pool2d(ctx_, view(n.inputs[0]).as_const(), out, n.pool); break;
    case graph::OpKind::Upsample: {
      const auto res = n.residual ? view(*n.residual).as_const() : kernels::View<const float>{};
      fast::upsample_nearest2x(ctx_, view(n.inputs[0]).as_const(), out, n.residual ? &res : nullptr);
      break;
    }
    // a move of each pixel's channel groups: the reference kernel is as fast as a copy can be
    case graph::OpKind::DepthToSpace: kernels::cpu::depth_to_space2x(ctx_, view(n.inputs[0]).as_const(), out); break;
    // a few dozen pixels of one layer: the reference kernel (the fast set has none of its own)
    case graph::OpKind::GlobalAvgPool: kernels::cpu::global_avg_pool(ctx_, view(n.inputs[0]).as_const(), out); break;
    case graph::OpKind::Attention:
      fast::attention(ctx_, view(n.inputs[0]).as_const(), view(n.inputs[1]).as_const(), view(n.inputs[2]).as_const(), out,
                      n.attention, scratch_.data(), per_worker_);
      break;
  }
}

void CpuExecutor::run_node(size_t index) {
  const graph::Node& n = g_.nodes[index];
  if (kernels_ == CpuKernels::Fast) {
    run_fast(n);
  } else {
    run_reference(n);
  }
}

void CpuExecutor::run() {
  for (size_t i = 0; i < g_.nodes.size(); ++i) run_node(i);
}

}  // namespace y26::runtime
