// The YOLO26 graph builder: structure derived from tensor shapes, and clear errors
// naming the tensor when a checkpoint is missing one or is inconsistent.
#include <catch2/catch.hpp>

#include "graph/yolo26.h"
#include "loader/weight_map.h"
#include "tests/support/fixtures.h"
#include "y26/y26.h"

using namespace y26;

namespace {
std::string build_error(const WeightMap& w, graph::BuildOptions o = {}) {
  try {
    graph::build_yolo26(w, o);
  } catch (const Error& e) {
    return e.what();
  }
  FAIL("no error");
  return {};
}
}  // namespace

TEST_CASE("yolo26n's graph: shapes, parameters and FLOPs as Ultralytics counts them", "[graph]") {
  const WeightMap w = load_weights(test::fixture("yolo26n-rand.pt"));
  const graph::Graph g = graph::build_yolo26(w, {640, 640, true});
  CHECK(g.parameter_count() == 2408932);          // Ultralytics' fused summary: 2,408,932 parameters
  CHECK(g.flops() / 1e9 == Approx(5.48).epsilon(0.01));  // and 5.5 GFLOPs
  auto shape = [&](int layer) {
    const auto& s = *g.layer_outputs.at(static_cast<size_t>(layer));
    return std::vector<int>{s.h, s.w, s.c};
  };
  CHECK(shape(0) == std::vector<int>{320, 320, 16});
  CHECK(shape(9) == std::vector<int>{20, 20, 256});
  CHECK(shape(12) == std::vector<int>{40, 40, 384});  // concat of upsampled layer 10 and layer 6
  CHECK(shape(16) == std::vector<int>{80, 80, 64});
  CHECK(shape(22) == std::vector<int>{20, 20, 256});
  CHECK(g.head.anchors() == 8400);
  CHECK(g.head.nc == 80);
  CHECK(g.head.end2end);
  // what per-op timings call each node
  auto describe = [&](const std::string& name) {
    for (const auto& n : g.nodes)
      if (n.name == name) return graph::describe(g, n);
    return std::string("no node ") + name;
  };
  CHECK(describe("model.0") == "3x3/2 3->16 SiLU, 320x320x16");
  CHECK(describe("model.2.m.0.cv2") == "3x3/1 8->16 SiLU +res, 160x160x16");  // the bottleneck back to 16, + shortcut
  CHECK(describe("model.10.m.0.attn") == "2 heads 32/64, 400 tokens");
  CHECK(describe("model.9.m") == "5x5/1, 20x20x128");
  CHECK(describe("model.23.one2one_cv3.0.0.0") == "3x3/1 depthwise 64 SiLU, 80x80x64");
  REQUIRE(g.head.levels.size() == 3);
  CHECK(g.head.levels[2].stride == 32.0f);
  int attention = 0;
  for (const auto& n : g.nodes) {
    if (n.kind != graph::OpKind::Attention) continue;
    ++attention;
    CHECK(n.attention.heads == 2);  // c = 128: max(128 // 64, 1)
    CHECK(n.attention.key_dim == 32);
    CHECK(n.attention.head_dim == 64);
  }
  CHECK(attention == 2);  // C2PSA (layer 10) and the attention C3k2 (layer 22)
  // a rectangular input gives rectangular levels
  const graph::Graph r = graph::build_yolo26(w, {480, 640, false});
  CHECK(r.head.anchors() == 60 * 80 + 30 * 40 + 15 * 20);
  CHECK_FALSE(r.head.end2end);
}

TEST_CASE("the thin 5-class model's graph comes from its own shapes", "[graph]") {
  const WeightMap w = load_weights(test::fixture("yolo26l-thin-nc5-rand.pt"));
  const graph::Graph g = graph::build_yolo26(w, {640, 640, true});
  CHECK(g.head.nc == 5);
  CHECK(g.layer_outputs[2]->c == 80);
  int attention = 0;
  for (const auto& n : g.nodes) attention += n.kind == graph::OpKind::Attention && n.attention.heads == 1 && n.attention.head_dim == 80;
  CHECK(attention == 3);  // depth 1.0: two PSA blocks in layer 10 (C2PSA n=2), one in layer 22 (repeats 1 in the yaml)
}

TEST_CASE("missing and inconsistent tensors are named", "[graph][bad]") {
  const WeightMap good = load_weights(test::fixture("yolo26n-rand.pt"));
  {
    WeightMap w = good;
    w.tensors.erase("model.6.cv2.conv.weight");
    CHECK(build_error(w).find("'model.6.cv2.conv.weight'") != std::string::npos);
  }
  {
    WeightMap w = good;
    w.tensors.erase("model.8.m.0.cv1.bn.running_var");
    CHECK(build_error(w).find("'model.8.m.0.cv1.bn.running_var' is missing") != std::string::npos);
  }
  {
    WeightMap w = good;  // a BatchNorm of the wrong width
    w.tensors["model.4.cv1.bn.bias"].shape = {7};
    w.tensors["model.4.cv1.bn.bias"].bytes.resize(14);
    CHECK(build_error(w).find("'model.4.cv1.bn.bias' has shape [7]") != std::string::npos);
  }
  {
    WeightMap w = good;  // a conv expecting more input channels than its producer makes
    Tensor& t = w.tensors["model.5.conv.weight"];
    t.shape[1] = 96;
    t.bytes.resize(static_cast<size_t>(t.numel()) * 2);
    CHECK(build_error(w).find("model.5.conv.weight") != std::string::npos);
  }
  {
    WeightMap w = good;  // a head with a different class count per level
    Tensor& t = w.tensors["model.23.one2one_cv3.1.2.weight"];
    t.shape[0] = 79;
    t.bytes.resize(static_cast<size_t>(t.numel()) * 2);
    CHECK(build_error(w).find("model.23.one2one_cv3.1.2") != std::string::npos);
  }
  {
    WeightMap w = good;
    w.tensors.erase("model.23.cv2.0.2.weight");
    w.tensors.erase("model.23.one2one_cv2.0.2.weight");
    CHECK(build_error(w).find("not a YOLO26 detection model") != std::string::npos);
  }
  CHECK(build_error(good, {600, 640, true}).find("not a positive multiple of 32") != std::string::npos);
}
