#include "loader/safetensors.h"

#include <cstdio>
#include <nlohmann/json.hpp>

#include "common/checked_math.h"
#include "loader/atomic_file.h"
#include "y26/y26.h"

namespace y26::loader {
namespace {

using nlohmann::json;

constexpr std::uint64_t kMaxHeaderBytes = 100u << 20;
constexpr std::size_t kMaxDims = 8;

// --- metadata: every value is a string, structured ones hold JSON text --------

std::map<std::string, std::string> meta_to_strings(const WeightMap& w) {
  const ModelMeta& m = w.meta;
  std::map<std::string, std::string> s;
  s["format"] = "y26";
  if (!m.names.empty()) {
    json names = json::object();
    for (const auto& [i, n] : m.names) names[std::to_string(i)] = n;
    s["names"] = names.dump();
  }
  if (m.nc >= 0) s["nc"] = std::to_string(m.nc);
  if (!m.stride.empty()) s["stride"] = json(m.stride).dump();
  if (!m.bn_eps.empty()) {
    const auto uniform = m.uniform_bn_eps();
    s["eps"] = uniform ? json(*uniform).dump() : json(m.bn_eps).dump();
  }
  if (!m.scale.empty()) s["scale"] = m.scale;
  if (m.end2end) s["end2end"] = *m.end2end ? "true" : "false";
  if (m.reg_max) s["reg_max"] = std::to_string(*m.reg_max);
  if (!m.yaml_json.empty()) s["yaml"] = m.yaml_json;
  for (const auto& [k, v] : m.extra) s["ultralytics_" + k] = v;
  return s;
}

void meta_from_strings(const std::map<std::string, std::string>& s, WeightMap& w) {
  ModelMeta& m = w.meta;
  auto parse = [&](const std::string& key) {
    try {
      return json::parse(s.at(key));
    } catch (const std::exception& e) {
      throw Error(w.source + ": __metadata__ '" + key + "' is not valid: " + e.what());
    }
  };
  try {
    if (s.count("names")) {
      const json names = parse("names");  // named: a temporary would die before the loop ends
      for (const auto& [k, v] : names.items()) m.names[std::stoi(k)] = v.get<std::string>();
    }
    if (s.count("nc")) m.nc = std::stoi(s.at("nc"));
    if (s.count("stride")) m.stride = parse("stride").get<std::vector<float>>();
    if (s.count("eps")) {
      json eps = parse("eps");
      if (eps.is_number()) {
        // A single eps applies to every BatchNorm, recognised by its running_var.
        const std::string suffix = ".running_var";
        for (const auto& [name, t] : w.tensors) {
          if (name.size() > suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0) {
            m.bn_eps[name.substr(0, name.size() - suffix.size())] = eps.get<double>();
          }
        }
      } else {
        m.bn_eps = eps.get<std::map<std::string, double>>();
      }
    }
    if (s.count("scale")) m.scale = s.at("scale");
    if (s.count("end2end")) m.end2end = s.at("end2end") == "true";
    if (s.count("reg_max")) m.reg_max = std::stoi(s.at("reg_max"));
    if (s.count("yaml")) m.yaml_json = s.at("yaml");
    const std::string up = "ultralytics_";
    for (const auto& [k, v] : s) {
      if (k.compare(0, up.size(), up) == 0) m.extra[k.substr(up.size())] = v;
    }
  } catch (const Error&) {
    throw;
  } catch (const std::exception& e) {
    throw Error(w.source + ": __metadata__ is not valid: " + e.what());
  }
}

}  // namespace

bool looks_like_safetensors(const MappedFile& file) {
  if (file.size() < 10) return false;
  const std::uint64_t n = load_le64(file.data());
  return n >= 2 && n <= file.size() - 8 && file.data()[8] == '{';
}

WeightMap read_safetensors(const MappedFile& file) {
  const std::string& path = file.path();
  const std::uint64_t header_size = load_le64(reinterpret_cast<const std::uint8_t*>(file.bytes(0, 8, "safetensors header size").data()));
  if (header_size > kMaxHeaderBytes) throw Error(path + ": safetensors header of " + std::to_string(header_size) + " bytes exceeds the limit");
  std::string_view header = file.bytes(8, header_size, "safetensors header");
  const std::uint64_t data_start = 8 + header_size;
  const std::uint64_t data_size = file.size() - data_start;

  json h;
  try {
    h = json::parse(header);
  } catch (const std::exception& e) {
    throw Error(path + ": safetensors header is not valid JSON: " + e.what());
  }
  if (!h.is_object()) throw Error(path + ": safetensors header is not a JSON object");

  WeightMap w;
  w.source = path;
  w.format = "safetensors";
  std::map<std::string, std::string> meta;
  for (const auto& [name, info] : h.items()) {
    if (name == "__metadata__") {
      if (!info.is_object()) throw Error(path + ": __metadata__ is not an object");
      for (const auto& [k, v] : info.items()) {
        if (!v.is_string()) throw Error(path + ": __metadata__ '" + k + "' is not a string");
        meta[k] = v.get<std::string>();
      }
      continue;
    }
    const std::string tensor_name = name;  // structured bindings cannot be captured before clang 16
    auto bad = [&](const std::string& what) { return Error(path + ": tensor '" + tensor_name + "' " + what); };
    if (!info.is_object() || !info.contains("dtype") || !info.contains("shape") || !info.contains("data_offsets")) {
      throw bad("lacks dtype, shape or data_offsets");
    }
    const json& jd = info["dtype"];
    const json& js = info["shape"];
    const json& jo = info["data_offsets"];
    if (!jd.is_string()) throw bad("has a non-string dtype");
    auto dtype = dtype_from_name(jd.get<std::string>());
    if (!dtype) throw bad("has unsupported dtype " + jd.dump());
    if (!js.is_array() || js.size() > kMaxDims) throw bad("has a malformed shape");
    if (!jo.is_array() || jo.size() != 2 || !jo[0].is_number_unsigned() || !jo[1].is_number_unsigned()) {
      throw bad("has malformed data_offsets");
    }
    Tensor t;
    t.dtype = *dtype;
    std::uint64_t numel = 1;
    for (const auto& d : js) {
      if (!d.is_number_unsigned()) throw bad("has a negative or non-integer dimension");
      auto n = checked_mul(numel, d.get<std::uint64_t>());
      if (!n) throw bad("shape overflows");
      numel = *n;
      t.shape.push_back(static_cast<std::int64_t>(d.get<std::uint64_t>()));
    }
    const auto begin = jo[0].get<std::uint64_t>(), end = jo[1].get<std::uint64_t>();
    auto nbytes = checked_mul(numel, dtype_size(*dtype));
    if (begin > end || end > data_size) throw bad("data_offsets [" + std::to_string(begin) + ", " + std::to_string(end) + ") lie outside the data (" + std::to_string(data_size) + " bytes)");
    if (!nbytes || *nbytes != end - begin) throw bad("shape " + t.shape_string() + " does not match its " + std::to_string(end - begin) + " data bytes");
    std::string_view bytes = file.bytes(data_start + begin, end - begin, "tensor '" + name + "'");
    t.bytes.assign(bytes.begin(), bytes.end());
    w.tensors.emplace(name, std::move(t));
  }
  if (w.tensors.empty()) throw Error(path + ": safetensors file holds no tensors");
  meta_from_strings(meta, w);
  return w;
}

void write_safetensors(const WeightMap& w, const std::string& path) {
  json h = json::object();
  std::uint64_t offset = 0;
  for (const auto& [name, t] : w.tensors) {
    h[name] = {{"dtype", dtype_name(t.dtype)}, {"shape", t.shape}, {"data_offsets", {offset, offset + t.bytes.size()}}};
    offset += t.bytes.size();
  }
  h["__metadata__"] = meta_to_strings(w);
  std::string header = h.dump();
  header.append((8 - header.size() % 8) % 8, ' ');  // keep tensor data 8-byte aligned

  write_file_atomically(path, [&](std::FILE* f) {
    std::uint8_t size_le[8];
    for (int i = 0; i < 8; ++i) size_le[i] = static_cast<std::uint8_t>(static_cast<std::uint64_t>(header.size()) >> (8 * i));
    if (std::fwrite(size_le, 1, 8, f) != 8 || std::fwrite(header.data(), 1, header.size(), f) != header.size()) return false;
    for (const auto& [name, t] : w.tensors) {
      if (!t.bytes.empty() && std::fwrite(t.bytes.data(), 1, t.bytes.size(), f) != t.bytes.size()) return false;
    }
    return true;
  });
}

}  // namespace y26::loader
