#include "loader/torch_checkpoint.h"

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstring>
#include <optional>
#include <nlohmann/json.hpp>
#include <set>
#include <unordered_map>

#include "common/checked_math.h"
#include "loader/pickle.h"
#include "loader/zip_archive.h"
#include "y26/y26.h"

namespace y26::loader {
namespace {

using py::Kind;
using py::Ref;
using py::Value;

constexpr int kTagStorage = 1;
constexpr int kTagTensor = 2;
constexpr std::size_t kMaxDims = 8;
constexpr std::int64_t kMaxDim = std::int64_t{1} << 40;
constexpr int kMaxModuleDepth = 64;
constexpr int kMaxJsonDepth = 32;

struct Storage {
  DType dtype;
  std::string key;
  std::uint64_t numel = 0;
  const std::uint8_t* data = nullptr;  // inside the mapped file
};

struct TensorRef {
  std::shared_ptr<Storage> storage;
  std::int64_t offset = 0;  // in elements
  std::vector<std::int64_t> sizes, strides;
};

constexpr std::array<std::pair<const char*, DType>, 10> kStorageTypes{{{"HalfStorage", DType::F16},
                                                                      {"FloatStorage", DType::F32},
                                                                      {"BFloat16Storage", DType::BF16},
                                                                      {"DoubleStorage", DType::F64},
                                                                      {"LongStorage", DType::I64},
                                                                      {"IntStorage", DType::I32},
                                                                      {"ShortStorage", DType::I16},
                                                                      {"CharStorage", DType::I8},
                                                                      {"ByteStorage", DType::U8},
                                                                      {"BoolStorage", DType::Bool}}};

std::optional<DType> storage_dtype(const std::string& qualified) {
  for (const auto& [n, d] : kStorageTypes) {
    if (qualified == std::string("torch.") + n) return d;
  }
  return std::nullopt;
}

bool starts_with(const std::string& s, std::string_view p) { return s.compare(0, p.size(), p) == 0; }

// The allow-list. Anything not named here is refused. Allowed callables are never
// run: the resolver either builds a plain value (tensors, dicts, sets) or records
// an inert Object (module classes, namespaces, numpy scalars).
bool allowed_global(const std::string& q) {
  static const std::set<std::string> exact = {
      "torch._utils._rebuild_tensor_v2", "torch._utils._rebuild_tensor", "torch._utils._rebuild_parameter",
      "torch._utils._rebuild_parameter_with_state", "torch.Size", "torch.device", "collections.OrderedDict",
      "builtins.set", "builtins.frozenset", "builtins.object", "copyreg._reconstructor", "_codecs.encode",
      "numpy.core.multiarray._reconstruct", "numpy.core.multiarray.scalar", "numpy._core.multiarray._reconstruct",
      "numpy._core.multiarray.scalar", "numpy.dtype", "numpy.ndarray", "types.SimpleNamespace", "argparse.Namespace",
      "pathlib.PosixPath", "pathlib.WindowsPath", "pathlib.Path", "datetime.datetime", "datetime.timedelta"};
  static const std::set<std::string> torch_dtypes = {"float16", "float32", "bfloat16", "float64", "half",  "float",
                                                     "int64",   "int32",   "int16",    "int8",    "uint8", "bool"};
  if (exact.count(q) || storage_dtype(q)) return true;
  if (starts_with(q, "torch.") && torch_dtypes.count(q.substr(6))) return true;
  // Module classes are inert objects: only their pickled __dict__ is read.
  if (starts_with(q, "torch.nn.modules.") || starts_with(q, "ultralytics.") || starts_with(q, "numpy.dtypes.")) {
    return q.find("__") == std::string::npos;  // no dunder attributes reached through a class path
  }
  return false;
}

class CheckpointResolver : public py::Resolver {
 public:
  CheckpointResolver(const MappedFile& file, const ZipArchive& zip, std::string prefix)
      : file_(file), zip_(zip), prefix_(std::move(prefix)) {}

  Ref find_class(const std::string& module, const std::string& name) override {
    std::string mod = module == "__builtin__" ? "builtins" : module == "copy_reg" ? "copyreg" : module;
    std::string q = mod + "." + name;
    if (!allowed_global(q)) {
      throw Error(file_.path() + ": pickle references '" + q +
                  "', which is not on y26's allow-list (model files never run code in y26)");
    }
    auto g = py::make(Kind::Global);
    g->text = std::move(q);
    return g;
  }

  Ref call(const Value& callable, const Ref& args) override {
    const std::string& q = callable.text;
    const auto& a = args->items;
    if (q == "torch._utils._rebuild_tensor_v2" || q == "torch._utils._rebuild_tensor") return rebuild_tensor(a);
    if (q == "torch._utils._rebuild_parameter" || q == "torch._utils._rebuild_parameter_with_state") {
      if (a.empty() || a[0]->opaque_tag != kTagTensor) fail("_rebuild_parameter without a tensor");
      return a[0];
    }
    if (q == "collections.OrderedDict") return py::make(Kind::Dict);  // items follow as SETITEMS
    if (q == "builtins.set" || q == "builtins.frozenset") {
      auto s = py::make(Kind::Set);
      if (!a.empty() && (a[0]->kind == Kind::List || a[0]->kind == Kind::Tuple)) s->items = a[0]->items;
      return s;
    }
    if (q == "torch.Size") {
      if (a.size() != 1 || a[0]->kind != Kind::Tuple) fail("torch.Size without a tuple");
      return a[0];
    }
    if (q == "_codecs.encode") return latin1_bytes(a);
    auto obj = py::make(Kind::Object);
    // copyreg._reconstructor(cls, base, state) and NEWOBJ both create an instance of the class.
    obj->text = (q == "copyreg._reconstructor" && !a.empty() && a[0]->kind == Kind::Global) ? a[0]->text : q;
    obj->items = a;
    return obj;
  }

  Ref persistent_load(const Ref& pid) override {
    // ('storage', storage_type, key, location, numel)
    if (pid->kind != Kind::Tuple || pid->items.size() != 5 || pid->items[0]->kind != Kind::Str ||
        pid->items[0]->text != "storage" || pid->items[1]->kind != Kind::Global || pid->items[2]->kind != Kind::Str ||
        pid->items[4]->kind != Kind::Int) {
      fail("unexpected persistent id (expected a torch storage record)");
    }
    const std::string& key = pid->items[2]->text;
    auto it = storages_.find(key);
    if (it == storages_.end()) {
      auto dtype = storage_dtype(pid->items[1]->text);
      if (!dtype) fail("storage type '" + pid->items[1]->text + "' is not supported");
      if (pid->items[4]->integer < 0) fail("storage '" + key + "' has a negative size");
      auto s = std::make_shared<Storage>();
      s->dtype = *dtype;
      s->key = key;
      s->numel = static_cast<std::uint64_t>(pid->items[4]->integer);
      const std::string entry = prefix_ + "data/" + key;
      std::string_view bytes = zip_.read(entry);
      auto need = checked_mul(s->numel, dtype_size(*dtype));
      if (!need || *need > bytes.size()) {
        fail("storage '" + key + "' declares " + std::to_string(s->numel) + " elements but its zip entry holds " +
             std::to_string(bytes.size()) + " bytes");
      }
      s->data = reinterpret_cast<const std::uint8_t*>(bytes.data());
      it = storages_.emplace(key, std::move(s)).first;
    }
    auto v = py::make(Kind::Opaque);
    v->opaque_tag = kTagStorage;
    v->opaque = it->second;
    return v;
  }

 private:
  [[noreturn]] void fail(const std::string& what) const { throw Error(file_.path() + ": " + what); }

  std::vector<std::int64_t> int_tuple(const Ref& v, const char* what) const {
    if (v->kind != Kind::Tuple) fail(std::string("tensor ") + what + " is not a tuple");
    if (v->items.size() > kMaxDims) fail(std::string("tensor has more than 8 dimensions"));
    std::vector<std::int64_t> out;
    for (const auto& x : v->items) {
      if (x->kind != Kind::Int || x->integer < 0 || x->integer > kMaxDim) {
        fail(std::string("tensor ") + what + " holds a negative, huge or non-integer value");
      }
      out.push_back(x->integer);
    }
    return out;
  }

  Ref rebuild_tensor(const std::vector<Ref>& a) {
    if (a.size() < 4 || a[0]->opaque_tag != kTagStorage || a[1]->kind != Kind::Int) fail("malformed _rebuild_tensor call");
    auto t = std::make_shared<TensorRef>();
    t->storage = std::static_pointer_cast<Storage>(a[0]->opaque);
    t->offset = a[1]->integer;
    t->sizes = int_tuple(a[2], "size");
    t->strides = int_tuple(a[3], "stride");
    if (t->sizes.size() != t->strides.size()) fail("tensor size and stride ranks differ");
    if (t->offset < 0) fail("tensor has a negative storage offset");
    // The last element addressed must lie inside the storage.
    std::uint64_t numel = 1, last = static_cast<std::uint64_t>(t->offset);
    for (std::size_t i = 0; i < t->sizes.size(); ++i) {
      auto n = checked_mul(numel, static_cast<std::uint64_t>(t->sizes[i]));
      if (!n) fail("tensor shape overflows");
      numel = *n;
      if (t->sizes[i] > 0) {
        auto span = checked_mul(static_cast<std::uint64_t>(t->sizes[i] - 1), static_cast<std::uint64_t>(t->strides[i]));
        auto end = span ? checked_add(last, *span) : std::nullopt;
        if (!end) fail("tensor strides overflow");
        last = *end;
      }
    }
    if (numel > 0 && last >= t->storage->numel) {
      fail("tensor of " + std::to_string(numel) + " elements reaches past the end of storage '" + t->storage->key + "'");
    }
    auto v = py::make(Kind::Opaque);
    v->opaque_tag = kTagTensor;
    v->opaque = t;
    return v;
  }

  Ref latin1_bytes(const std::vector<Ref>& a) const {
    // Protocol 2 writes bytes objects as _codecs.encode(str, 'latin1').
    if (a.empty() || a[0]->kind != Kind::Str) fail("_codecs.encode without a string");
    auto b = py::make(Kind::Bytes);
    const std::string& s = a[0]->text;
    for (std::size_t i = 0; i < s.size(); ++i) {
      const auto c = static_cast<unsigned char>(s[i]);
      if (c < 0x80) {
        b->text.push_back(static_cast<char>(c));
      } else if ((c & 0xe0) == 0xc0 && i + 1 < s.size()) {  // two-byte UTF-8 covers U+0080..U+00FF
        b->text.push_back(static_cast<char>(((c & 0x1f) << 6) | (static_cast<unsigned char>(s[++i]) & 0x3f)));
      } else {
        fail("_codecs.encode string is not latin-1");
      }
    }
    return b;
  }

  const MappedFile& file_;
  const ZipArchive& zip_;
  std::string prefix_;
  std::unordered_map<std::string, std::shared_ptr<Storage>> storages_;
};

// A tensor reference materialised as a contiguous tensor in its stored dtype.
Tensor materialise(const TensorRef& r) {
  Tensor t;
  t.dtype = r.storage->dtype;
  t.shape = r.sizes;
  const std::size_t es = dtype_size(t.dtype);
  const auto n = static_cast<std::size_t>(t.numel());
  t.bytes.resize(n * es);
  if (n == 0) return t;
  // Contiguous strides first: then the copy is a single memcpy.
  bool contiguous = true;
  std::int64_t expect = 1;
  for (std::size_t i = r.sizes.size(); i-- > 0;) {
    if (r.sizes[i] != 1 && r.strides[i] != expect) contiguous = false;
    expect *= r.sizes[i];
  }
  const std::uint8_t* base = r.storage->data + static_cast<std::size_t>(r.offset) * es;
  if (contiguous) {
    std::memcpy(t.bytes.data(), base, n * es);
    return t;
  }
  std::vector<std::int64_t> idx(r.sizes.size(), 0);
  for (std::size_t k = 0; k < n; ++k) {
    std::int64_t off = 0;
    for (std::size_t d = 0; d < idx.size(); ++d) off += idx[d] * r.strides[d];
    std::memcpy(t.bytes.data() + k * es, base + static_cast<std::size_t>(off) * es, es);
    for (std::size_t d = idx.size(); d-- > 0;) {
      if (++idx[d] < r.sizes[d]) break;
      idx[d] = 0;
    }
  }
  return t;
}

const TensorRef* as_tensor(const Value* v) {
  return (v && v->kind == Kind::Opaque && v->opaque_tag == kTagTensor) ? static_cast<const TensorRef*>(v->opaque.get())
                                                                        : nullptr;
}

nlohmann::json to_json(const Value& v, int depth, const std::string& path) {
  if (depth > kMaxJsonDepth) throw Error(path + ": model yaml nests too deeply");
  switch (v.kind) {
    case Kind::None: return nullptr;
    case Kind::Bool: return v.boolean;
    case Kind::Int: return v.integer;
    case Kind::Float: return v.real;
    case Kind::Str: return v.text;
    case Kind::Tuple:
    case Kind::List:
    case Kind::Set: {
      auto a = nlohmann::json::array();
      for (const auto& x : v.items) a.push_back(to_json(*x, depth + 1, path));
      return a;
    }
    case Kind::Dict: {
      auto o = nlohmann::json::object();
      for (const auto& [k, x] : v.entries) {
        std::string key = k->kind == Kind::Str ? k->text : k->kind == Kind::Int ? std::to_string(k->integer) : "?";
        o[key] = to_json(*x, depth + 1, path);
      }
      return o;
    }
    default: return "<" + v.text + ">";
  }
}

class ModuleWalker {
 public:
  explicit ModuleWalker(WeightMap& out) : out_(out) {}

  void walk(const Value& module, const std::string& prefix, int depth) {
    if (depth > kMaxModuleDepth) throw Error(out_.source + ": module tree nests deeper than " + std::to_string(kMaxModuleDepth));
    std::set<std::string> non_persistent;
    if (const Value* np = module.get("_non_persistent_buffers_set"); np && np->kind == Kind::Set) {
      for (const auto& x : np->items) {
        if (x->kind == Kind::Str) non_persistent.insert(x->text);
      }
    }
    add_tensors(module.get("_parameters"), prefix, {});
    add_tensors(module.get("_buffers"), prefix, non_persistent);
    if (module.text.size() >= 11 && module.text.compare(module.text.size() - 11, 11, "BatchNorm2d") == 0) {
      const Value* eps = module.get("eps");
      if (eps == nullptr || eps->kind != Kind::Float) throw Error(out_.source + ": BatchNorm '" + prefix + "' has no eps");
      out_.meta.bn_eps[prefix.substr(0, prefix.size() - 1)] = eps->real;
    }
    if (const Value* children = module.get("_modules"); children && children->kind == Kind::Dict) {
      for (const auto& [k, child] : children->entries) {
        if (child->kind != Kind::Object || k->kind != Kind::Str) continue;  // None slots (removed heads)
        walk(*child, prefix + k->text + ".", depth + 1);
      }
    }
  }

 private:
  void add_tensors(const Value* dict, const std::string& prefix, const std::set<std::string>& skip) {
    if (dict == nullptr || dict->kind != Kind::Dict) return;
    for (const auto& [k, v] : dict->entries) {
      if (k->kind != Kind::Str || skip.count(k->text)) continue;
      if (v->kind == Kind::None) continue;
      const TensorRef* t = as_tensor(v.get());
      if (t == nullptr) throw Error(out_.source + ": '" + prefix + k->text + "' is not a tensor");
      out_.tensors[prefix + k->text] = materialise(*t);
    }
  }
  WeightMap& out_;
};

// A pickled scalar as Python prints it (floats to 6 significant digits, strings cut at 256 bytes); none for
// anything else.
std::optional<std::string> scalar_text(const Value& v) {
  switch (v.kind) {
    case Kind::Bool: return v.boolean ? "True" : "False";
    case Kind::Int: return std::to_string(v.integer);
    case Kind::Float: {
      char buf[32];
      std::snprintf(buf, sizeof buf, "%.6g", v.real);
      return buf;
    }
    case Kind::Str: return v.text.substr(0, 256);
    default: return std::nullopt;
  }
}

void read_model_meta(const Value& model, const Value& root, WeightMap& out) {
  ModelMeta& m = out.meta;
  if (const Value* names = model.get("names")) {
    if (names->kind == Kind::Dict) {
      for (const auto& [k, v] : names->entries) {
        if (k->kind == Kind::Int && v->kind == Kind::Str) m.names[static_cast<int>(k->integer)] = v->text;
      }
    } else if (names->kind == Kind::List) {
      for (std::size_t i = 0; i < names->items.size(); ++i) {
        if (names->items[i]->kind == Kind::Str) m.names[static_cast<int>(i)] = names->items[i]->text;
      }
    }
  }
  if (const TensorRef* s = as_tensor(model.get("stride"))) {
    Tensor t = materialise(*s);
    m.stride = t.to_float();
  }
  if (const Value* yaml = model.get("yaml"); yaml && yaml->kind == Kind::Dict) {
    m.yaml_json = to_json(*yaml, 0, out.source).dump();
    if (const Value* v = yaml->get("scale"); v && v->kind == Kind::Str) m.scale = v->text;
    if (const Value* v = yaml->get("end2end"); v && v->kind == Kind::Bool) m.end2end = v->boolean;
    if (const Value* v = yaml->get("reg_max"); v && v->kind == Kind::Int) m.reg_max = static_cast<int>(v->integer);
    if (const Value* v = yaml->get("nc"); v && v->kind == Kind::Int) m.nc = static_cast<int>(v->integer);
  }
  if (m.nc < 0 && !m.names.empty()) m.nc = static_cast<int>(m.names.size());
  for (const char* key : {"version", "date"}) {
    if (const Value* v = root.get(key); v && v->kind == Kind::Str) m.extra[key] = v->text;
  }
  // Every top-level field of the checkpoint, as "checkpoint.<key>": its value when it is a scalar ("None" for
  // None), else what it is ("dict", "list", "object"): what `y26 info --json` and the tests can see of a
  // trained run's file (epoch, best_fitness, updates, optimizer None, git, train_results, ...).
  if (root.kind == Kind::Dict) {
    for (const auto& [k, v] : root.entries) {
      if (k->kind != Kind::Str) continue;
      std::string text = v->kind == Kind::None                            ? "None"
                         : v->kind == Kind::Dict                          ? "dict"
                         : v->kind == Kind::List || v->kind == Kind::Tuple ? "list"
                                                                          : "object";
      if (auto t = scalar_text(*v)) text = *t;
      m.extra["checkpoint." + k->text] = text;
    }
  }
  // A trained checkpoint says how it was trained and what its last validation measured: the scalars of
  // train_args and train_metrics, as "train_args.epochs", "train_metrics.metrics/mAP50-95(B)", ...
  for (const char* group : {"train_args", "train_metrics"}) {
    const Value* d = root.get(group);
    if (d == nullptr || d->kind != Kind::Dict) continue;
    for (const auto& [k, v] : d->entries)
      if (auto text = scalar_text(*v); text && k->kind == Kind::Str) m.extra[std::string(group) + "." + k->text] = *text;
  }
}

}  // namespace

WeightMap read_torch_checkpoint(const MappedFile& file) {
  ZipArchive zip(file);
  // torch.save names every entry "<archive>/...": find the pickle at depth one.
  const ZipEntry* pkl = nullptr;
  for (const auto& e : zip.entries()) {
    const auto slash = e.name.find('/');
    if (slash != std::string::npos && e.name.substr(slash) == "/data.pkl") {
      pkl = &e;
      break;
    }
  }
  if (pkl == nullptr) throw Error(file.path() + ": zip archive has no data.pkl (not a torch checkpoint)");
  const std::string prefix = pkl->name.substr(0, pkl->name.size() - 8);  // keeps the trailing '/'
  if (const ZipEntry* bo = zip.find(prefix + "byteorder")) {
    if (zip.read(bo->name) != "little") throw Error(file.path() + ": big-endian checkpoints are not supported");
  }

  CheckpointResolver resolver(file, zip, prefix);
  const py::Unpickled doc = py::unpickle(zip.read(pkl->name), resolver, file.path());
  const Ref& root = doc.root;

  WeightMap out;
  out.source = file.path();
  out.format = "pt";
  if (root->kind != Kind::Dict) throw Error(file.path() + ": checkpoint is not a dict (not an Ultralytics checkpoint)");
  const Value* model = root->get("model");
  if (model == nullptr || model->kind == Kind::None) model = root->get("ema");
  if (model == nullptr || model->kind == Kind::None) throw Error(file.path() + ": checkpoint has neither 'model' nor 'ema'");

  if (model->kind == Kind::Object) {
    ModuleWalker(out).walk(*model, "", 0);
    read_model_meta(*model, *root, out);
  } else if (model->kind == Kind::Dict) {  // a bare state_dict under 'model'
    for (const auto& [k, v] : model->entries) {
      const TensorRef* t = as_tensor(v.get());
      if (k->kind == Kind::Str && t) out.tensors[k->text] = materialise(*t);
    }
  } else {
    throw Error(file.path() + ": checkpoint 'model' is neither a module nor a state dict");
  }
  if (out.tensors.empty()) throw Error(file.path() + ": checkpoint holds no tensors");
  return out;
}

}  // namespace y26::loader
