// The memory planner: safe (brute-force verified), near the lower bound, far
// below one-buffer-per-tensor, and exact for a hand-made graph.
#include <catch2/catch.hpp>

#include "graph/yolo26.h"
#include "loader/weight_map.h"
#include "memory/planner.h"
#include "tests/support/fixtures.h"

using namespace y26;

TEST_CASE("planned arenas are safe, near the lower bound and far below naive", "[planner]") {
  for (const auto& model : test::fixture_models()) {
    const WeightMap w = load_weights(test::fixture(model + ".pt"));
    const graph::Graph g = graph::build_yolo26(w, {640, 640, true});
    for (int batch : {1, 8}) {
      INFO(model << " batch " << batch);
      const memory::Plan p = memory::plan_memory(g, batch);
      CHECK(memory::verify_plan(g, p).empty());
      CHECK(p.lower_bound <= p.arena);
      CHECK(static_cast<double>(p.arena) <= 1.05 * static_cast<double>(p.lower_bound));
      CHECK(static_cast<double>(p.arena) <= 0.30 * static_cast<double>(p.naive));
      auto mb = [](std::int64_t elements) { return static_cast<double>(elements) * 2 / 1e6; };
      WARN(model << " b" << batch << ": naive " << mb(p.naive) << " MB -> arena " << mb(p.arena) << " MB (lower bound "
                 << mb(p.lower_bound) << " MB, FP16)");
    }
  }
}

TEST_CASE("a hand-made chain gets the exact optimal layout", "[planner]") {
  // images(64) -> a(128) -> b(64) -> head(128): each buffer lives two steps.
  graph::Graph g;
  g.input = g.add_buffer("images", 1, 1, 64);
  const int a = g.add_buffer("a", 1, 2, 64), b = g.add_buffer("b", 1, 1, 64), c = g.add_buffer("head", 1, 2, 64);
  g.head.output = c;
  auto node = [&](int in, int out) {
    graph::Node n;
    n.kind = graph::OpKind::MaxPool;
    n.inputs = {g.whole(in)};
    n.output = g.whole(out);
    g.nodes.push_back(n);
  };
  node(g.input, a);
  node(a, b);
  node(b, c);
  const memory::Plan p = memory::plan_memory(g, 1);
  CHECK(p.lower_bound == 192);
  CHECK(p.arena == 192);
  CHECK(p.naive == 384);
  CHECK(p.buffers[static_cast<size_t>(a)].offset == 0);
  CHECK(p.buffers[static_cast<size_t>(c)].offset == 0);
  CHECK(p.buffers[static_cast<size_t>(g.input)].offset == 128);
  CHECK(p.buffers[static_cast<size_t>(b)].offset == 128);
  CHECK(p.buffers[static_cast<size_t>(a)].first == 0);
  CHECK(p.buffers[static_cast<size_t>(a)].last == 1);
  CHECK(p.buffers[static_cast<size_t>(c)].last == 3);  // read by post-processing after the last node
  CHECK(memory::verify_plan(g, p).empty());

  // the verifier catches a broken plan
  memory::Plan bad = p;
  bad.buffers[static_cast<size_t>(b)].offset = 64;
  CHECK(memory::verify_plan(g, bad).find("overlap") != std::string::npos);
  const memory::Plan batch3 = memory::plan_memory(g, 3);
  CHECK(batch3.arena == 3 * 192);
}
