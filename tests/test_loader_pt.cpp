// The native .pt reader against the manifests make_goldens.py wrote from PyTorch.
#include <catch2/catch.hpp>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "loader/weight_map.h"
#include "tests/support/fixtures.h"
#include "y26/y26.h"

using namespace y26;
using nlohmann::json;

namespace {

void check_against_manifest(const WeightMap& w, const json& m) {
  const json& tensors = m["tensors"];
  REQUIRE(w.tensors.size() == tensors.size());
  for (const auto& [name, expect] : tensors.items()) {
    INFO("tensor " << name);
    const Tensor* t = w.find(name);
    REQUIRE(t != nullptr);
    CHECK(dtype_name(t->dtype) == expect["dtype"].get<std::string>());
    CHECK(t->shape == expect["shape"].get<std::vector<std::int64_t>>());
    CHECK(test::hex64(fnv1a64(t->bytes.data(), t->bytes.size())) == expect["fnv1a64"].get<std::string>());
  }
  CHECK(w.parameter_count() == m["parameters"].get<std::int64_t>());
  CHECK(w.meta.nc == m["nc"].get<int>());
  const auto names = m["names"].get<std::vector<std::string>>();
  REQUIRE(w.meta.names.size() == names.size());
  for (size_t i = 0; i < names.size(); ++i) CHECK(w.meta.names.at(static_cast<int>(i)) == names[i]);
  CHECK(w.meta.stride == m["stride"].get<std::vector<float>>());
  const auto eps = m["bn_eps"].get<std::vector<double>>();
  REQUIRE(eps.size() == 1);
  REQUIRE(w.meta.uniform_bn_eps().has_value());
  CHECK(*w.meta.uniform_bn_eps() == eps[0]);
  CHECK(w.meta.scale == m["scale"].get<std::string>());
  CHECK(w.meta.end2end == m["end2end"].get<bool>());
  CHECK(w.meta.reg_max == m["reg_max"].get<int>());
}
}  // namespace

TEST_CASE("fixture checkpoints load natively and match the PyTorch manifest", "[loader][pt]") {
  for (const auto& model : test::fixture_models()) {
    SECTION(model) {
      const json manifest = json::parse(test::read_file(test::fixture(model + ".manifest.json")));
      const WeightMap w = load_weights(test::fixture(model + ".pt"));
      CHECK(w.format == "pt");
      check_against_manifest(w, manifest);
      // one BatchNorm eps per BatchNorm module, keyed by module prefix
      size_t bn_modules = 0;
      for (const auto& [name, t] : w.tensors) bn_modules += name.ends_with(".running_var");
      CHECK(w.meta.bn_eps.size() == bn_modules);
      CHECK(w.meta.bn_eps.count("model.0.bn") == 1);
      CHECK_FALSE(w.meta.yaml_json.empty());
      CHECK(w.meta.extra.at("version").rfind("8.4", 0) == 0);
    }
  }
}

TEST_CASE("weights are FP16 as Ultralytics saves them, with real values", "[loader][pt]") {
  const WeightMap w = load_weights(test::fixture("yolo26n-rand.pt"));
  const Tensor& stem = w.expect("model.0.conv.weight", {16, 3, 3, 3});
  CHECK(stem.dtype == DType::F16);
  const auto v = stem.to_float();
  double sum_sq = 0;
  for (float x : v) sum_sq += double(x) * x;
  CHECK(sum_sq > 1.0);  // He-normal init over fan-in 27: far from zero
  CHECK(w.at("model.0.bn.num_batches_tracked").dtype == DType::I64);
  // the one-to-one head of the end-to-end model is stored beside the one-to-many head
  CHECK(w.find("model.23.one2one_cv3.0.2.bias") != nullptr);
  CHECK(w.find("model.23.cv3.0.2.bias") != nullptr);
}

TEST_CASE("the 'ema' model is used when 'model' is None", "[loader][pt]") {
  // The second fixture is saved as {'model': None, 'ema': DetectionModel} (a stripped training checkpoint).
  const json manifest = json::parse(test::read_file(test::fixture("yolo26l-thin-nc5-rand.manifest.json")));
  REQUIRE(manifest["source"] == "ema");
  const WeightMap w = load_weights(test::fixture("yolo26l-thin-nc5-rand.pt"));
  CHECK(w.meta.nc == 5);
  CHECK(w.at("model.0.conv.weight").shape == std::vector<std::int64_t>{24, 3, 3, 3});
}

TEST_CASE("inspect_model reports what y26 info prints", "[loader][pt]") {
  const ModelInfo m = inspect_model(test::fixture("yolo26n-rand.pt"));
  CHECK(m.format == "pt");
  CHECK(m.tensor_count == 708);
  CHECK(m.parameter_count == 2572280);  // Ultralytics' own summary for yolo26n
  CHECK(m.num_classes == 80);
  REQUIRE(m.class_names.size() == 80);
  CHECK(m.class_names[0] == "person");
  CHECK(m.class_names[79] == "toothbrush");
  CHECK(m.strides == std::vector<float>{8, 16, 32});
  CHECK(m.end2end == true);
  CHECK(m.reg_max == 1);
  CHECK(m.batchnorm_eps == Approx(1e-3));
}
