#include "loader/pickle.h"

#include <charconv>
#include <cstring>
#include <unordered_map>

#include "loader/mapped_file.h"
#include "y26/y26.h"

namespace y26::loader::py {

const Value* Value::get(std::string_view key) const {
  for (auto it = entries.rbegin(); it != entries.rend(); ++it) {
    if (it->first && it->first->kind == Kind::Str && it->first->text == key) return it->second.get();
  }
  return nullptr;
}

Ref make(Kind k) {
  auto v = std::make_shared<Value>();
  v->kind = k;
  return v;
}
Ref make_str(std::string s) {
  auto v = make(Kind::Str);
  v->text = std::move(s);
  return v;
}
Ref make_int(std::int64_t i) {
  auto v = make(Kind::Int);
  v->integer = i;
  return v;
}

namespace {

class Machine {
 public:
  Machine(std::string_view data, Resolver& resolver, const std::string& name, const Limits& limits)
      : data_(data), resolver_(resolver), name_(name), limits_(limits) {}
  ~Machine() { release_all(values_); }

  Ref run();
  std::vector<Ref> take_values() { return std::move(values_); }

 private:
  [[noreturn]] void fail(const std::string& what) const {
    throw Error(name_ + ": pickle: " + what + " (at byte " + std::to_string(pos_) + ")");
  }
  const std::uint8_t* take(std::size_t n) {
    if (n > data_.size() - pos_) fail("truncated data");
    const auto* p = reinterpret_cast<const std::uint8_t*>(data_.data() + pos_);
    pos_ += n;
    return p;
  }
  std::uint8_t u8() { return *take(1); }
  std::string_view line() {
    const std::size_t start = pos_;
    const void* nl = std::memchr(data_.data() + pos_, '\n', data_.size() - pos_);
    if (nl == nullptr) fail("unterminated text argument");
    pos_ = static_cast<std::size_t>(static_cast<const char*>(nl) - data_.data()) + 1;
    return data_.substr(start, pos_ - start - 1);
  }
  std::string text(std::uint64_t n) {
    if (n > limits_.max_string) fail("string of " + std::to_string(n) + " bytes exceeds the limit");
    const auto* p = take(static_cast<std::size_t>(n));
    return std::string(reinterpret_cast<const char*>(p), static_cast<std::size_t>(n));
  }

  // Every value the program builds passes through the stack, so registering here
  // gives values_ ownership of all of them (duplicates from DUP/GET are harmless).
  void push(Ref v) {
    if (stack_.size() >= limits_.max_stack) fail("stack exceeds the limit");
    values_.push_back(v);
    stack_.push_back(std::move(v));
  }
  Ref pop() {
    if (stack_.size() <= mark_floor()) fail("stack underflow");
    Ref v = std::move(stack_.back());
    stack_.pop_back();
    return v;
  }
  Ref& top() {
    if (stack_.size() <= mark_floor()) fail("stack underflow");
    return stack_.back();
  }
  std::size_t mark_floor() const { return marks_.empty() ? 0 : marks_.back(); }
  std::vector<Ref> pop_mark() {
    if (marks_.empty()) fail("missing MARK");
    const std::size_t m = marks_.back();
    marks_.pop_back();
    std::vector<Ref> items(std::make_move_iterator(stack_.begin() + static_cast<std::ptrdiff_t>(m)),
                           std::make_move_iterator(stack_.end()));
    stack_.resize(m);
    return items;
  }
  void memo_put(std::uint64_t id) {
    if (memo_.size() >= limits_.max_memo && !memo_.count(id)) fail("memo exceeds the limit");
    memo_[id] = top();
  }
  void memo_get(std::uint64_t id) {
    auto it = memo_.find(id);
    if (it == memo_.end()) fail("memo key " + std::to_string(id) + " was never stored");
    push(it->second);
  }
  std::int64_t parse_int(std::string_view s) {
    if (!s.empty() && s.back() == 'L') s.remove_suffix(1);
    if (s == "01") return 1;  // protocol 0 True/False
    if (s == "00") return 0;
    std::int64_t v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || p != s.data() + s.size()) fail("bad integer literal");
    return v;
  }
  Ref little_endian_long(std::string_view bytes) {
    if (bytes.size() > 8) fail("integer wider than 64 bits");
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < bytes.size(); ++i) v |= static_cast<std::uint64_t>(static_cast<std::uint8_t>(bytes[i])) << (8 * i);
    if (!bytes.empty() && bytes.size() < 8 && (static_cast<std::uint8_t>(bytes.back()) & 0x80)) {
      v |= ~std::uint64_t{0} << (8 * bytes.size());  // sign-extend
    }
    return make_int(static_cast<std::int64_t>(v));
  }
  Ref tuple(std::vector<Ref> items) {
    auto t = make(Kind::Tuple);
    t->items = std::move(items);
    return t;
  }
  // Appends key/value pairs. A repeated key is kept twice and Value::get returns
  // the last one, which is dict semantics without a quadratic search per insert.
  void set_items(Value& dict, std::vector<Ref>& kv) {
    if (kv.size() % 2) fail("SETITEMS with an odd number of items");
    if (dict.kind != Kind::Dict) fail("SETITEM on a non-dict");
    for (std::size_t i = 0; i < kv.size(); i += 2) dict.entries.emplace_back(kv[i], kv[i + 1]);
  }
  void build(Value& obj, const Ref& state) {
    // BUILD: dict state becomes the object's attributes; (dict, slots) tuples merge both.
    auto merge = [&](const Value& d) {
      for (const auto& e : d.entries) obj.entries.push_back(e);
    };
    if (state->kind == Kind::Dict) {
      merge(*state);
    } else if (state->kind == Kind::Tuple && state->items.size() == 2) {
      if (state->items[0]->kind == Kind::Dict) merge(*state->items[0]);
      if (state->items[1]->kind == Kind::Dict) merge(*state->items[1]);
    } else {
      obj.state = state;
    }
  }
  Ref global(const std::string& module, const std::string& qualname) {
    return resolver_.find_class(module, qualname);
  }

  std::string_view data_;
  Resolver& resolver_;
  const std::string& name_;
  Limits limits_;
  std::size_t pos_ = 0;
  std::vector<Ref> stack_;
  std::vector<std::size_t> marks_;
  std::unordered_map<std::uint64_t, Ref> memo_;
  std::vector<Ref> values_;
};

Ref Machine::run() {
  while (true) {
    const std::uint8_t op = u8();
    switch (op) {
      case 0x80: {  // PROTO
        const std::uint8_t proto = u8();
        if (proto > 5) fail("unsupported pickle protocol " + std::to_string(proto));
        break;
      }
      case 0x95: take(8); break;  // FRAME: a length hint only
      case '.': {                 // STOP
        if (stack_.empty()) fail("STOP with an empty stack");
        return stack_.back();
      }
      case '(': {  // MARK
        if (marks_.size() >= limits_.max_marks) fail("MARK nesting exceeds the limit");
        marks_.push_back(stack_.size());
        break;
      }
      case '0': pop(); break;      // POP
      case '1': pop_mark(); break;  // POP_MARK
      case '2': push(top()); break; // DUP
      case 'N': push(make(Kind::None)); break;
      case 0x88:
      case 0x89: {  // NEWTRUE / NEWFALSE
        auto b = make(Kind::Bool);
        b->boolean = op == 0x88;
        push(b);
        break;
      }
      case 'I': {  // INT (text)
        std::string_view s = line();
        if (s == "01" || s == "00") {
          auto b = make(Kind::Bool);
          b->boolean = s == "01";
          push(b);
        } else {
          push(make_int(parse_int(s)));
        }
        break;
      }
      case 'L': push(make_int(parse_int(line()))); break;  // LONG (text)
      case 'J': push(make_int(static_cast<std::int32_t>(load_le32(take(4))))); break;
      case 'K': push(make_int(u8())); break;
      case 'M': push(make_int(load_le16(take(2)))); break;
      case 0x8a: {  // LONG1
        const std::uint8_t n = u8();
        push(little_endian_long(std::string_view(reinterpret_cast<const char*>(take(n)), n)));
        break;
      }
      case 0x8b: {  // LONG4
        const std::uint32_t n = load_le32(take(4));
        if (n > 8) fail("integer wider than 64 bits");
        push(little_endian_long(std::string_view(reinterpret_cast<const char*>(take(n)), n)));
        break;
      }
      case 'F': {  // FLOAT (text)
        std::string s(line());
        char* end = nullptr;
        const double d = std::strtod(s.c_str(), &end);
        if (end != s.c_str() + s.size()) fail("bad float literal");
        auto f = make(Kind::Float);
        f->real = d;
        push(f);
        break;
      }
      case 'G': {  // BINFLOAT: big-endian double
        const std::uint8_t* p = take(8);
        std::uint64_t bits = 0;
        for (int i = 0; i < 8; ++i) bits = (bits << 8) | p[i];
        auto f = make(Kind::Float);
        std::memcpy(&f->real, &bits, 8);
        push(f);
        break;
      }
      case 'X': push(make_str(text(load_le32(take(4))))); break;   // BINUNICODE
      case 0x8c: push(make_str(text(u8()))); break;                 // SHORT_BINUNICODE
      case 0x8d: push(make_str(text(load_le64(take(8))))); break;  // BINUNICODE8
      case 'V': push(make_str(std::string(line()))); break;        // UNICODE (raw-unicode-escape, ASCII in practice)
      case 'T':                                                    // BINSTRING
      case 'B':                                                    // BINBYTES
      case 'U':                                                    // SHORT_BINSTRING
      case 'C':                                                    // SHORT_BINBYTES
      case 0x8e:                                                   // BINBYTES8
      case 0x96: {                                                 // BYTEARRAY8
        const std::uint64_t n = (op == 'U' || op == 'C') ? u8() : (op == 0x8e || op == 0x96) ? load_le64(take(8)) : load_le32(take(4));
        auto b = make((op == 'T' || op == 'U') ? Kind::Str : Kind::Bytes);
        b->text = text(n);
        push(b);
        break;
      }
      case 'S': {  // STRING (quoted text)
        std::string_view s = line();
        if (s.size() < 2 || s.front() != s.back() || (s.front() != '\'' && s.front() != '"')) fail("bad STRING literal");
        push(make_str(std::string(s.substr(1, s.size() - 2))));
        break;
      }
      case ']': push(make(Kind::List)); break;
      case ')': push(make(Kind::Tuple)); break;
      case '}': push(make(Kind::Dict)); break;
      case 0x8f: push(make(Kind::Set)); break;  // EMPTY_SET
      case 'l': {                               // LIST
        auto l = make(Kind::List);
        l->items = pop_mark();
        push(l);
        break;
      }
      case 't': push(tuple(pop_mark())); break;
      case 0x85: {
        Ref a = pop();
        push(tuple({a}));
        break;
      }
      case 0x86: {
        Ref b = pop(), a = pop();
        push(tuple({a, b}));
        break;
      }
      case 0x87: {
        Ref c = pop(), b = pop(), a = pop();
        push(tuple({a, b, c}));
        break;
      }
      case 0x91: {  // FROZENSET
        auto s = make(Kind::Set);
        s->items = pop_mark();
        push(s);
        break;
      }
      case 'd': {  // DICT
        auto items = pop_mark();
        auto d = make(Kind::Dict);
        set_items(*d, items);
        push(d);
        break;
      }
      case 'a': {  // APPEND
        Ref v = pop();
        Ref& l = top();
        if (l->kind != Kind::List) fail("APPEND to a non-list");
        l->items.push_back(std::move(v));
        break;
      }
      case 'e': {  // APPENDS
        auto items = pop_mark();
        Ref& l = top();
        if (l->kind != Kind::List) fail("APPENDS to a non-list");
        for (auto& v : items) l->items.push_back(std::move(v));
        break;
      }
      case 0x90: {  // ADDITEMS
        auto items = pop_mark();
        Ref& s = top();
        if (s->kind != Kind::Set) fail("ADDITEMS to a non-set");
        for (auto& v : items) s->items.push_back(std::move(v));
        break;
      }
      case 's': {  // SETITEM
        Ref v = pop(), k = pop();
        std::vector<Ref> kv{k, v};
        set_items(*top(), kv);
        break;
      }
      case 'u': {  // SETITEMS
        auto kv = pop_mark();
        set_items(*top(), kv);
        break;
      }
      case 'p': memo_put(static_cast<std::uint64_t>(parse_int(line()))); break;
      case 'q': memo_put(u8()); break;
      case 'r': memo_put(load_le32(take(4))); break;
      case 0x94: memo_put(memo_.size()); break;  // MEMOIZE
      case 'g': memo_get(static_cast<std::uint64_t>(parse_int(line()))); break;
      case 'h': memo_get(u8()); break;
      case 'j': memo_get(load_le32(take(4))); break;
      case 'c': {  // GLOBAL "module\nname\n"
        std::string module(line());
        std::string qualname(line());
        push(global(module, qualname));
        break;
      }
      case 0x93: {  // STACK_GLOBAL
        Ref qualname = pop(), module = pop();
        if (module->kind != Kind::Str || qualname->kind != Kind::Str) fail("STACK_GLOBAL needs two strings");
        push(global(module->text, qualname->text));
        break;
      }
      case 'R': {  // REDUCE
        Ref args = pop(), callable = pop();
        if (callable->kind != Kind::Global) fail("REDUCE on something that is not an allowed global");
        if (args->kind != Kind::Tuple) fail("REDUCE arguments are not a tuple");
        push(resolver_.call(*callable, args));
        break;
      }
      case 0x81: {  // NEWOBJ cls(*args)
        Ref args = pop(), cls = pop();
        if (cls->kind != Kind::Global) fail("NEWOBJ on something that is not an allowed class");
        if (args->kind != Kind::Tuple) fail("NEWOBJ arguments are not a tuple");
        push(resolver_.call(*cls, args));
        break;
      }
      case 0x92: {  // NEWOBJ_EX cls(*args, **kwargs)
        pop();  // kwargs: constructors of inert objects ignore them
        Ref args = pop(), cls = pop();
        if (cls->kind != Kind::Global || args->kind != Kind::Tuple) fail("bad NEWOBJ_EX");
        push(resolver_.call(*cls, args));
        break;
      }
      case 'i': {  // INST module\nname\n with MARKed args
        std::string module(line());
        std::string qualname(line());
        Ref cls = global(module, qualname);
        push(resolver_.call(*cls, tuple(pop_mark())));
        break;
      }
      case 'o': {  // OBJ: MARK cls args...
        auto items = pop_mark();
        if (items.empty() || items[0]->kind != Kind::Global) fail("OBJ without an allowed class");
        Ref cls = items[0];
        items.erase(items.begin());
        push(resolver_.call(*cls, tuple(std::move(items))));
        break;
      }
      case 'b': {  // BUILD
        Ref state = pop();
        Ref& obj = top();
        if (obj->kind == Kind::Object) {
          build(*obj, state);
        } else if (obj->kind == Kind::Dict && state->kind == Kind::Dict) {
          std::vector<Ref> kv;
          for (auto& [k, v] : state->entries) kv.insert(kv.end(), {k, v});
          set_items(*obj, kv);
        } else if (state->kind != Kind::None) {
          // Resolver-built values (tensors, opaque payloads) carry their state elsewhere.
          obj->state = state;
        }
        break;
      }
      case 'Q': push(resolver_.persistent_load(pop())); break;  // BINPERSID
      case 'P': push(resolver_.persistent_load(make_str(std::string(line())))); break;
      case 0x82:
      case 0x83:
      case 0x84: fail("extension registry opcodes (EXT1/2/4) are not allowed");
      case 0x97:
      case 0x98: fail("out-of-band buffers (protocol 5) are not supported");
      default: fail("unknown opcode 0x" + [&] {
                      char b[3];
                      std::snprintf(b, sizeof b, "%02x", op);
                      return std::string(b);
                    }());
    }
  }
}

}  // namespace

void release_all(std::vector<Ref>& values) {
  for (auto& v : values) {
    v->items.clear();
    v->entries.clear();
    v->state.reset();
  }
  values.clear();
}

Unpickled::~Unpickled() {
  root.reset();
  release_all(values);
}

Unpickled unpickle(std::string_view data, Resolver& resolver, const std::string& name, const Limits& limits) {
  Machine m(data, resolver, name, limits);
  Unpickled out;
  out.root = m.run();
  out.values = m.take_values();
  return out;
}

}  // namespace y26::loader::py
