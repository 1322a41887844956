// libFuzzer: the restricted pickle VM (loader/pickle.cpp) on its own, with a resolver that allows every
// global and makes inert values of every call, so the fuzzer reaches every opcode.
#include "loader/pickle.h"
#include "tests/fuzz/fuzz_target.h"

namespace {

namespace py = y26::loader::py;

class Permissive : public py::Resolver {
 public:
  py::Ref find_class(const std::string& module, const std::string& name) override {
    auto g = py::make(py::Kind::Global);
    g->text = module + "." + name;
    return g;
  }
  py::Ref call(const py::Value& callable, const py::Ref& args) override {
    auto o = py::make(py::Kind::Object);
    o->text = callable.text;
    o->items = args->items;
    return o;
  }
  py::Ref persistent_load(const py::Ref&) override { return py::make(py::Kind::Opaque); }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  return fuzz_one([&] {
    Permissive resolver;
    py::Limits limits;
    limits.max_string = 1u << 20;  // the fuzzer's inputs are small; keep its allocations so
    const auto result = py::unpickle({reinterpret_cast<const char*>(data), size}, resolver, "fuzz.pkl", limits);
    (void)result.root;
  });
}
