// The raw-head parity shared by the task tests (OBB, pose, segment): a task's head rows assembled from the goldens
// make_task_goldens.py writes (Ultralytics' raw outputs, channels first), and the CPU engine's head on the
// goldens' own letterboxed input held to them.
#pragma once

#include <catch2/catch.hpp>

#include <string>
#include <tuple>
#include <vector>

#include "graph/yolo26.h"
#include "memory/planner.h"
#include "runtime/cpu_executor.h"
#include "tests/support/compare.h"
#include "y26/y26.h"

namespace y26::test {

// anchors x (4 + nc + extra) rows from one head's raw outputs: boxes (4, A), scores (nc, A) and the task's
// part `extra_part` (extra, A): "angle" (OBB), "kpts" (pose) or "mask_coefficient" (segment).
inline std::vector<float> rows_from_goldens(const WeightMap& g, const std::string& head, int nc, int anchors,
                                            const std::string& extra_part, int extra) {
  const auto boxes = g.at(head + ".boxes").to_float(), scores = g.at(head + ".scores").to_float();
  const auto part = g.at(head + "." + extra_part).to_float();
  const int row = 4 + nc + extra;
  std::vector<float> rows(static_cast<size_t>(anchors) * row);
  for (int a = 0; a < anchors; ++a) {
    float* r = &rows[static_cast<size_t>(a) * row];
    for (int j = 0; j < 4; ++j) r[j] = boxes[static_cast<size_t>(j) * anchors + a];
    for (int c = 0; c < nc; ++c) r[4 + c] = scores[static_cast<size_t>(c) * anchors + a];
    for (int k = 0; k < extra; ++k) r[4 + nc + k] = part[static_cast<size_t>(k) * anchors + a];
  }
  return rows;
}

// The graph of the goldens' input shape (their letterboxed scene).
inline graph::Graph golden_graph(const WeightMap& w, const WeightMap& goldens, bool end2end) {
  const Tensor& u8 = goldens.at("input.letterboxed_u8");
  return graph::build_yolo26(w, {static_cast<int>(u8.shape[0]), static_cast<int>(u8.shape[1]), end2end});
}

// The executor's arena poisoned, the goldens' letterboxed input (x / 255) written, the graph run.
inline void run_on_golden_input(runtime::CpuExecutor& exec, const graph::Graph& g, const WeightMap& goldens) {
  exec.poison();
  const Tensor& u8 = goldens.at("input.letterboxed_u8");
  const auto in = exec.view(g.whole(g.input));
  for (int y = 0; y < in.h; ++y)
    for (int x = 0; x < in.w; ++x)
      for (int c = 0; c < 3; ++c)
        in.pixel(0, y, x)[c] = static_cast<float>(u8.bytes[(static_cast<size_t>(y) * in.w + x) * 3 + c]) / 255.0f;
  exec.run();
}

// Both CPU kernel sets, both heads: the engine's FP32 head on the goldens' input, its boxes, scores and
// extra part each within 1e-4 relative of Ultralytics' (the detection parity tests' tolerance).
inline void check_raw_heads(const WeightMap& w, const WeightMap& goldens, const std::string& extra_part) {
  kernels::cpu::ThreadPool pool;
  for (const auto kernels : {runtime::CpuKernels::Reference, runtime::CpuKernels::Fast}) {
    for (const bool e2e : {true, false}) {
      INFO((e2e ? "one-to-one, " : "one-to-many, ") << runtime::cpu_kernels_name(kernels) << " kernels");
      const graph::Graph g = golden_graph(w, goldens, e2e);
      runtime::CpuExecutor exec(g, memory::plan_memory(g, 1), pool, false, kernels);
      run_on_golden_input(exec, g, goldens);
      const auto head = exec.view(g.whole(g.head.output));
      const int anchors = g.head.anchors(), nc = g.head.nc, extra = g.head.extra;
      const auto want = rows_from_goldens(goldens, e2e ? "head.one2one" : "head.one2many", nc, anchors, extra_part, extra);
      for (const auto& [c0, c, what] :
           {std::tuple{0, 4, std::string("boxes")}, std::tuple{4, nc, std::string("scores")}, std::tuple{4 + nc, extra, extra_part}}) {
        INFO(what);
        std::vector<float> got_part, want_part;
        for (int a = 0; a < anchors; ++a)
          for (int j = c0; j < c0 + c; ++j) {
            got_part.push_back(head.pixel(0, 0, a)[j]);
            want_part.push_back(want[static_cast<size_t>(a) * g.head.row() + static_cast<size_t>(j)]);
          }
        CHECK(test::relative_error(got_part, want_part) <= 1e-4);
      }
    }
  }
}

}  // namespace y26::test
