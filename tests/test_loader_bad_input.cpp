// Hostile and broken model files: each must give one y26::Error naming the file
// and the problem, never a crash, a hang or code execution.
#include <catch2/catch.hpp>
#include <functional>

#include "loader/weight_map.h"
#include "tests/support/errors.h"
#include "tests/support/fixtures.h"
#include "tests/support/zip_builder.h"
#include "y26/y26.h"

using namespace y26;
namespace pk = y26::test::pk;

namespace {

// The message after "path: " with which load_weights refuses `bytes` (tests/support/errors.h).
std::string load_error(const std::string& bytes, const std::string& name = "bad.pt") {
  return test::refusal(bytes, name, [](const std::string& path) { load_weights(path); });
}

std::string storage_bytes(size_t n) { return std::string(n, '\x11'); }

}  // namespace

TEST_CASE("truncated checkpoints are refused with a clear error", "[loader][bad]") {
  const std::string good = test::read_file(test::fixture("yolo26n-rand.pt"));
  for (size_t cut : {size_t{0}, size_t{3}, size_t{100}, good.size() / 2, good.size() - 30, good.size() - 1}) {
    INFO("cut at " << cut);
    const std::string msg = load_error(good.substr(0, cut));
    CHECK_FALSE(msg.empty());
  }
  CHECK(load_error("").find("empty") != std::string::npos);
  CHECK(load_error(good.substr(0, good.size() / 2)).find("end-of-central-directory") != std::string::npos);
}

TEST_CASE("a zip entry pointing past the end of the file is refused", "[loader][bad]") {
  std::string zip = test::make_checkpoint(pk::state_dict_with_tensor("w", "FloatStorage", 4, {4}, {1}),
                                          {{"0", storage_bytes(16)}});
  // Rewrite the last central-directory record's local-header offset to lie past the end.
  const size_t cd = zip.rfind(std::string("PK\x01\x02", 4));
  REQUIRE(cd != std::string::npos);
  const std::uint32_t past = static_cast<std::uint32_t>(zip.size() + 1000);
  for (int i = 0; i < 4; ++i) zip[cd + 42 + i] = static_cast<char>((past >> (8 * i)) & 0xff);
  CHECK(load_error(zip).find("past end of file") != std::string::npos);

  // An entry whose size runs past the end: cut the data but keep the directory.
  std::string sized = test::make_checkpoint(pk::state_dict_with_tensor("w", "FloatStorage", 4, {4}, {1}),
                                            {{"0", storage_bytes(16)}});
  const size_t cd2 = sized.rfind(std::string("PK\x01\x02", 4));
  for (int off : {20, 24}) sized[cd2 + off + 2] = '\x7f';  // sizes ~ 8 MB
  CHECK(load_error(sized).find("past end of file") != std::string::npos);
}

TEST_CASE("compressed and encrypted zip entries are refused", "[loader][bad]") {
  const std::string pkl = pk::state_dict_with_tensor("w", "FloatStorage", 4, {4}, {1});
  std::vector<std::pair<std::string, std::string>> entries{{"ckpt/data.pkl", pkl}, {"ckpt/data/0", storage_bytes(16)}};
  CHECK(load_error(test::make_zip(entries, {.method = 8})).find("compressed") != std::string::npos);
  CHECK(load_error(test::make_zip(entries, {.flags = 1})).find("encrypted") != std::string::npos);
}

TEST_CASE("pickles that reach for code are refused, and nothing runs", "[loader][bad]") {
  // os.system('touch <marker>') via GLOBAL + REDUCE, protocol 2
  test::TempDir dir;
  const std::string marker = dir.file("pwned");
  const std::string os_system = pk::proto(2) + pk::global("os", "system") + pk::mark + pk::str("touch " + marker) +
                                pk::tuple + pk::reduce + pk::stop;
  const std::string msg = load_error(test::make_checkpoint(os_system));
  CHECK(msg.find("'os.system'") != std::string::npos);
  CHECK(msg.find("allow-list") != std::string::npos);
  CHECK_FALSE(std::filesystem::exists(marker));

  // builtins.eval via STACK_GLOBAL, protocol 4
  const std::string eval = pk::proto(4) + pk::stack_global("builtins", "eval") + pk::mark + pk::str("1+1") + pk::tuple +
                           pk::reduce + pk::stop;
  CHECK(load_error(test::make_checkpoint(eval)).find("'builtins.eval'") != std::string::npos);
  // protocol-2 spelling of the same module
  const std::string eval2 = pk::proto(2) + pk::global("__builtin__", "getattr") + pk::stop;
  CHECK(load_error(test::make_checkpoint(eval2)).find("'builtins.getattr'") != std::string::npos);
  // dunder attributes reached through an allowed package prefix
  const std::string dunder = pk::proto(2) + pk::global("ultralytics", "__builtins__") + pk::stop;
  CHECK(load_error(test::make_checkpoint(dunder)).find("allow-list") != std::string::npos);
  // subprocess, posix
  for (auto [m, n] : {std::pair{"subprocess", "Popen"}, std::pair{"posix", "system"}, std::pair{"torch", "load"}}) {
    CHECK(load_error(test::make_checkpoint(pk::proto(2) + pk::global(m, n) + pk::stop)).find("allow-list") !=
          std::string::npos);
  }
}

TEST_CASE("huge or inconsistent tensor declarations are refused", "[loader][bad]") {
  // shape overflows 64 bits
  CHECK(load_error(test::make_checkpoint(pk::state_dict_with_tensor("w", "FloatStorage", 4, {1 << 30, 1 << 30, 1 << 30}, {1, 1, 1}),
                                         {{"0", storage_bytes(16)}}))
            .find("overflows") != std::string::npos);
  // a tensor addressing past its storage
  CHECK(load_error(test::make_checkpoint(pk::state_dict_with_tensor("w", "FloatStorage", 4, {1000000}, {1}),
                                         {{"0", storage_bytes(16)}}))
            .find("past the end of storage") != std::string::npos);
  // a storage claiming more elements than its zip entry holds
  CHECK(load_error(test::make_checkpoint(pk::state_dict_with_tensor("w", "FloatStorage", 1 << 30, {4}, {1}),
                                         {{"0", storage_bytes(16)}}))
            .find("declares") != std::string::npos);
  // a storage whose zip entry is missing
  CHECK(load_error(test::make_checkpoint(pk::state_dict_with_tensor("w", "FloatStorage", 4, {4}, {1})))
            .find("missing") != std::string::npos);
  // negative sizes
  CHECK(load_error(test::make_checkpoint(pk::state_dict_with_tensor("w", "FloatStorage", 4, {-4}, {1}),
                                         {{"0", storage_bytes(16)}}))
            .find("negative") != std::string::npos);
}

TEST_CASE("a hand-made minimal checkpoint loads", "[loader][pt]") {
  // The same builder as the hostile cases, with consistent numbers: proves those tests
  // fail for the reason they name, not because the builder is broken.
  std::string data;
  for (float f : {1.0f, -2.0f, 0.5f, 3.25f, 7.0f, 8.0f}) data.append(reinterpret_cast<const char*>(&f), 4);
  test::TempDir dir;
  test::write_file(dir.file("ok.pt"), test::make_checkpoint(pk::state_dict_with_tensor("w", "FloatStorage", 6, {2, 2}, {1, 2}),
                                                            {{"0", data}}));
  const WeightMap w = load_weights(dir.file("ok.pt"));
  const Tensor& t = w.at("w");
  CHECK(t.shape == std::vector<std::int64_t>{2, 2});
  // strides (1, 2): element [i][j] = storage[i + 2j], materialised row-major
  CHECK(t.to_float() == std::vector<float>{1.0f, 0.5f, -2.0f, 3.25f});
}

TEST_CASE("pickle structure errors are reported, not crashed on", "[loader][bad]") {
  const auto ck = [](const std::string& p) { return test::make_checkpoint(p); };
  CHECK(load_error(ck(pk::proto(2) + "0" + pk::stop)).find("stack underflow") != std::string::npos);
  CHECK(load_error(ck(pk::proto(2) + "h\x05" + pk::stop)).find("never stored") != std::string::npos);
  CHECK(load_error(ck(pk::proto(2) + pk::str("x"))).find("truncated") != std::string::npos);
  CHECK(load_error(ck(pk::proto(2) + "\xff")).find("unknown opcode") != std::string::npos);
  CHECK(load_error(ck(pk::proto(2) + std::string("X\x00\x00\x00\x01", 5))).find("truncated") != std::string::npos);
  CHECK(load_error(ck(pk::proto(2) + "X\xff\xff\xff\x7f")).find("exceeds the limit") != std::string::npos);
  CHECK(load_error(ck(pk::proto(2) + std::string(5000, '(') + pk::stop)).find("MARK nesting") != std::string::npos);
  CHECK(load_error(ck(pk::proto(2) + pk::empty_dict + pk::stop)).find("neither 'model' nor 'ema'") != std::string::npos);
  CHECK(load_error(ck(pk::proto(2) + pk::none + pk::stop)).find("not a dict") != std::string::npos);
  CHECK(load_error(test::make_zip({{"x/other.bin", "abc"}})).find("no data.pkl") != std::string::npos);
  CHECK(load_error("\x80\x02\x8a\x0a junk legacy", "legacy.pt").find("legacy") != std::string::npos);
  CHECK(load_error("hello world, not a model", "text.pt").find("not a model file") != std::string::npos);
}

TEST_CASE("bad safetensors files are refused", "[loader][bad]") {
  auto st = [](const std::string& header, const std::string& data) {
    std::string out(8, '\0');
    for (int i = 0; i < 8; ++i) out[i] = static_cast<char>((header.size() >> (8 * i)) & 0xff);
    return out + header + data;
  };
  const std::string ok_header = R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})";
  test::TempDir dir;
  test::write_file(dir.file("ok.safetensors"), st(ok_header, std::string(8, '\0')));
  CHECK(load_weights(dir.file("ok.safetensors")).at("w").shape == std::vector<std::int64_t>{2});

  CHECK(load_error(st(ok_header, std::string(4, '\0')), "short.safetensors").find("lie outside the data") != std::string::npos);
  CHECK(load_error(st(R"({"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", std::string(8, '\0')), "shape.safetensors")
            .find("does not match") != std::string::npos);
  CHECK(load_error(st(R"({"w":{"dtype":"Q4","shape":[2],"data_offsets":[0,8]}})", std::string(8, '\0')), "dtype.safetensors")
            .find("unsupported dtype") != std::string::npos);
  CHECK(load_error(st(R"({"w":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}})", std::string(8, '\0')), "neg.safetensors")
            .find("negative") != std::string::npos);
  CHECK(load_error(st(R"({"w": tru)", std::string(8, '\0')), "json.safetensors").find("not valid JSON") != std::string::npos);
  CHECK(load_error(st(R"({"w":{"dtype":"F32","shape":[4294967296,4294967296,4294967296],"data_offsets":[0,8]}})", std::string(8, '\0')),
                   "huge.safetensors")
            .find("overflows") != std::string::npos);
  CHECK(load_error(st(R"({"__metadata__":{"nc":"5"}})", ""), "empty.safetensors").find("no tensors") != std::string::npos);
  CHECK(load_error(st(R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"__metadata__":{"stride":"[8,"}})",
                      std::string(8, '\0')),
                   "meta.safetensors")
            .find("__metadata__ 'stride'") != std::string::npos);
}

TEST_CASE("missing tensors and wrong shapes name the file and the tensor", "[loader][bad]") {
  const std::string path = test::fixture("yolo26n-rand.pt");
  const WeightMap w = load_weights(path);
  try {
    w.at("model.99.conv.weight");
    FAIL("no error");
  } catch (const Error& e) {
    CHECK(std::string(e.what()) == path + ": tensor 'model.99.conv.weight' is missing");
  }
  try {
    w.expect("model.0.conv.weight", {32, 3, 3, 3});
    FAIL("no error");
  } catch (const Error& e) {
    CHECK(std::string(e.what()) ==
          path + ": tensor 'model.0.conv.weight' has shape [16, 3, 3, 3], expected [32, 3, 3, 3]");
  }
}
