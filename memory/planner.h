// The static memory planner: a pure function from a graph and a batch size to
// buffer offsets in one arena. Lifetimes come from the op order; offsets from
// greedy-by-size with best fit (TensorFlow Lite's arena planner; Pisarchyk & Lee
// 2020). Everything is in elements, so the same layout serves the FP32 CPU
// backend and the FP16 GPU backend; bytes are elements x dtype size.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "graph/ir.h"
#include "graph/schedule.h"

namespace y26::memory {

inline constexpr std::int64_t kAlignElements = 64;  // 128 B in FP16, 256 B in FP32

struct BufferPlan {
  std::int64_t offset = 0;  // elements from the arena start
  std::int64_t size = 0;    // elements, batch included, rounded up to kAlignElements
  int first = 0, last = 0;  // live from node `first` through node `last` (-1: before node 0)
};

enum class Strategy { GreedyBySize, Naive };

// Sequential: nodes run one after another in graph order (the CPU; the GPU at large batch).
// Concurrent: independent nodes may run at the same time (graph/schedule.h: the GPU's streams at
// small batch), so two buffers share memory only when every use of one precedes every use of the
// other through the graph's dependencies.
enum class Execution { Sequential, Concurrent };

struct Plan {
  int batch = 1;
  Strategy strategy = Strategy::GreedyBySize;
  Execution execution = Execution::Sequential;
  graph::Schedule schedule;  // Concurrent: the dependencies the layout relies on (the executor runs by them)
  std::vector<BufferPlan> buffers;  // by buffer id
  std::int64_t arena = 0;           // elements
  std::int64_t lower_bound = 0;     // max over steps of the live elements: no plan can do better
  std::int64_t naive = 0;           // every buffer in its own memory
};

// Naive puts every buffer after the previous one (the reference layout for tests).
Plan plan_memory(const graph::Graph& g, int batch, Strategy strategy = Strategy::GreedyBySize,
                 Execution execution = Execution::Sequential);

// Brute-force check: no two buffers that may be live together (for the plan's execution) overlap in memory.
// Returns an empty string when the plan is safe, else the first conflict.
std::string verify_plan(const graph::Graph& g, const Plan& plan);

}  // namespace y26::memory
