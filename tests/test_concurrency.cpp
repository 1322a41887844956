// What runs concurrently on the CPU, small enough to run under ThreadSanitizer ([concurrency]:
// scripts/test-sanitizers.sh thread): the thread pool's kernels, and engines sharing one copy of the
// weights detecting at once on several threads (Engine::share, as `y26 bench --engines` does). Each
// result must equal the single-threaded one bit for bit.
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "kernels/cpu/thread_pool.h"
#include "tests/support/detections.h"
#include "tests/support/fixtures.h"
#include "y26/y26.h"

using namespace y26;

namespace {

Options small(int threads) {
  Options o;
  o.device = "cpu";
  o.imgsz = 160;
  o.conf = 0.05f;  // enough detections at 160 to compare
  o.threads = threads;
  return o;
}

}  // namespace

TEST_CASE("the thread pool covers every index once, back to back and after its workers fell asleep", "[concurrency]") {
  // Jobs back to back (workers still spinning: joined by CAS), one-chunk jobs, and jobs after a pause
  // longer than the spin (workers asleep: woken through the mutex); every index exactly once, and
  // each job's writes visible to the caller when parallel_for returns.
  kernels::cpu::ThreadPool pool(3);
  std::vector<int> hits(1000);
  std::vector<int> worker_ok(1000);
  for (int job = 0; job < 300; ++job) {
    const int count = job % 7 == 0 ? 1 : 1 + (job * 37) % 1000;
    std::fill(hits.begin(), hits.end(), 0);
    pool.parallel_for(count, [&](std::int64_t b, std::int64_t e, unsigned worker) {
      for (std::int64_t i = b; i < e; ++i) {
        ++hits[static_cast<size_t>(i)];
        worker_ok[static_cast<size_t>(i)] = worker < pool.size();
      }
    });
    int wrong = 0;
    for (int i = 0; i < 1000; ++i) wrong += hits[static_cast<size_t>(i)] != (i < count ? 1 : 0) || (i < count && !worker_ok[static_cast<size_t>(i)]);
    REQUIRE(wrong == 0);
    if (job % 50 == 49) std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
}

TEST_CASE("the thread pool's kernels compute on 4 threads what 1 thread computes", "[concurrency]") {
  const Image scene = load_image(test::fixture("scene-640x456.png"));
  const auto one = Engine::load(test::fixture("yolo26n-rand.pt"), small(1)).detect(scene);
  const auto four = Engine::load(test::fixture("yolo26n-rand.pt"), small(4)).detect(scene);
  REQUIRE(!one.empty());
  CHECK(test::identical(one, four));
}

TEST_CASE("three engines sharing the weights detect at once on three threads", "[concurrency]") {
  const Image scene = load_image(test::fixture("scene-640x456.png"));
  const Image flipped = test::mirrored(scene);  // a second input, so the threads do not all compute the same thing
  Engine first = Engine::load(test::fixture("yolo26n-rand.pt"), small(2));
  const auto ref_scene = first.detect(scene);
  const auto ref_flipped = first.detect(flipped);
  std::vector<Engine> engines;
  for (int k = 0; k < 3; ++k) engines.push_back(first.share());
  std::vector<std::string> errors(3);
  std::vector<int> mismatches(3, 0);
  std::vector<std::thread> threads;
  for (int k = 0; k < 3; ++k) {
    threads.emplace_back([&, k] {
      try {
        for (int i = 0; i < 2; ++i) {
          const bool use_flipped = (k + i) % 2 == 1;
          const auto got = engines[static_cast<size_t>(k)].detect(use_flipped ? flipped : scene);
          if (!test::identical(got, use_flipped ? ref_flipped : ref_scene)) ++mismatches[static_cast<size_t>(k)];
        }
      } catch (const std::exception& e) {
        errors[static_cast<size_t>(k)] = e.what();
      }
    });
  }
  for (auto& t : threads) t.join();
  for (int k = 0; k < 3; ++k) {
    INFO("engine " << k);
    CHECK(errors[static_cast<size_t>(k)].empty());
    CHECK(mismatches[static_cast<size_t>(k)] == 0);
  }
}
