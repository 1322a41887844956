#include "graph/schedule.h"

#include <algorithm>

namespace y26::graph {

bool slices_overlap(const Slice& a, const Slice& b) {
  if (a.buffer != b.buffer) return false;
  const std::int64_t ap = a.pixel0, ae = ap + static_cast<std::int64_t>(a.h) * a.w;
  const std::int64_t bp = b.pixel0, be = bp + static_cast<std::int64_t>(b.h) * b.w;
  return a.c0 < b.c0 + b.c && b.c0 < a.c0 + a.c && ap < be && bp < ae;
}

Schedule schedule(const Graph& g) {
  const int n = static_cast<int>(g.nodes.size());
  const size_t words = static_cast<size_t>(n + 63) / 64;
  Schedule s;
  s.preds.resize(static_cast<size_t>(n));
  s.ancestors.assign(static_cast<size_t>(n), std::vector<std::uint64_t>(words, 0));
  auto reads = [&](const Node& node) {
    std::vector<Slice> r = node.inputs;
    if (node.residual) r.push_back(*node.residual);
    return r;
  };
  for (int i = 0; i < n; ++i) {
    const Node& ni = g.nodes[static_cast<size_t>(i)];
    const auto ri = reads(ni);
    auto& anc = s.ancestors[static_cast<size_t>(i)];
    for (int j = i - 1; j >= 0; --j) {
      const Node& nj = g.nodes[static_cast<size_t>(j)];
      bool dep = slices_overlap(nj.output, ni.output);                                                        // WAW
      for (const Slice& r : ri) dep = dep || slices_overlap(nj.output, r);                                   // RAW
      for (const Slice& r : reads(nj)) dep = dep || slices_overlap(r, ni.output);                            // WAR
      if (!dep || s.precedes(j, i)) continue;  // already implied by a later predecessor
      s.preds[static_cast<size_t>(i)].push_back(j);
      const auto& aj = s.ancestors[static_cast<size_t>(j)];
      for (size_t w = 0; w < words; ++w) anc[w] |= aj[w];
      anc[static_cast<size_t>(j) / 64] |= std::uint64_t{1} << (j % 64);
    }
  }

  // Streams: follow a chain while its latest node is a direct predecessor; otherwise take a stream
  // whose latest node already precedes this one (no extra ordering), then a new stream, then the
  // stream whose latest node is likely to finish first, the shallowest by dependency depth (an
  // extra ordering, harmless to correctness: the memory plan assumes only the dependencies).
  std::vector<int> depth(static_cast<size_t>(n), 0);
  for (int i = 0; i < n; ++i)
    for (int p : s.preds[static_cast<size_t>(i)])
      depth[static_cast<size_t>(i)] = std::max(depth[static_cast<size_t>(i)], depth[static_cast<size_t>(p)] + 1);
  s.stream.assign(static_cast<size_t>(n), 0);
  std::vector<int> tail;  // latest node per stream
  for (int i = 0; i < n; ++i) {
    int pick = -1;
    const auto& preds = s.preds[static_cast<size_t>(i)];
    for (int p : preds) {  // the most recent predecessor first: long chains stay together
      if (tail[static_cast<size_t>(s.stream[static_cast<size_t>(p)])] == p) {
        pick = s.stream[static_cast<size_t>(p)];
        break;
      }
    }
    for (int k = 0; pick < 0 && k < static_cast<int>(tail.size()); ++k) {
      if (s.precedes(tail[static_cast<size_t>(k)], i)) pick = k;
    }
    if (pick < 0 && static_cast<int>(tail.size()) < kMaxStreams) {
      pick = static_cast<int>(tail.size());
      tail.push_back(-1);
    }
    if (pick < 0) {
      pick = static_cast<int>(std::min_element(tail.begin(), tail.end(), [&](int a, int b) {
                                return depth[static_cast<size_t>(a)] < depth[static_cast<size_t>(b)];
                              }) - tail.begin());
    }
    s.stream[static_cast<size_t>(i)] = pick;
    tail[static_cast<size_t>(pick)] = i;
  }
  s.streams = std::max<int>(1, static_cast<int>(tail.size()));
  return s;
}

}  // namespace y26::graph
