// data.yaml through libyaml's document loader (runtime/dataset_yaml.h). Only the top-level keys and the
// values one level below them are read, so aliases cannot make the walk large.
#include "runtime/dataset_yaml.h"

#include <yaml.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>

#include "y26/y26.h"

namespace y26::runtime {
namespace {

namespace fs = std::filesystem;
constexpr long long kMaxClasses = 100000;  // nc names "class_<i>" each: a hostile nc must not allocate billions
constexpr std::uintmax_t kMaxYamlBytes = 16u << 20;  // a data.yaml with an inline download script is a few KiB

struct Document {
  yaml_document_t doc{};
  bool loaded = false;
  ~Document() {
    if (loaded) yaml_document_delete(&doc);
  }
};

class Reader {
 public:
  Reader(const std::string& file, yaml_document_t* doc) : file_(file), doc_(doc) {}

  [[noreturn]] void fail(const std::string& what) const { throw Error(file_ + ": " + what); }

  yaml_node_t* node(int index) const { return yaml_document_get_node(doc_, index); }

  std::optional<std::string> scalar(yaml_node_t* n) const {
    if (n == nullptr || n->type != YAML_SCALAR_NODE) return std::nullopt;
    return std::string(reinterpret_cast<const char*>(n->data.scalar.value), n->data.scalar.length);
  }
  // A YAML null: an empty plain scalar, "~" or "null" (what `key:` alone parses to)
  bool is_null(yaml_node_t* n) const {
    if (n == nullptr) return true;
    if (n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE) return false;
    const auto s = *scalar(n);
    return s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL";
  }
  std::vector<yaml_node_t*> items(yaml_node_t* n) const {
    std::vector<yaml_node_t*> out;
    for (auto* it = n->data.sequence.items.start; it < n->data.sequence.items.top; ++it) out.push_back(node(*it));
    return out;
  }
  std::vector<std::pair<yaml_node_t*, yaml_node_t*>> pairs(yaml_node_t* n) const {
    std::vector<std::pair<yaml_node_t*, yaml_node_t*>> out;
    for (auto* p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; ++p) out.emplace_back(node(p->key), node(p->value));
    return out;
  }
  // A string or a list of strings (a split), as Ultralytics' DATASET_KEY_TYPES allow
  std::vector<std::string> strings(const std::string& key, yaml_node_t* n) const {
    if (auto s = scalar(n)) return {*s};
    if (n->type != YAML_SEQUENCE_NODE) fail("'" + key + "' must be str or list");
    std::vector<std::string> out;
    for (auto* item : items(n)) {
      auto s = scalar(item);
      if (!s) fail("'" + key + "' must list strings");
      out.push_back(*s);
    }
    return out;
  }

 private:
  std::string file_;
  yaml_document_t* doc_;
};

std::optional<long long> integer_like(const std::string& s) {  // float(s) == int(float(s)), as Ultralytics accepts nc
  try {
    size_t used = 0;
    const double v = std::stod(s, &used);
    if (used != s.size() || !std::isfinite(v) || v != std::floor(v) || std::fabs(v) > 1e9) return std::nullopt;
    return static_cast<long long>(v);
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

}  // namespace

DatasetConfig read_dataset_yaml(const std::string& yaml_file) {
  std::error_code ec;
  if (!fs::is_regular_file(yaml_file, ec)) throw Error(yaml_file + ": no such dataset file");
  const auto size = fs::file_size(yaml_file, ec);
  if (ec || size > kMaxYamlBytes) throw Error(yaml_file + ": larger than 16 MiB, not a data.yaml");
  std::ifstream in(yaml_file, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return parse_dataset_yaml(ss.str(), yaml_file);
}

DatasetConfig parse_dataset_yaml(const std::string& text, const std::string& yaml_file) {
  std::error_code ec;
  yaml_parser_t parser;
  if (!yaml_parser_initialize(&parser)) throw Error(yaml_file + ": out of memory starting the YAML parser");
  yaml_parser_set_input_string(&parser, reinterpret_cast<const unsigned char*>(text.data()), text.size());
  Document d;
  const int ok = yaml_parser_load(&parser, &d.doc);
  if (!ok) {
    const std::string why = parser.problem != nullptr ? parser.problem : "unreadable YAML";
    const auto line = parser.problem_mark.line + 1;
    yaml_parser_delete(&parser);
    throw Error(yaml_file + ": line " + std::to_string(line) + ": " + why);
  }
  d.loaded = true;
  yaml_parser_delete(&parser);
  Reader r(yaml_file, &d.doc);
  yaml_node_t* root = yaml_document_get_root_node(&d.doc);
  if (root == nullptr || root->type != YAML_MAPPING_NODE) r.fail("not a YAML mapping of dataset keys");

  std::map<std::string, yaml_node_t*> keys;
  for (auto [k, v] : r.pairs(root)) {
    auto name = r.scalar(k);
    if (name) keys[*name] = v;
  }
  auto get = [&](const std::string& k) -> yaml_node_t* {
    auto it = keys.find(k);
    return it == keys.end() || r.is_null(it->second) ? nullptr : it->second;
  };
  if (keys.count("train") == 0) r.fail("'train:' key missing ('train' and 'val' are required in all data YAMLs)");
  if (keys.count("val") == 0) {
    if (keys.count("validation") == 0) r.fail("'val:' key missing ('train' and 'val' are required in all data YAMLs)");
    keys["val"] = keys["validation"];
  }

  DatasetConfig c;
  c.yaml_file = yaml_file;
  // names: a list, or a map of class ids to names
  std::optional<long long> nc;
  if (keys.count("nc") != 0) {
    auto s = r.scalar(keys["nc"]);
    nc = s ? integer_like(*s) : std::nullopt;
    if (!nc || *nc < 0) r.fail("'nc: " + s.value_or("...") + "' must be an integer");
    if (*nc > kMaxClasses) r.fail("'nc: " + *s + "' is more classes than any detector has (at most 100000)");
  }
  if (yaml_node_t* n = get("names")) {
    if (n->type == YAML_SEQUENCE_NODE) {
      for (auto* item : r.items(n)) {
        auto s = r.scalar(item);
        if (!s) r.fail("'names' must list strings");
        c.names.push_back(*s);
      }
    } else if (n->type == YAML_MAPPING_NODE) {
      std::map<long long, std::string> by_id;
      for (auto [k, v] : r.pairs(n)) {
        auto ks = r.scalar(k);
        auto id = ks ? integer_like(*ks) : std::nullopt;
        auto vs = r.scalar(v);
        if (!id || !vs) r.fail("'names' must map class ids to names");
        by_id[id.value_or(-1)] = vs.value_or("");
      }
      for (const auto& [id, name] : by_id) {
        if (id != static_cast<long long>(c.names.size()))
          r.fail("'names' keys must be the class ids 0.." + std::to_string(by_id.size() - 1) + " (" + std::to_string(id) +
                 " is not)");
        c.names.push_back(name);
      }
    } else {
      r.fail("'names' must be a list or a map");
    }
    if (nc && *nc != static_cast<long long>(c.names.size()))
      r.fail("'names' length " + std::to_string(c.names.size()) + " and 'nc: " + std::to_string(*nc) + "' must match");
  } else if (nc) {
    for (long long i = 0; i < *nc; ++i) c.names.push_back("class_" + std::to_string(i));
  } else {
    r.fail("either 'names' or 'nc' is required");
  }

  const fs::path yaml_dir = fs::absolute(fs::path(yaml_file)).parent_path();
  fs::path root_dir = yaml_dir;
  if (yaml_node_t* p = get("path")) {
    auto s = r.scalar(p);
    if (!s) r.fail("'path' must be str");
    const fs::path given(*s);
    root_dir = given.is_absolute() || fs::exists(given, ec) ? given : yaml_dir / given;
  }
  root_dir = fs::weakly_canonical(fs::absolute(root_dir), ec);
  c.root = root_dir.string();
  for (const char* split : {"train", "val", "test", "minival"}) {
    yaml_node_t* n = get(split);
    if (n == nullptr) continue;
    std::vector<std::string> resolved;
    for (const auto& entry : r.strings(split, n)) {
      fs::path x = fs::weakly_canonical(root_dir / entry, ec);
      if (n->type == YAML_SCALAR_NODE && !fs::exists(x, ec) && entry.rfind("../", 0) == 0)
        x = fs::weakly_canonical(root_dir / entry.substr(3), ec);
      resolved.push_back(x.string());
    }
    c.splits[split] = resolved;
  }
  return c;
}

}  // namespace y26::runtime
