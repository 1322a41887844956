// .pt -> .safetensors conversion: both formats must yield an identical WeightMap.
#include <catch2/catch.hpp>
#include <filesystem>

#include "loader/mapped_file.h"
#include "loader/safetensors.h"
#include "loader/weight_map.h"
#include "tests/support/fixtures.h"
#include "y26/y26.h"

using namespace y26;

TEST_CASE("pt -> safetensors round trip gives an identical WeightMap", "[loader][safetensors]") {
  test::TempDir dir;
  for (const auto& model : test::fixture_models()) {
    SECTION(model) {
      const WeightMap pt = load_weights(test::fixture(model + ".pt"));
      const std::string out = dir.file(model + ".safetensors");
      convert_model(test::fixture(model + ".pt"), out);
      const WeightMap st = load_weights(out);
      CHECK(st.format == "safetensors");
      REQUIRE(st.tensors.size() == pt.tensors.size());
      for (const auto& [name, t] : pt.tensors) {
        INFO("tensor " << name);
        const Tensor& u = st.at(name);
        CHECK(u.dtype == t.dtype);
        CHECK(u.shape == t.shape);
        CHECK(u.bytes == t.bytes);
      }
      CHECK(st.meta == pt.meta);
      // converting the converted file again is a fixed point, byte for byte
      const std::string again = dir.file(model + ".again.safetensors");
      convert_model(out, again);
      CHECK(test::read_file(again) == test::read_file(out));
      // nothing else is left in the directory (no temporary files)
      CHECK(std::distance(std::filesystem::directory_iterator(dir.path()), {}) == 2);
      std::filesystem::remove(out);
      std::filesystem::remove(again);
    }
  }
}

TEST_CASE("per-module BatchNorm eps survives conversion when it is not uniform", "[loader][safetensors]") {
  test::TempDir dir;
  WeightMap w = load_weights(test::fixture("yolo26n-rand.pt"));
  w.meta.bn_eps["model.0.bn"] = 1e-5;
  loader::write_safetensors(w, dir.file("mixed.safetensors"));
  const WeightMap back = load_weights(dir.file("mixed.safetensors"));
  CHECK(back.meta.bn_eps == w.meta.bn_eps);
  CHECK_FALSE(back.meta.uniform_bn_eps().has_value());
}

TEST_CASE("safetensors written by the Python library are read", "[loader][safetensors]") {
  // The goldens file was written by safetensors.numpy.save_file.
  const WeightMap g = load_weights(test::fixture("yolo26n-rand.goldens.safetensors"));
  const Tensor& layer0 = g.expect("layer.0", {1, 96, 128, 16});
  CHECK(layer0.dtype == DType::F32);
  CHECK(g.at("input.letterboxed_u8").dtype == DType::U8);
  CHECK(g.at("input.letterboxed_u8").shape == std::vector<std::int64_t>{192, 256, 3});
}
