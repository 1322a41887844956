#include "tests/support/zip_builder.h"

namespace y26::test {
namespace {
void le16(std::string& s, std::uint32_t v) {
  s.push_back(static_cast<char>(v & 0xff));
  s.push_back(static_cast<char>((v >> 8) & 0xff));
}
void le32(std::string& s, std::uint32_t v) {
  le16(s, v & 0xffff);
  le16(s, v >> 16);
}
}  // namespace

std::string make_zip(const std::vector<std::pair<std::string, std::string>>& entries, ZipOptions opt) {
  std::string out, central;
  for (const auto& [name, data] : entries) {
    const auto offset = static_cast<std::uint32_t>(out.size());
    le32(out, 0x04034b50);
    le16(out, 20);
    le16(out, opt.flags);
    le16(out, opt.method);
    le32(out, 0);  // time, date
    le32(out, 0);  // crc (y26 does not check it; torch does not either)
    le32(out, static_cast<std::uint32_t>(data.size()));
    le32(out, static_cast<std::uint32_t>(data.size()));
    le16(out, static_cast<std::uint32_t>(name.size()));
    le16(out, 0);
    out += name;
    out += data;

    le32(central, 0x02014b50);
    le16(central, 20);
    le16(central, 20);
    le16(central, opt.flags);
    le16(central, opt.method);
    le32(central, 0);
    le32(central, 0);
    le32(central, static_cast<std::uint32_t>(data.size()));
    le32(central, static_cast<std::uint32_t>(data.size()));
    le16(central, static_cast<std::uint32_t>(name.size()));
    le16(central, 0);  // extra
    le16(central, 0);  // comment
    le16(central, 0);  // disk
    le16(central, 0);  // internal attrs
    le32(central, 0);  // external attrs
    le32(central, offset);
    central += name;
  }
  const auto cd_offset = static_cast<std::uint32_t>(out.size());
  out += central;
  le32(out, 0x06054b50);
  le16(out, 0);
  le16(out, 0);
  le16(out, static_cast<std::uint32_t>(entries.size()));
  le16(out, static_cast<std::uint32_t>(entries.size()));
  le32(out, static_cast<std::uint32_t>(central.size()));
  le32(out, cd_offset);
  le16(out, 0);
  return out;
}

std::string make_checkpoint(const std::string& pickle, const std::vector<std::pair<std::string, std::string>>& storages) {
  std::vector<std::pair<std::string, std::string>> entries{{"ckpt/data.pkl", pickle}, {"ckpt/byteorder", "little"}};
  for (const auto& [key, bytes] : storages) entries.emplace_back("ckpt/data/" + key, bytes);
  return make_zip(entries);
}

namespace pk {

std::string proto(int v) { return std::string("\x80") + static_cast<char>(v); }

std::string str(const std::string& s) {
  std::string out = "X";
  le32(out, static_cast<std::uint32_t>(s.size()));
  return out + s;
}

std::string int32(std::int32_t v) {
  std::string out = "J";
  le32(out, static_cast<std::uint32_t>(v));
  return out;
}

std::string global(const std::string& module, const std::string& name) { return "c" + module + "\n" + name + "\n"; }

std::string stack_global(const std::string& module, const std::string& name) {
  auto short_str = [](const std::string& s) { return std::string("\x8c") + static_cast<char>(s.size()) + s; };
  return short_str(module) + short_str(name) + "\x93";
}

std::string state_dict_with_tensor(const std::string& name, const std::string& storage_type, std::int32_t numel,
                                   const std::vector<std::int32_t>& size, const std::vector<std::int32_t>& stride) {
  auto ints = [](const std::vector<std::int32_t>& v) {
    std::string s = mark;
    for (auto x : v) s += int32(x);
    return s + tuple;
  };
  const std::string storage = mark + str("storage") + global("torch", storage_type) + str("0") + str("cpu") +
                              int32(numel) + tuple + binpersid;
  const std::string tensor = global("torch._utils", "_rebuild_tensor_v2") + mark + storage + int32(0) + ints(size) +
                             ints(stride) + newfalse + global("collections", "OrderedDict") + empty_tuple + reduce +
                             tuple + reduce;
  return proto(2) + empty_dict + str("model") + empty_dict + str(name) + tensor + setitem + setitem + stop;
}

}  // namespace pk
}  // namespace y26::test
