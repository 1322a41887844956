// The CPU reference engine against the goldens Ultralytics computed: every
// selected layer, both raw heads and the decoded end-to-end predictions, on both
// fixture models, at the goldens' 256x192 input.
#include <catch2/catch.hpp>
#include <cstring>
#include <map>
#include <utility>
#include <random>

#include "common/half.h"
#include "graph/schedule.h"
#include "graph/yolo26.h"
#include "loader/weight_map.h"
#include "memory/planner.h"
#include "runtime/cpu_executor.h"
#include "runtime/postprocess.h"
#include "tests/support/compare.h"
#include "tests/support/fixtures.h"

using namespace y26;

namespace {

struct Run {
  graph::Graph g;
  std::unique_ptr<runtime::CpuExecutor> exec;
};

// Builds the graph at the goldens' size, runs it on the goldens' letterboxed input.
Run run_on_golden_input(const WeightMap& w, const WeightMap& goldens, bool end2end, bool fp16,
                        kernels::cpu::ThreadPool& pool, runtime::CpuKernels kernels = runtime::CpuKernels::Reference) {
  const Tensor& u8 = goldens.at("input.letterboxed_u8");
  const int h = static_cast<int>(u8.shape[0]), wd = static_cast<int>(u8.shape[1]);
  Run r;
  r.g = graph::build_yolo26(w, {h, wd, end2end});
  r.exec = std::make_unique<runtime::CpuExecutor>(r.g, memory::plan_memory(r.g, 1, memory::Strategy::Naive), pool, fp16, kernels);
  r.exec->poison();
  const auto in = r.exec->view(r.g.whole(r.g.input));
  for (int y = 0; y < h; ++y) {
    for (int x = 0; x < wd; ++x) {
      for (int c = 0; c < 3; ++c) {
        const float v = static_cast<float>(u8.bytes[(static_cast<size_t>(y) * wd + x) * 3 + c]) / 255.0f;
        in.pixel(0, y, x)[c] = fp16 ? round_to_half(v) : v;
      }
    }
  }
  r.exec->run();
  return r;
}

std::vector<float> gather(const kernels::View<float>& v) {
  std::vector<float> out;
  for (int b = 0; b < v.n; ++b)
    for (int y = 0; y < v.h; ++y)
      for (int x = 0; x < v.w; ++x)
        for (int c = 0; c < v.c; ++c) out.push_back(v.pixel(b, y, x)[c]);
  return out;
}

// Head buffer (anchors x (4 + nc)) -> Ultralytics' (4, anchors) boxes and (nc, anchors) scores.
std::vector<float> head_part(const runtime::CpuExecutor& e, const graph::Head& head, int c0, int c) {
  const auto v = e.view(e.graph().whole(head.output));
  std::vector<float> out;
  for (int ch = c0; ch < c0 + c; ++ch)
    for (int a = 0; a < head.anchors(); ++a) out.push_back(v.pixel(0, 0, a)[ch]);
  return out;
}

}  // namespace

// Both CPU kernel sets: the reference and the fast kernels are FP32 sums in different orders (and
// PyTorch's in a third), each within the same 1e-4 of the goldens (tests/test_cpu_fast.cpp bounds
// the fast set against the reference op by op).
const runtime::CpuKernels kCpuSets[] = {runtime::CpuKernels::Reference, runtime::CpuKernels::Fast};

TEST_CASE("CPU FP32 matches the Ultralytics goldens layer by layer", "[parity]") {
  kernels::cpu::ThreadPool pool;
  for (const auto& model : test::fixture_models()) {
    SECTION(model) {
      const WeightMap w = load_weights(test::fixture(model + ".pt"));
      const WeightMap goldens = load_weights(test::fixture(model + ".goldens.safetensors"));
      for (const auto& [e2e, kernels] : {std::pair{true, kCpuSets[0]}, std::pair{false, kCpuSets[0]},
                                        std::pair{true, kCpuSets[1]}, std::pair{false, kCpuSets[1]}}) {
        INFO((e2e ? "one-to-one head, " : "one-to-many head, ") << runtime::cpu_kernels_name(kernels) << " kernels");
        Run r = run_on_golden_input(w, goldens, e2e, false, pool, kernels);
        REQUIRE(r.g.head.end2end == e2e);
        int layers = 0;
        for (const auto& [name, t] : goldens.tensors) {
          if (name.rfind("layer.", 0) != 0) continue;
          const int layer = std::stoi(name.substr(6));
          INFO(name);
          const auto& slice = r.g.layer_outputs.at(static_cast<size_t>(layer));
          REQUIRE(slice.has_value());
          const auto v = r.exec->view(*slice);
          REQUIRE(std::vector<std::int64_t>{1, v.h, v.w, v.c} == t.shape);
          CHECK(test::relative_error(gather(v), t.to_float()) <= 1e-4);
          ++layers;
        }
        CHECK(layers == 11);
        const std::string head = e2e ? "head.one2one" : "head.one2many";
        const int nc = r.g.head.nc;
        CHECK(test::relative_error(head_part(*r.exec, r.g.head, 0, 4), goldens.at(head + ".boxes").to_float()) <= 1e-4);
        CHECK(test::relative_error(head_part(*r.exec, r.g.head, 4, nc), goldens.at(head + ".scores").to_float()) <= 1e-4);
      }
    }
  }
}

TEST_CASE("end-to-end top-k matches Ultralytics' decoded predictions", "[parity]") {
  kernels::cpu::ThreadPool pool;
  for (const auto& model : test::fixture_models()) {
    SECTION(model) {
      const WeightMap w = load_weights(test::fixture(model + ".pt"));
      const WeightMap goldens = load_weights(test::fixture(model + ".goldens.safetensors"));
      for (const runtime::CpuKernels kernels : kCpuSets) {
        INFO(runtime::cpu_kernels_name(kernels) << " kernels");
        Run r = run_on_golden_input(w, goldens, true, false, pool, kernels);
        const auto head = r.exec->view(r.g.whole(r.g.head.output));
        const auto dets = runtime::select_end2end(head.data, head.pixel_stride, r.g.head, {0.0f, 0.7f, 300});
        const Tensor& ref_t = goldens.at("head.one2one.decoded");  // (1, k, 6)
        const auto ref = ref_t.to_float();
        const size_t k = static_cast<size_t>(ref_t.shape[1]);
        REQUIRE(dets.size() == k);
        // Same (class, box) set with scores within 1e-4; ties at equal scores may reorder.
        std::multimap<int, size_t> unmatched;
        for (size_t i = 0; i < k; ++i) unmatched.emplace(static_cast<int>(ref[i * 6 + 5]), i);
        size_t matched = 0;
        for (const auto& d : dets) {
          auto range = unmatched.equal_range(d.cls);
          for (auto it = range.first; it != range.second; ++it) {
            const float* e = &ref[it->second * 6];
            bool same = std::abs(d.score - e[4]) <= 1e-4f;
            for (int j = 0; j < 4; ++j) same = same && std::abs(d.box[j] - e[j]) <= 0.05f;
            if (same) {
              unmatched.erase(it);
              ++matched;
              break;
            }
          }
        }
        CHECK(matched == k);
      }
    }
  }
}

namespace {

// A random order of the nodes that respects the schedule's dependencies (Kahn's algorithm, random pick).
std::vector<size_t> random_topological_order(const graph::Schedule& s, std::mt19937& rng) {
  const size_t n = s.preds.size();
  std::vector<int> waiting(n);
  std::vector<std::vector<size_t>> succ(n);
  for (size_t i = 0; i < n; ++i) {
    waiting[i] = static_cast<int>(s.preds[i].size());
    for (int p : s.preds[i]) succ[static_cast<size_t>(p)].push_back(i);
  }
  std::vector<size_t> ready, order;
  for (size_t i = 0; i < n; ++i)
    if (waiting[i] == 0) ready.push_back(i);
  while (!ready.empty()) {
    const size_t k = std::uniform_int_distribution<size_t>(0, ready.size() - 1)(rng);
    const size_t i = ready[k];
    ready.erase(ready.begin() + static_cast<std::ptrdiff_t>(k));
    order.push_back(i);
    for (size_t j : succ[i])
      if (--waiting[j] == 0) ready.push_back(j);
  }
  return order;
}

}  // namespace

TEST_CASE("the planned arena gives bit-identical results to one buffer per tensor", "[parity][planner]") {
  kernels::cpu::ThreadPool pool;
  std::mt19937 rng(2026);
  for (const auto& model : test::fixture_models()) {
    SECTION(model) {
      const WeightMap w = load_weights(test::fixture(model + ".pt"));
      const graph::Graph g = graph::build_yolo26(w, {128, 160, true});
      const graph::Schedule sched = graph::schedule(g);
      constexpr int kBatch = 2;
      std::vector<std::vector<float>> heads;
      // Naive, the sequential plan in graph order, then the concurrent plan (what the GPU's streams use at
      // small batch) in three random orders its dependencies allow: every interleaving of the branches must
      // leave the same bits.
      struct Way {
        memory::Strategy strategy;
        memory::Execution execution;
        bool shuffled;
      };
      const Way ways[] = {{memory::Strategy::Naive, memory::Execution::Sequential, false},
                          {memory::Strategy::GreedyBySize, memory::Execution::Sequential, false},
                          {memory::Strategy::GreedyBySize, memory::Execution::Concurrent, true},
                          {memory::Strategy::GreedyBySize, memory::Execution::Concurrent, true},
                          {memory::Strategy::GreedyBySize, memory::Execution::Concurrent, true}};
      for (const Way& way : ways) {
        runtime::CpuExecutor e(g, memory::plan_memory(g, kBatch, way.strategy, way.execution), pool, true);
        e.poison();
        const auto in = e.view(g.whole(g.input));
        for (int b = 0; b < kBatch; ++b)
          for (int y = 0; y < in.h; ++y)
            for (int x = 0; x < in.w; ++x)
              for (int c = 0; c < 3; ++c)
                in.pixel(b, y, x)[c] =
                    round_to_half(static_cast<float>((x * 7 + y * 13 + c * 29 + b * 31) % 256) / 255.0f);
        if (way.shuffled) {
          const auto order = random_topological_order(sched, rng);
          REQUIRE(order.size() == g.nodes.size());
          for (size_t i : order) e.run_node(i);
        } else {
          e.run();
        }
        heads.push_back(gather(e.view(g.whole(g.head.output))));
      }
      for (size_t k = 1; k < heads.size(); ++k) {
        INFO("way " << k);
        REQUIRE(heads[0].size() == heads[k].size());
        CHECK(std::memcmp(heads[0].data(), heads[k].data(), heads[0].size() * sizeof(float)) == 0);
      }
      for (float v : heads[1]) REQUIRE(std::isfinite(v));
    }
  }
}
