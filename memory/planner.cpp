#include "memory/planner.h"

#include <algorithm>
#include <numeric>

namespace y26::memory {
namespace {

std::int64_t align(std::int64_t v) { return (v + kAlignElements - 1) / kAlignElements * kAlignElements; }

bool lifetimes_overlap(const BufferPlan& a, const BufferPlan& b) { return a.first <= b.last && b.first <= a.last; }

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
  auto touch = [&](const graph::Slice& s, int step) {
    auto& bp = p.at(static_cast<size_t>(s.buffer));
    bp.first = std::min(bp.first, step);
    bp.last = std::max(bp.last, step);
  };
  touch(g.whole(g.input), -1);
  for (int i = 0; i < n; ++i) {
    const auto& node = g.nodes[static_cast<size_t>(i)];
    for (const auto& s : node.inputs) touch(s, i);
    if (node.residual) touch(*node.residual, i);
    touch(node.output, i);
  }
  touch(g.whole(g.head.output), n);
  for (auto& bp : p) {
    if (bp.last < bp.first) bp.first = bp.last = -1;  // never used: occupies nothing at any step
  }
  return p;
}

}  // namespace

Plan plan_memory(const graph::Graph& g, int batch, Strategy strategy) {
  Plan plan;
  plan.batch = batch;
  plan.strategy = strategy;
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

  // Greedy by size: largest first (ties: earliest first use), each into the smallest
  // gap that fits among the already placed buffers whose lifetimes overlap its own.
  std::vector<size_t> order(bufs.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return bufs[a].size != bufs[b].size ? bufs[a].size > bufs[b].size : bufs[a].first < bufs[b].first;
  });
  std::vector<size_t> placed;
  for (size_t idx : order) {
    BufferPlan& cur = bufs[idx];
    std::vector<std::pair<std::int64_t, std::int64_t>> busy;  // [begin, end) of conflicting buffers
    for (size_t o : placed) {
      if (lifetimes_overlap(cur, bufs[o])) busy.emplace_back(bufs[o].offset, bufs[o].offset + bufs[o].size);
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
    plan.arena = std::max(plan.arena, cur.offset + cur.size);
    placed.push_back(idx);
  }
  return plan;
}

std::string verify_plan(const graph::Graph& g, const Plan& plan) {
  const auto& b = plan.buffers;
  for (size_t i = 0; i < b.size(); ++i) {
    if (b[i].offset < 0 || b[i].offset + b[i].size > plan.arena) return "buffer '" + g.buffers[i].name + "' lies outside the arena";
    if (b[i].size < g.buffers[i].elements() * plan.batch) return "buffer '" + g.buffers[i].name + "' is too small";
    for (size_t j = i + 1; j < b.size(); ++j) {
      if (!lifetimes_overlap(b[i], b[j])) continue;
      if (b[i].offset < b[j].offset + b[j].size && b[j].offset < b[i].offset + b[i].size) {
        return "buffers '" + g.buffers[i].name + "' and '" + g.buffers[j].name + "' are live together and overlap";
      }
    }
  }
  return {};
}

}  // namespace y26::memory
