// Which YOLO task a checkpoint is for, and the refusal of every head y26 does not run. A YOLO26
// segmentation or pose checkpoint carries a detection head's tensors too: built as a detector it
// used to load and "detect" without a word (as an OBB model did, its boxes without their angles,
// before y26 ran oriented boxes: tests/test_obb.cpp). The
// heads here are the detection fixture with the extra tensors of Ultralytics 8.4.190's Segment26,
// Pose26, OBB26 and Classify heads (names and shapes as yolo26n-{seg,pose,obb,cls}.yaml build
// them), with and without the model yaml that names the head, loaded from a .safetensors file as a
// user's would be.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "graph/task.h"
#include "graph/yolo26.h"
#include "loader/safetensors.h"
#include "tests/support/fixtures.h"
#include "y26/y26.h"

using namespace y26;

namespace {

Tensor zeros(std::vector<std::int64_t> shape) {
  Tensor t;
  t.dtype = DType::F32;
  t.shape = std::move(shape);
  t.bytes.assign(static_cast<size_t>(t.numel()) * 4, 0);
  return t;
}

// The head module the yaml names, replaced (the yaml as the checkpoint carries it, as JSON).
std::string yaml_with_head(const std::string& yaml_json, const std::string& module) {
  auto yaml = nlohmann::json::parse(yaml_json);
  yaml.at("head").back().at(2) = module;
  return yaml.dump();
}

struct TaskCase {
  const char* name;
  graph::Task task;
  const char* yaml_module;  // the yaml's head module
  std::vector<std::pair<std::string, std::vector<std::int64_t>>> extra;  // the head's own tensors
  const char* says;  // what the refusal says of the model
};

std::vector<TaskCase> cases() {
  return {
      // YOLOv8's Segment: Proto on P3 alone, no feat_refine (y26 runs Segment26: tests/test_segment.cpp)
      {"segment", graph::Task::Segment, "Segment",
       {{"model.23.proto.cv1.conv.weight", {64, 64, 3, 3}}, {"model.23.cv4.0.2.weight", {32, 32, 1, 1}},
        {"model.23.one2one_cv4.0.2.weight", {32, 32, 1, 1}}},
       "the YOLOv8 layout"},
  };
}

}  // namespace

TEST_CASE("the detection fixtures are detection models, by yaml and by tensors", "[tasks]") {
  for (const auto& model : test::fixture_models()) {
    WeightMap w = load_weights(test::fixture(model + ".pt"));
    INFO(model);
    const graph::HeadKind k = graph::head_kind(w);
    CHECK(k.task == graph::Task::Detect);
    CHECK(k.module == "Detect");
    CHECK(k.layer == "model.23");
    w.meta.yaml_json.clear();
    CHECK(graph::head_kind(w).task == graph::Task::Detect);
    CHECK(inspect_model(test::fixture(model + ".pt")).task == "detect");
  }
}

TEST_CASE("YOLOv8 segmentation checkpoints are refused by name, never detected", "[tasks]") {
  const WeightMap base = load_weights(test::fixture("yolo26n-rand.pt"));
  REQUIRE(!base.meta.yaml_json.empty());
  test::TempDir dir;
  for (const TaskCase& c : cases()) {
    for (const bool with_yaml : {true, false}) {
      INFO(c.name << (with_yaml ? ", the yaml naming the head" : ", no yaml: the tensors alone"));
      WeightMap w = base;
      for (const auto& [name, shape] : c.extra) w.tensors[name] = zeros(shape);
      w.meta.yaml_json = with_yaml ? yaml_with_head(base.meta.yaml_json, c.yaml_module) : "";
      const graph::HeadKind k = graph::head_kind(w);
      CHECK(k.task == c.task);
      if (with_yaml) CHECK(k.module == c.yaml_module);
      // Through the user's door: a file, Engine::load, one line naming the file and the task.
      const std::string path = dir.file(std::string(c.name) + (with_yaml ? "-yaml" : "") + ".safetensors");
      loader::write_safetensors(w, path);
      CHECK(inspect_model(path).task == graph::task_name(c.task));
      try {
        Options o;
        o.device = "cpu";
        Engine::load(path, o);
        FAIL("loaded as a detector");
      } catch (const Error& e) {
        const std::string msg = e.what();
        INFO(msg);
        CHECK(msg.rfind(path + ": ", 0) == 0);
        CHECK(msg.find(c.says) != std::string::npos);
        CHECK(msg.find("a segmentation model whose head 'model.23' is Segment") != std::string::npos);
        CHECK(msg.find('\n') == std::string::npos);
      }
    }
  }
}

TEST_CASE("heads y26 does not know are refused whatever their tensors; the tensors win over a wrong yaml", "[tasks]") {
  WeightMap w = load_weights(test::fixture("yolo26n-rand.pt"));
  const std::string yaml = w.meta.yaml_json;
  for (const char* module : {"YOLOEDetect", "WorldDetect", "RTDETRDecoder"}) {
    INFO(module);
    w.meta.yaml_json = yaml_with_head(yaml, module);
    const graph::HeadKind k = graph::head_kind(w);
    CHECK(k.task == graph::Task::Unknown);
    CHECK(k.module == module);
    try {
      graph::build_yolo26(w, {640, 640, true});
      FAIL("built");
    } catch (const Error& e) {
      CHECK(std::string(e.what()).find(std::string("is ") + module + ", not a YOLO head y26 runs") != std::string::npos);
    }
  }
  // A yaml that says Detect over a segmentation head's tensors: the tensors are what would run.
  w.meta.yaml_json = yaml;
  w.tensors["model.23.proto.cv1.conv.weight"] = zeros({64, 64, 3, 3});
  const graph::HeadKind k = graph::head_kind(w);
  CHECK(k.task == graph::Task::Segment);
  CHECK(k.module == "Segment (the yaml says Detect)");
  CHECK_THROWS_WITH(graph::build_yolo26(w, {640, 640, true}), Catch::Contains("(Proto on P3 alone, the YOLOv8 layout)"));
}

TEST_CASE("a detection head elsewhere than model.23 (YOLO26's P2/P6 variants) is refused as such", "[tasks]") {
  WeightMap w = load_weights(test::fixture("yolo26n-rand.pt"));
  // the head moved to layer 29, as yolo26-p2.yaml has it
  std::map<std::string, Tensor> moved;
  for (auto& [name, t] : w.tensors) {
    moved[name.rfind("model.23.", 0) == 0 ? "model.29." + name.substr(9) : name] = std::move(t);
  }
  w.tensors = std::move(moved);
  const graph::HeadKind k = graph::head_kind(w);
  CHECK(k.task == graph::Task::Detect);
  CHECK(k.layer == "model.29");
  CHECK_THROWS_WITH(graph::build_yolo26(w, {640, 640, true}), Catch::Contains("its head at 'model.29'"));
}

TEST_CASE("a Classify head elsewhere than yolo26-cls.yaml's model.10 is refused, named as a classifier", "[tasks]") {
  // the detection fixture with a Classify head's tensors at model.23 (what a yaml of another layout builds)
  WeightMap w = load_weights(test::fixture("yolo26n-rand.pt"));
  w.tensors["model.23.linear.weight"] = zeros({1000, 1280});
  w.tensors["model.23.linear.bias"] = zeros({1000});
  w.meta.yaml_json.clear();
  const graph::HeadKind k = graph::head_kind(w);
  CHECK(k.task == graph::Task::Classify);
  CHECK(k.layer == "model.23");
  CHECK_THROWS_WITH(graph::build_yolo26(w, {224, 224, true}),
                    Catch::Contains("a classification model with its head at 'model.23'") && Catch::Contains("model.10"));
}

TEST_CASE("a YOLOv8-style detection head (DFL, reg_max 16) is refused by name, never decoded as YOLO26's", "[tasks][bad]") {
  WeightMap w = load_weights(test::fixture("yolo26n-rand.pt"));
  // YOLOv8's box branches end in 4 x 16 distribution bins, which its DFL layer (a fixed 1x1 conv) reduces
  for (const char* branch : {"cv2", "one2one_cv2"}) {
    for (int level = 0; level < 3; ++level) {
      const std::string name = std::string("model.23.") + branch + "." + std::to_string(level) + ".2";
      const Tensor& weight = w.tensors.at(name + ".weight");
      REQUIRE(weight.shape[0] == 4);
      w.tensors[name + ".weight"] = zeros({64, weight.shape[1], 1, 1});
      w.tensors[name + ".bias"] = zeros({64});
    }
  }
  w.tensors["model.23.dfl.conv.weight"] = zeros({1, 16, 1, 1});
  try {
    graph::build_yolo26(w, {640, 640, true});
    FAIL("built");
  } catch (const Error& e) {
    const std::string msg = e.what();
    INFO(msg);
    CHECK(msg.find("has 64 outputs: DFL heads (reg_max > 1) are not supported, YOLO26 uses reg_max 1") != std::string::npos);
    CHECK(msg.find("model.23.") != std::string::npos);
    CHECK(msg.find('\n') == std::string::npos);
  }
}
