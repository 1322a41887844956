// A restricted pickle reader: it builds an inert tree of values and never runs
// anything. Every GLOBAL goes through the caller's Resolver, which refuses names
// outside its allow-list; calls (REDUCE/NEWOBJ) on allowed names become either a
// value the resolver builds (tensors, OrderedDicts) or an inert Object node.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace y26::loader::py {

struct Value;
using Ref = std::shared_ptr<Value>;

enum class Kind { None, Bool, Int, Float, Str, Bytes, Tuple, List, Dict, Set, Global, Object, Opaque };

struct Value {
  Kind kind = Kind::None;
  bool boolean = false;
  std::int64_t integer = 0;
  double real = 0.0;
  std::string text;                            // Str, Bytes; Global and Object: "module.name"
  std::vector<Ref> items;                      // Tuple, List, Set; Object: constructor args
  std::vector<std::pair<Ref, Ref>> entries;    // Dict, in insertion order; Object: its __dict__ after BUILD
  Ref state;                                   // Object: non-dict BUILD state, if any
  std::shared_ptr<void> opaque;                // Opaque: resolver-owned payload (storages, tensors)
  int opaque_tag = 0;

  bool is(Kind k) const { return kind == k; }
  // Dict and Object lookup by string key (the last entry wins); nullptr when absent.
  const Value* get(std::string_view key) const;
};

Ref make(Kind k);
Ref make_str(std::string s);
Ref make_int(std::int64_t v);

// What the reader asks of its caller. Each function throws y26::Error to refuse.
class Resolver {
 public:
  virtual ~Resolver() = default;
  // GLOBAL module.name: return a Global value (or refuse).
  virtual Ref find_class(const std::string& module, const std::string& name) = 0;
  // REDUCE callable(*args) and NEWOBJ cls(*args); `callable` is a value find_class returned.
  virtual Ref call(const Value& callable, const Ref& args) = 0;
  // BINPERSID / PERSID.
  virtual Ref persistent_load(const Ref& pid) = 0;
};

struct Limits {
  std::size_t max_memo = 1u << 20;
  std::size_t max_stack = 1u << 20;
  std::size_t max_marks = 4096;
  std::size_t max_string = 256u << 20;
};

// The value STOP leaves, and ownership of every value the program built. A hostile
// pickle can make reference cycles (a list appended to itself); the destructor breaks
// them so nothing leaks. Keep it alive while reading `root`.
struct Unpickled {
  Ref root;
  std::vector<Ref> values;

  Unpickled() = default;
  Unpickled(Unpickled&&) = default;
  Unpickled& operator=(Unpickled&&) = default;
  ~Unpickled();
};

// Breaks every reference between `values` (so shared_ptr cycles can be freed).
void release_all(std::vector<Ref>& values);

// Runs the pickle program in `data`. `name` labels errors.
Unpickled unpickle(std::string_view data, Resolver& resolver, const std::string& name, const Limits& limits = {});

}  // namespace y26::loader::py
