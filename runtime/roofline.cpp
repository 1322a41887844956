// Roofline bounds of a y26 graph (runtime/roofline.h).
//
// FLOPs: 2 per multiply-add (Graph::flops' count, per node): convolutions, and attention's two matrix
// products. Pooling and upsampling count no FLOPs: their bound is their bytes. Bytes: what an op must
// read and write at least once — its input slices (FP16), weights (FP16) and bias (FP32) once per batch,
// its output (FP16) and residual (FP16) — as if every op ran from and to DRAM with perfect reuse on chip.
// Dense convolutions and attention run at the tensor cores' dense FP16 rate, depthwise convolutions at
// the FP16 rate off them. An op's bound is the largest of its compute time, its memory time and one
// kernel launch; the batch-1 latency bound is their sum (ops one after another), the throughput bound
// leaves the launch floor out (a large batch hides it).
#include "runtime/roofline.h"

#include <algorithm>

namespace y26 {

GpuLimits gpu_limits(const std::string& gpu) {
  // NVIDIA H100 Tensor Core GPU Architecture whitepaper (SXM5): 989.4 TFLOP/s dense FP16 tensor with FP32
  // accumulation, 133.8 TFLOP/s FP16 off the tensor cores, HBM3 3.35 TB/s. The H200 datasheet: the
  // H100's compute with HBM3e at 4.8 TB/s. Launch floor: a written default of 1.5 us per kernel in a
  // replayed graph until the GPU check measures it (bench/gpu-check.sh, probe).
  if (gpu == "h200") return {"NVIDIA H200", 989.4, 133.8, 4800, 1.5, "H200 datasheet (H100 SXM compute, HBM3e 4.8 TB/s)"};
  if (gpu == "h100") return {"NVIDIA H100 SXM", 989.4, 133.8, 3350, 1.5, "H100 whitepaper, SXM5 (HBM3 3.35 TB/s)"};
  throw Error("--gpu " + gpu + ": expected h200 or h100");
}

namespace runtime {
namespace {

double slice_bytes(const graph::Slice& s, int batch) { return 2.0 * batch * s.h * s.w * s.c; }

}  // namespace

RooflineReport roofline(const graph::Graph& g, int batch, const GpuLimits& gpu) {
  RooflineReport r;
  r.gpu = gpu;
  r.batch = batch;
  r.height = g.input_h;
  r.width = g.input_w;
  double throughput_ms = 0;
  for (const auto& n : g.nodes) {
    OpBound op;
    op.name = n.name;
    op.kind = graph::op_name(n.kind);
    const double pixels = static_cast<double>(n.output.h) * n.output.w * batch;
    bool tensor_cores = true;
    for (const auto& in : n.inputs) op.bytes += slice_bytes(in, batch);
    op.bytes += slice_bytes(n.output, batch);
    if (n.residual) op.bytes += slice_bytes(*n.residual, batch);
    if (n.kind == graph::OpKind::Conv) {
      const auto& w = g.conv_weights[static_cast<size_t>(n.weights)];
      op.flops = 2.0 * pixels * w.cout * w.kh * w.kw * (w.cin / w.groups);
      op.bytes += 2.0 * w.cout * w.kh * w.kw * (w.cin / w.groups) + 4.0 * w.cout;
      tensor_cores = w.groups == 1;
    } else if (n.kind == graph::OpKind::Attention) {
      const auto& a = n.attention;
      const double tokens = static_cast<double>(n.output.h) * n.output.w;
      op.flops = 2.0 * batch * tokens * tokens * a.heads * (a.key_dim + a.head_dim);
    }
    const double rate = (tensor_cores ? gpu.tensor_tflops : gpu.vector_tflops) * 1e12;
    op.compute_ms = op.flops / rate * 1e3;
    op.memory_ms = op.bytes / (gpu.bandwidth_gbs * 1e9) * 1e3;
    const double launch_ms = gpu.launch_us * 1e-3;
    op.bound_ms = std::max({op.compute_ms, op.memory_ms, launch_ms});
    op.limit = op.bound_ms == launch_ms ? "launch" : op.compute_ms >= op.memory_ms ? "compute" : "memory";
    r.flops += op.flops;
    r.bytes += op.bytes;
    r.latency_bound_ms += op.bound_ms;
    throughput_ms += std::max(op.compute_ms, op.memory_ms);
    r.ops.push_back(op);
  }
  r.throughput_bound_img_s = throughput_ms > 0 ? 1000.0 * batch / throughput_ms : 0;
  return r;
}

}  // namespace runtime
}  // namespace y26
