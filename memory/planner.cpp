#include "memory/planner.h"

#include <algorithm>
#include <numeric>

#include "graph/schedule.h"

namespace y26::memory {
namespace {

std::int64_t align(std::int64_t v) { return (v + kAlignElements - 1) / kAlignElements * kAlignElements; }

bool lifetimes_overlap(const BufferPlan& a, const BufferPlan& b) { return a.first <= b.last && b.first <= a.last; }

// Every use of a buffer and its step: the input is written at step -1 (before node 0), node i reads
// and writes at step i, and post-processing reads the head output at step n (after the last node).
template <typename Fn>
void for_each_use(const graph::Graph& g, Fn&& fn) {
  const int n = static_cast<int>(g.nodes.size());
  fn(g.whole(g.input), -1);
  for (int i = 0; i < n; ++i) {
    const auto& node = g.nodes[static_cast<size_t>(i)];
    for (const auto& s : node.inputs) fn(s, i);
    if (node.residual) fn(*node.residual, i);
    fn(node.output, i);
  }
  fn(g.whole(g.head.output), n);
  if (g.head.protos >= 0) fn(g.whole(g.head.protos), n);  // a segmentation head's prototypes, read with it
}

// conflict[a][b]: buffers a and b may be live at the same time, so they must not share memory.
// Sequential: their [first, last] intervals overlap. Concurrent: neither buffer's uses all precede
// the other's through the graph's dependencies (the input is written before every node, the head
// output read after every node).
std::vector<std::vector<char>> conflicts(const graph::Graph& g, const std::vector<BufferPlan>& bufs, Execution execution,
                                         const graph::Schedule& sched) {
  const size_t nb = bufs.size();
  std::vector<std::vector<char>> c(nb, std::vector<char>(nb, 0));
  if (execution == Execution::Sequential) {
    for (size_t a = 0; a < nb; ++a)
      for (size_t b = 0; b < nb; ++b)
        c[a][b] = a != b && bufs[a].last >= 0 && bufs[b].last >= 0 && lifetimes_overlap(bufs[a], bufs[b]);
    return c;
  }
  const int n = static_cast<int>(g.nodes.size());
  std::vector<std::vector<int>> uses(nb);
  for_each_use(g, [&](const graph::Slice& s, int step) { uses[static_cast<size_t>(s.buffer)].push_back(step); });
  auto step_before = [&](int x, int y) {  // x happens before y in every execution
    if (x == y) return false;
    if (x == -1 || y == n) return true;
    if (y == -1 || x == n) return false;
    return sched.precedes(x, y);
  };
  auto all_before = [&](size_t a, size_t b) {
    for (int x : uses[a])
      for (int y : uses[b])
        if (!step_before(x, y)) return false;
    return true;
  };
  for (size_t a = 0; a < nb; ++a)
    for (size_t b = a + 1; b < nb; ++b) {
      if (uses[a].empty() || uses[b].empty()) continue;
      c[a][b] = c[b][a] = !all_before(a, b) && !all_before(b, a);
    }
  return c;
}

// Lifetimes: a buffer is live from the first node that writes any slice of it to the
// last node that reads or writes one. The input is written before node 0, the head
// output is read after the last node (by post-processing).
std::vector<BufferPlan> lifetimes(const graph::Graph& g, int batch) {
  const int n = static_cast<int>(g.nodes.size());
  std::vector<BufferPlan> p(g.buffers.size());
  for (size_t b = 0; b < p.size(); ++b) {
    p[b].size = align(g.buffers[b].elements() * batch);
    p[b].first = n + 1;
    p[b].last = -2;
  }
  for_each_use(g, [&](const graph::Slice& s, int step) {
    auto& bp = p.at(static_cast<size_t>(s.buffer));
    bp.first = std::min(bp.first, step);
    bp.last = std::max(bp.last, step);
  });
  for (auto& bp : p) {
    if (bp.last < bp.first) bp.first = bp.last = -1;  // never used: occupies nothing at any step
  }
  return p;
}

// Places buffers in `order`, each into the smallest gap that fits among the already
// placed buffers it conflicts with (best fit); returns the arena size.
std::int64_t place_best_fit(std::vector<BufferPlan>& bufs, const std::vector<size_t>& order,
                            const std::vector<std::vector<char>>& conflict) {
  std::int64_t arena = 0;
  std::vector<size_t> placed;
  for (size_t idx : order) {
    BufferPlan& cur = bufs[idx];
    std::vector<std::pair<std::int64_t, std::int64_t>> busy;  // [begin, end) of conflicting buffers
    for (size_t o : placed) {
      if (conflict[idx][o]) busy.emplace_back(bufs[o].offset, bufs[o].offset + bufs[o].size);
    }
    std::sort(busy.begin(), busy.end());
    std::int64_t best = -1, best_gap = INT64_MAX, cursor = 0;
    for (const auto& [begin, end] : busy) {
      if (begin - cursor >= cur.size && begin - cursor < best_gap) {
        best = cursor;
        best_gap = begin - cursor;
      }
      cursor = std::max(cursor, end);
    }
    cur.offset = best >= 0 ? best : cursor;  // no gap fits: above everything it overlaps
    arena = std::max(arena, cur.offset + cur.size);
    placed.push_back(idx);
  }
  return arena;
}

// The orders tried: greedy by size (TFLite), greedy by breadth (Pisarchyk & Lee 2020:
// the buffers of the most crowded step first), first use, and longest lifetime.
std::vector<std::vector<size_t>> placement_orders(const std::vector<BufferPlan>& bufs, int steps) {
  std::vector<size_t> base(bufs.size());
  std::iota(base.begin(), base.end(), 0);
  auto sorted = [&](auto less) {
    std::vector<size_t> o = base;
    std::stable_sort(o.begin(), o.end(), less);
    return o;
  };
  std::vector<std::vector<size_t>> orders;
  orders.push_back(sorted([&](size_t a, size_t b) {
    return bufs[a].size != bufs[b].size ? bufs[a].size > bufs[b].size : bufs[a].first < bufs[b].first;
  }));
  orders.push_back(sorted([&](size_t a, size_t b) { return bufs[a].first < bufs[b].first; }));
  orders.push_back(sorted([&](size_t a, size_t b) {
    const int la = bufs[a].last - bufs[a].first, lb = bufs[b].last - bufs[b].first;
    return la != lb ? la > lb : bufs[a].size > bufs[b].size;
  }));
  // breadth: steps by descending live total; within a step, its unplaced buffers by size
  std::vector<std::pair<std::int64_t, int>> breadth;
  for (int step = -1; step <= steps; ++step) {
    std::int64_t live = 0;
    for (const auto& b : bufs) {
      if (b.first <= step && step <= b.last) live += b.size;
    }
    breadth.emplace_back(live, step);
  }
  std::stable_sort(breadth.begin(), breadth.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
  std::vector<size_t> by_breadth;
  std::vector<char> taken(bufs.size(), 0);
  for (const auto& [live, step] : breadth) {
    std::vector<size_t> here;
    for (size_t i = 0; i < bufs.size(); ++i) {
      if (!taken[i] && bufs[i].first <= step && step <= bufs[i].last) here.push_back(i);
    }
    std::stable_sort(here.begin(), here.end(), [&](size_t a, size_t b) { return bufs[a].size > bufs[b].size; });
    for (size_t i : here) {
      taken[i] = 1;
      by_breadth.push_back(i);
    }
  }
  for (size_t i = 0; i < bufs.size(); ++i) {
    if (!taken[i]) by_breadth.push_back(i);
  }
  orders.push_back(std::move(by_breadth));
  return orders;
}

}  // namespace

Plan plan_memory(const graph::Graph& g, int batch, Strategy strategy, Execution execution) {
  Plan plan;
  plan.batch = batch;
  plan.strategy = strategy;
  plan.execution = execution;
  if (execution == Execution::Concurrent) plan.schedule = graph::schedule(g);
  plan.buffers = lifetimes(g, batch);
  auto& bufs = plan.buffers;

  for (const auto& b : bufs) plan.naive += b.size;
  const int n = static_cast<int>(g.nodes.size());
  for (int step = -1; step <= n; ++step) {
    std::int64_t live = 0;
    for (const auto& b : bufs) {
      if (b.first <= step && step <= b.last) live += b.size;
    }
    plan.lower_bound = std::max(plan.lower_bound, live);
  }

  if (strategy == Strategy::Naive) {
    for (auto& b : bufs) {
      b.offset = plan.arena;
      plan.arena += b.size;
    }
    return plan;
  }

  // Greedy placement is order-sensitive and no single order wins on every network, so
  // several classic orders are tried and the smallest arena is kept (all are exact
  // computations, a few milliseconds in total). The step-by-step lower bound above still
  // holds for concurrent execution (it allows more conflicts, never fewer).
  const auto conflict = conflicts(g, bufs, execution, plan.schedule);
  std::vector<BufferPlan> best;
  std::int64_t best_arena = INT64_MAX;
  for (const auto& order : placement_orders(bufs, n)) {
    std::vector<BufferPlan> trial = bufs;
    const std::int64_t arena = place_best_fit(trial, order, conflict);
    if (arena < best_arena) {
      best_arena = arena;
      best = std::move(trial);
    }
  }
  plan.buffers = std::move(best);
  plan.arena = best_arena;
  return plan;
}

std::string verify_plan(const graph::Graph& g, const Plan& plan) {
  const auto& b = plan.buffers;
  // (a plan marked Concurrent after the fact has no schedule yet: derive it)
  const bool has_schedule = plan.schedule.preds.size() == g.nodes.size();
  const auto conflict = conflicts(g, b, plan.execution, has_schedule ? plan.schedule : graph::schedule(g));
  for (size_t i = 0; i < b.size(); ++i) {
    if (b[i].offset < 0 || b[i].offset + b[i].size > plan.arena)
      return "buffer '" + g.buffers[i].name + "' lies outside the arena";
    if (b[i].size < g.buffers[i].elements() * plan.batch) return "buffer '" + g.buffers[i].name + "' is too small";
    for (size_t j = i + 1; j < b.size(); ++j) {
      if (!conflict[i][j]) continue;
      if (b[i].offset < b[j].offset + b[j].size && b[j].offset < b[i].offset + b[i].size) {
        return "buffers '" + g.buffers[i].name + "' and '" + g.buffers[j].name + "' may be live together and overlap";
      }
    }
  }
  return {};
}

}  // namespace y26::memory
