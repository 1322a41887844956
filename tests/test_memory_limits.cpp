// Files that declare absurd sizes must be refused before anything that size is allocated: each parser
// runs in a child process whose address space is limited to what it uses now plus 256 MiB (RLIMIT_AS), so a
// parser that allocates first and checks after fails here with std::bad_alloc instead of refusing.
// Sanitizer builds reserve terabytes of shadow memory, which no address-space limit allows: skipped there.
#include <catch2/catch.hpp>

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <fstream>
#include <functional>
#include <new>
#include <string>
#include <vector>

#include "loader/weight_map.h"
#include "tests/support/fixtures.h"
#include "tests/support/zip_builder.h"
#include "y26/y26.h"

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define Y26_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define Y26_SANITIZED 1
#endif
#endif

using namespace y26;

#ifndef Y26_SANITIZED
namespace pk = y26::test::pk;

namespace {

std::string le(std::uint64_t v, int bytes) {
  std::string s;
  for (int i = 0; i < bytes; ++i) s.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
  return s;
}

// A stored zip entry whose ZIP64 fields declare `declared` bytes (100 GB) while the file holds 4.
std::string zip64_entry_claiming(std::uint64_t declared) {
  const std::string name = "ckpt/data.pkl";
  const std::string extra = le(1, 2) + le(16, 2) + le(declared, 8) + le(declared, 8);  // id 1: uncompressed, compressed
  std::string local = le(0x04034b50, 4) + le(45, 2) + le(0, 2) + le(0, 2) + le(0, 4) + le(0, 4) + le(0xffffffff, 4) +
                      le(0xffffffff, 4) + le(name.size(), 2) + le(extra.size(), 2) + name + extra + "data";
  std::string central = le(0x02014b50, 4) + le(45, 2) + le(45, 2) + le(0, 2) + le(0, 2) + le(0, 4) + le(0, 4) +
                        le(0xffffffff, 4) + le(0xffffffff, 4) + le(name.size(), 2) + le(extra.size(), 2) + le(0, 2) +
                        le(0, 2) + le(0, 2) + le(0, 4) + le(0, 4) + name + extra;
  std::string eocd = le(0x06054b50, 4) + le(0, 2) + le(0, 2) + le(1, 2) + le(1, 2) + le(central.size(), 4) +
                     le(local.size(), 4) + le(0, 2);
  return local + central + eocd;
}

std::string safetensors(const std::string& header, const std::string& data) { return le(header.size(), 8) + header + data; }

std::string png_header(std::uint32_t w, std::uint32_t h) {
  const auto be = [](std::uint32_t v) {
    return std::string{static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8), static_cast<char>(v)};
  };
  // signature, IHDR (w, h, 8-bit RGB), a CRC the decoder need not trust, and a token IDAT
  return std::string("\x89PNG\r\n\x1a\n", 8) + be(13) + "IHDR" + be(w) + be(h) + std::string("\x08\x02\x00\x00\x00", 5) + be(0) +
         be(2) + "IDAT" + "xx" + be(0);
}

struct Case {
  const char* what;
  std::string bytes;
  std::string file;
  std::function<void(const std::string&)> parse;
};

// Runs every case in a child under the limit; returns one line per case that did not refuse cleanly.
std::vector<std::string> run_limited(const std::vector<Case>& cases, std::size_t headroom) {
  test::TempDir dir;
  for (const auto& c : cases) test::write_file(dir.file(c.file), c.bytes);
  int fds[2];
  REQUIRE(pipe(fds) == 0);
  const pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    close(fds[0]);
    // the address space in use now, from /proc/self/statm (pages), plus the headroom
    std::size_t pages = 0;
    std::ifstream("/proc/self/statm") >> pages;
    const rlim_t limit = static_cast<rlim_t>(pages) * static_cast<rlim_t>(sysconf(_SC_PAGESIZE)) + headroom;
    const rlimit rl{limit, limit};
    if (setrlimit(RLIMIT_AS, &rl) != 0) _exit(3);
    std::string report;
    for (const auto& c : cases) {
      try {
        c.parse(dir.file(c.file));
        report += std::string(c.what) + ": accepted\n";
      } catch (const y26::Error&) {
        // refused before allocating: what every case must do
      } catch (const std::bad_alloc&) {
        report += std::string(c.what) + ": allocated before checking (std::bad_alloc under the limit)\n";
      } catch (const std::exception& e) {
        report += std::string(c.what) + ": " + e.what() + "\n";
      }
    }
    if (!report.empty() && write(fds[1], report.data(), report.size()) < 0) _exit(4);
    _exit(0);
  }
  close(fds[1]);
  std::string out;
  char buf[512];
  for (ssize_t n; (n = read(fds[0], buf, sizeof buf)) > 0;) out.append(buf, static_cast<size_t>(n));
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  std::vector<std::string> failures;
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) failures.push_back("the child died (status " + std::to_string(status) + ")");
  for (size_t pos = 0, end; (end = out.find('\n', pos)) != std::string::npos; pos = end + 1) failures.push_back(out.substr(pos, end - pos));
  return failures;
}

const auto load = [](const std::string& path) { (void)load_weights(path); };
const auto image = [](const std::string& path) { (void)load_image(path); };

}  // namespace
#endif

TEST_CASE("files declaring absurd sizes are refused without allocating them", "[loader][bad][limits]") {
#ifdef Y26_SANITIZED
  WARN("skipped: a sanitizer's shadow memory does not fit an address-space limit");
  return;
#else
  const std::vector<Case> cases = {
      {"a tensor of 2^40 elements in a .pt",
       test::make_checkpoint(pk::state_dict_with_tensor("w", "FloatStorage", 4, {1 << 20, 1 << 20}, {1 << 20, 1}),
                             {{"0", std::string(16, '\x11')}}),
       "huge-tensor.pt", load},
      {"a storage of 2^30 floats in a .pt",
       test::make_checkpoint(pk::state_dict_with_tensor("w", "FloatStorage", 1 << 30, {4}, {1}), {{"0", std::string(16, '\x11')}}),
       "huge-storage.pt", load},
      {"a pickle string of 2 GiB", test::make_checkpoint(pk::proto(2) + "X\xff\xff\xff\x7f" + pk::stop), "huge-string.pt", load},
      {"a 100 GB zip entry", zip64_entry_claiming(100'000'000'000ull), "huge-entry.pt", load},
      {"a tensor of 2^40 elements in a .safetensors",
       safetensors(R"({"w":{"dtype":"F32","shape":[1048576,1048576],"data_offsets":[0,4398046511104]}})", std::string(8, '\0')),
       "huge.safetensors", load},
      {"a 10^10-pixel PNG", png_header(100000, 100000), "huge.png", image},
      {"a 10^10-pixel BMP",
       std::string("BM") + le(70, 4) + le(0, 4) + le(54, 4) + le(40, 4) + le(100000, 4) + le(100000, 4) + le(1, 2) + le(24, 2) +
           le(0, 4) + le(0, 4) + le(2835, 4) + le(2835, 4) + le(0, 4) + le(0, 4) + std::string(16, '\x7f'),
       "huge.bmp", image},
      {"a 65500x65500 JPEG",
       std::string("\xff\xd8\xff\xc0\x00\x11\x08\xff\xdc\xff\xdc\x03\x01\x22\x00\x02\x11\x01\x03\x11\x01\xff\xd9", 23),
       "huge.jpg", image},
  };
  // the limit holds: an allocation of the declared size fails under it (the test can fail)
  const auto allocating = run_limited({{"an allocation of 2^32 floats", "x", "x.bin",
                                        [](const std::string&) { std::vector<float> v(std::size_t{1} << 32); v[7] = 1; }}},
                                      256u << 20);
  REQUIRE(allocating.size() == 1);
  CHECK(allocating[0].find("allocated before checking") != std::string::npos);
  const auto failures = run_limited(cases, 256u << 20);
  for (const auto& f : failures) FAIL_CHECK(f);
  CHECK(failures.empty());
#endif
}
