#include "graph/ir.h"

namespace y26::graph {

const char* op_name(OpKind k) {
  switch (k) {
    case OpKind::Conv: return "Conv";
    case OpKind::MaxPool: return "MaxPool";
    case OpKind::Upsample: return "Upsample";
    case OpKind::Attention: return "Attention";
    case OpKind::GlobalAvgPool: return "GlobalAvgPool";
    case OpKind::DepthToSpace: return "DepthToSpace";
  }
  return "?";
}

std::string describe(const Graph& g, const Node& n) {
  const std::string out = std::to_string(n.output.h) + "x" + std::to_string(n.output.w) + "x" + std::to_string(n.output.c);
  switch (n.kind) {
    case OpKind::Conv: {
      const auto& w = g.conv_weights.at(static_cast<size_t>(n.weights));
      std::string d = std::to_string(w.kh) + "x" + std::to_string(w.kw) + "/" + std::to_string(n.conv.stride) + " ";
      d += w.groups > 1 ? "depthwise " + std::to_string(w.cout) : std::to_string(w.cin) + "->" + std::to_string(w.cout);
      if (n.conv.act == kernels::Activation::SiLU) d += " SiLU";
      if (n.residual) d += " +res";
      return d + ", " + out;
    }
    case OpKind::MaxPool:
      return std::to_string(n.pool.k) + "x" + std::to_string(n.pool.k) + "/" + std::to_string(n.pool.stride) + ", " + out;
    case OpKind::Upsample: return std::string("nearest 2x") + (n.residual ? " +res" : "") + ", " + out;
    case OpKind::DepthToSpace: return "2x2 sub-pixels, " + out;
    case OpKind::GlobalAvgPool:
      return "mean of " + std::to_string(n.inputs.at(0).h) + "x" + std::to_string(n.inputs.at(0).w) + ", " + out;
    case OpKind::Attention:
      return std::to_string(n.attention.heads) + " heads " + std::to_string(n.attention.key_dim) + "/" +
             std::to_string(n.attention.head_dim) + ", " + std::to_string(n.output.h * n.output.w) + " tokens";
  }
  return out;
}

int Head::anchors() const {
  int a = 0;
  for (const auto& l : levels) a += l.h * l.w;
  return a;
}

int Graph::add_buffer(std::string name, int h, int w, int c) {
  buffers.push_back({std::move(name), h, w, c});
  return static_cast<int>(buffers.size()) - 1;
}

Slice Graph::whole(int buffer) const {
  const Buffer& b = buffers.at(static_cast<size_t>(buffer));
  return {buffer, 0, b.c, 0, b.h, b.w};
}

Slice Graph::channels(int buffer, int c0, int c) const {
  Slice s = whole(buffer);
  s.c0 = c0;
  s.c = c;
  return s;
}

std::int64_t Graph::parameter_count() const {
  std::int64_t n = 0;
  for (const auto& w : conv_weights) n += static_cast<std::int64_t>(w.w.size() + w.bias.size());
  return n;
}

double Graph::flops() const {
  double f = 0;
  for (const auto& node : nodes) {
    const double pixels = static_cast<double>(node.output.h) * node.output.w;
    if (node.kind == OpKind::Conv) {
      const auto& w = conv_weights[static_cast<size_t>(node.weights)];
      f += 2.0 * pixels * w.cout * w.kh * w.kw * (w.cin / w.groups);
    } else if (node.kind == OpKind::Attention) {
      const auto& a = node.attention;
      f += 2.0 * pixels * pixels * a.heads * (a.key_dim + a.head_dim);
    }
  }
  return f;
}

}  // namespace y26::graph
