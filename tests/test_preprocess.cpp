// Pre-processing contract: LetterBox.get_params values Ultralytics 8.4.190 computes
// (table generated with ultralytics.data.augment.LetterBox), and the thread pool the
// CPU kernels share.
#include <catch2/catch.hpp>
#include <atomic>
#include <vector>

#include "kernels/cpu/thread_pool.h"
#include "runtime/letterbox.h"

using namespace y26;

TEST_CASE("letterbox geometry equals Ultralytics' LetterBox.get_params", "[preprocess]") {
  struct Case {
    int w, h, imgsz;
    bool rect;
    int unpad_w, unpad_h, top, bottom, left, right;
  };
  const Case cases[] = {
      {640, 456, 640, true, 640, 456, 12, 12, 0, 0},   {1000, 700, 640, false, 640, 448, 96, 96, 0, 0},
      {1000, 700, 640, true, 640, 448, 0, 0, 0, 0},    {37, 29, 320, true, 320, 251, 2, 3, 0, 0},
      {5, 300, 128, false, 2, 128, 0, 0, 63, 63},      {1001, 333, 640, true, 640, 213, 5, 6, 0, 0},
      {3000, 2, 640, true, 640, 1, 15, 16, 0, 0},      {1, 1, 64, true, 64, 64, 0, 0, 0, 0},
      {500, 375, 608, true, 608, 456, 12, 12, 0, 0},
  };
  for (const Case& c : cases) {
    INFO(c.w << "x" << c.h << " at " << c.imgsz << (c.rect ? " rect" : " square"));
    const auto lb = runtime::letterbox_params(c.w, c.h, c.imgsz, c.imgsz, c.rect, 32);
    CHECK(lb.unpad_w == c.unpad_w);
    CHECK(lb.unpad_h == c.unpad_h);
    CHECK(lb.top == c.top);
    CHECK(lb.bottom == c.bottom);
    CHECK(lb.left == c.left);
    CHECK(lb.right == c.right);
    CHECK(lb.out_h() % 32 == 0);
    CHECK(lb.out_w() % 32 == 0);
  }
}

TEST_CASE("the thread pool runs every index exactly once", "[threads]") {
  kernels::cpu::ThreadPool pool(3);
  CHECK(pool.size() == 3);
  for (std::int64_t count : {1, 2, 7, 64, 1001}) {
    std::vector<std::atomic<int>> hits(static_cast<size_t>(count));
    for (int round = 0; round < 3; ++round) {  // reuse across calls
      pool.parallel_for(count, [&](std::int64_t b, std::int64_t e) {
        for (std::int64_t i = b; i < e; ++i) ++hits[static_cast<size_t>(i)];
      });
    }
    for (auto& h : hits) CHECK(h.load() == 3);
  }
  pool.parallel_for(0, [](std::int64_t, std::int64_t) { FAIL("called for an empty range"); });
}
