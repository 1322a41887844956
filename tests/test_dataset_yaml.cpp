// data.yaml as Ultralytics 8.4.190's check_det_dataset reads it (runtime/dataset_yaml.h): the splits
// resolved against the dataset root, the class names from a list, a map or nc, and one clear error per
// malformed file.
#include <catch2/catch.hpp>

#include <filesystem>

#include "runtime/dataset_yaml.h"
#include "tests/support/fixtures.h"
#include "y26/y26.h"

using namespace y26;
using namespace y26::runtime;
namespace fs = std::filesystem;

namespace {
std::string canon(const fs::path& p) { return fs::weakly_canonical(p).string(); }
}  // namespace

TEST_CASE("data.yaml: splits relative to the yaml's folder, names as a list", "[dataset]") {
  test::TempDir dir;
  fs::create_directories(dir.file("ds/images/val"));
  test::write_file(dir.file("ds/data.yaml"), "# a comment\ntrain: images/train\nval: images/val\ntest:\nnames: [cat, 'dog', \"bird\"]\n");
  const auto c = read_dataset_yaml(dir.file("ds/data.yaml"));
  CHECK(c.root == canon(dir.file("ds")));
  CHECK(c.names == std::vector<std::string>{"cat", "dog", "bird"});
  REQUIRE(c.splits.count("val") == 1);
  CHECK(c.splits.at("val") == std::vector<std::string>{canon(dir.file("ds/images/val"))});
  CHECK(c.splits.at("train") == std::vector<std::string>{canon(dir.file("ds/images/train"))});
  CHECK(c.splits.count("test") == 0);  // an empty split is no split
}

TEST_CASE("data.yaml: path, lists of entries, '../' fallback, names as a map or from nc", "[dataset]") {
  test::TempDir dir;
  fs::create_directories(dir.file("root/a"));
  fs::create_directories(dir.file("root/b"));
  fs::create_directories(dir.file("root/val"));
  fs::create_directories(dir.file("cfg"));
  test::write_file(dir.file("cfg/data.yaml"), "path: " + dir.file("root") +
                                                  "\ntrain: [a, b]\nval: ../val\nnames:\n  1: dog\n  0: cat\n");
  auto c = read_dataset_yaml(dir.file("cfg/data.yaml"));
  CHECK(c.root == canon(dir.file("root")));
  CHECK(c.splits.at("train") == std::vector<std::string>{canon(dir.file("root/a")), canon(dir.file("root/b"))});
  CHECK(c.splits.at("val") == std::vector<std::string>{canon(dir.file("root/val"))});  // root/../val does not exist
  CHECK(c.names == std::vector<std::string>{"cat", "dog"});
  // a relative path that does not exist from the working directory: from the yaml's folder
  fs::create_directories(dir.file("cfg/rel/val"));
  test::write_file(dir.file("cfg/d2.yaml"), "path: rel\ntrain: val\nvalidation: val\nnc: '2'\n");
  c = read_dataset_yaml(dir.file("cfg/d2.yaml"));
  CHECK(c.root == canon(dir.file("cfg/rel")));
  CHECK(c.splits.at("val") == std::vector<std::string>{canon(dir.file("cfg/rel/val"))});  // 'validation' renamed
  CHECK(c.names == std::vector<std::string>{"class_0", "class_1"});
}

TEST_CASE("data.yaml: every malformed file is one error naming it", "[dataset][bad-input]") {
  test::TempDir dir;
  const auto fails = [&](const std::string& text, const std::string& why) {
    const std::string f = dir.file("bad.yaml");
    test::write_file(f, text);
    CHECK_THROWS_WITH(read_dataset_yaml(f), Catch::StartsWith(f + ": ") && Catch::Contains(why));
  };
  fails("val: v\nnames: [a]\n", "'train:' key missing");
  fails("train: t\nnames: [a]\n", "'val:' key missing");
  fails("train: t\nval: v\n", "either 'names' or 'nc' is required");
  fails("train: t\nval: v\nnc: 1.5\n", "'nc: 1.5' must be an integer");
  fails("train: t\nval: v\nnc: 3\nnames: [a, b]\n", "'names' length 2 and 'nc: 3' must match");
  fails("train: t\nval: v\nnc: 900000000\n", "'nc: 900000000' is more classes than any detector has");  // fuzzing found it
  fails("train: t\nval: v\nnames: {0: a, 2: c}\n", "'names' keys must be the class ids 0..1");
  fails("train: t\nval: v\nnames: a\n", "'names' must be a list or a map");
  fails("train: t\nval: {x: 1}\nnames: [a]\n", "'val' must be str or list");
  fails("train: t\nval: v\nnames: [a, [b]]\n", "'names' must list strings");
  fails("- just\n- a list\n", "not a YAML mapping");
  fails("", "not a YAML mapping");
  fails("train: t\nval: [unclosed\n", "line ");
  CHECK_THROWS_WITH(read_dataset_yaml(dir.file("none.yaml")), Catch::Contains("none.yaml: no such dataset file"));
  // an alias bomb is only as large as its text: nothing below the top level is expanded
  std::string bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n";
  for (char k = 'b'; k <= 'j'; ++k) bomb += std::string(1, k) + ": &" + k + " [*" + char(k - 1) + ", *" + char(k - 1) + ", *" + char(k - 1) + "]\n";
  test::write_file(dir.file("bomb.yaml"), bomb + "train: t\nval: v\nnames: [a]\n");
  CHECK(read_dataset_yaml(dir.file("bomb.yaml")).names.size() == 1);
}

TEST_CASE("the committed validation fixture's data.yaml", "[dataset]") {
  const auto c = read_dataset_yaml(test::fixture("shapes-val/data.yaml"));
  CHECK(c.names == std::vector<std::string>{"circle", "ring", "square", "frame", "triangle", "star", "cross", "hexagon"});
  CHECK(c.splits.at("val") == std::vector<std::string>{canon(test::fixture("shapes-val/images"))});
}
