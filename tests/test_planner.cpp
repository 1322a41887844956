// The memory planner: safe (brute-force verified), near the lower bound, far
// below one-buffer-per-tensor, and exact for a hand-made graph.
#include <catch2/catch.hpp>

#include "graph/yolo26.h"
#include "loader/weight_map.h"
#include "graph/schedule.h"
#include "memory/planner.h"
#include "runtime/device_selection.h"
#include "y26/y26.h"
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

TEST_CASE("the schedule finds the independent branches and the concurrent plan keeps them apart", "[planner][schedule]") {
  const WeightMap w = load_weights(test::fixture("yolo26n-rand.pt"));
  const graph::Graph g = graph::build_yolo26(w, {640, 640, true});
  const graph::Schedule s = graph::schedule(g);
  auto node = [&](const std::string& name) {
    for (size_t i = 0; i < g.nodes.size(); ++i)
      if (g.nodes[i].name == name) return static_cast<int>(i);
    FAIL("no node " << name);
    return -1;
  };
  for (size_t i = 0; i < s.preds.size(); ++i)
    for (int p : s.preds[i]) CHECK(p < static_cast<int>(i));
  // the backbone is a chain; the head's box and class chains of a level are independent of each other,
  // and the P3 head does not wait for the rest of the neck (model.17-22)
  CHECK(s.precedes(node("model.0"), node("model.1")));
  const int box0 = node("model.23.one2one_cv2.0.0"), cls0 = node("model.23.one2one_cv3.0.0.0");
  const int box2 = node("model.23.one2one_cv2.2.0"), p5 = node("model.22.cv2");
  CHECK(s.precedes(node("model.16.cv2"), box0));
  CHECK_FALSE(s.precedes(box0, cls0));
  CHECK_FALSE(s.precedes(cls0, box0));
  CHECK_FALSE(s.precedes(p5, box0));
  CHECK(s.precedes(p5, box2));
  CHECK(s.stream[static_cast<size_t>(box0)] != s.stream[static_cast<size_t>(cls0)]);
  CHECK(s.streams >= 3);
  CHECK(s.streams <= graph::kMaxStreams);

  for (int batch : {1, 4}) {
    INFO("batch " << batch);
    const memory::Plan seq = memory::plan_memory(g, batch);
    const memory::Plan conc = memory::plan_memory(g, batch, memory::Strategy::GreedyBySize, memory::Execution::Concurrent);
    CHECK(memory::verify_plan(g, conc).empty());
    CHECK(conc.lower_bound == seq.lower_bound);
    CHECK(conc.arena >= seq.arena);
    CHECK(static_cast<double>(conc.arena) <= 1.6 * static_cast<double>(conc.lower_bound));
    // the sequential layout reuses memory across branches that may now run together: the verifier says so
    memory::Plan seq_as_conc = seq;
    seq_as_conc.execution = memory::Execution::Concurrent;
    CHECK(memory::verify_plan(g, seq_as_conc).find("may be live together") != std::string::npos);
    auto mb = [](std::int64_t elements) { return static_cast<double>(elements) * 2 / 1e6; };
    WARN("yolo26n b" << batch << ": sequential arena " << mb(seq.arena) << " MB, concurrent " << mb(conc.arena)
                     << " MB (lower bound " << mb(seq.lower_bound) << " MB, FP16)");
  }
}

TEST_CASE("the GPU workspace: split-K partials apart when their convolutions may run together", "[planner][schedule]") {
  const WeightMap w = load_weights(test::fixture("yolo26n-rand.pt"));
  const graph::Graph g = graph::build_yolo26(w, {640, 640, true});
  const graph::Schedule sched = graph::schedule(g);
  const auto sel = runtime::choose_device_selection(g.head, 0.25f, 0.7f, 300);
  size_t splits_b1 = 0;
  for (int batch : {1, 8}) {
    INFO("batch " << batch);
    const auto l = runtime::workspace_layout(g, runtime::gpu_plan(g, batch), sel);
    REQUIRE(l.split.size() == g.nodes.size());
    std::vector<size_t> split;
    for (size_t i = 0; i < l.split.size(); ++i)
      if (l.split[i].partial_bytes > 0) split.push_back(i);
    if (batch == 1) {
      CHECK(split.size() >= 4);  // the 20x20 convolutions and the P4/P5 box heads' 3x3 convolutions
      splits_b1 = split.size();
    } else {
      CHECK(split.size() < splits_b1);  // batch 8 fills the GPU with most of them
    }
    const bool concurrent = runtime::gpu_execution(batch) == memory::Execution::Concurrent;
    for (size_t a : split) {
      const auto& x = l.split[a];
      CHECK(x.partial_offset + x.partial_bytes <= l.total);
      for (size_t b : split) {
        if (b == a) continue;
        const auto& y = l.split[b];
        // counters never overlap anything but themselves
        CHECK((x.counters_offset + x.counters_bytes <= y.counters_offset ||
               y.counters_offset + y.counters_bytes <= x.counters_offset));
        CHECK((x.counters_offset + x.counters_bytes <= y.partial_offset ||
               y.partial_offset + y.partial_bytes <= x.counters_offset));
        const bool together = concurrent && !sched.precedes(static_cast<int>(a), static_cast<int>(b)) &&
                              !sched.precedes(static_cast<int>(b), static_cast<int>(a));
        if (together)
          CHECK((x.partial_offset + x.partial_bytes <= y.partial_offset ||
                 y.partial_offset + y.partial_bytes <= x.partial_offset));
      }
    }
    // what the plan reports is what the executor allocates
    Options o;
    o.precision = Precision::FP16;
    Engine e = Engine::load(test::fixture("yolo26n-rand.pt"), o);
    CHECK(e.memory_report(batch, 640, 640).workspace_bytes == l.total);
  }
}

TEST_CASE("the largest batch for a budget is the largest that fits, across the concurrent/sequential switch", "[planner]") {
  Options o;
  o.precision = Precision::FP16;
  Engine e = Engine::load(test::fixture("yolo26n-rand.pt"), o);
  std::vector<std::int64_t> total{0};
  for (int b = 1; b <= 12; ++b) total.push_back(e.memory_report(b, 320, 320).total_bytes());
  // (Y26_GPU_BRANCHES=0, the bisecting switch, makes every GPU plan sequential)
  CHECK(e.memory_report(4, 320, 320).execution == (runtime::gpu_branches_enabled() ? "concurrent" : "sequential"));
  CHECK(e.memory_report(5, 320, 320).execution == "sequential");
  for (int b = 1; b <= 10; ++b) {
    for (std::int64_t budget :
         {total[static_cast<size_t>(b)], total[static_cast<size_t>(b)] + 1, total[static_cast<size_t>(b)] - 1}) {
      const int got = e.max_batch_for_budget(budget, 320, 320);
      int want = 0;
      for (int c = 1; c <= 12; ++c)
        if (total[static_cast<size_t>(c)] <= budget) want = c;
      INFO("budget " << budget);
      CHECK(got == want);
    }
  }
}
