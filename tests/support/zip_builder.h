// Builders for hand-made hostile inputs: stored-entry zip archives laid out as
// torch.save writes them, and pickle programs written opcode by opcode.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace y26::test {

struct ZipOptions {
  std::uint16_t method = 0;  // 0 stored, 8 deflate (refused by y26)
  std::uint16_t flags = 0;   // bit 0: encrypted (refused by y26)
};

// A zip archive of stored entries, in order.
std::string make_zip(const std::vector<std::pair<std::string, std::string>>& entries, ZipOptions opt = {});

// A torch.save-style archive "ckpt/data.pkl" + "ckpt/data/<key>" storages.
std::string make_checkpoint(const std::string& pickle,
                            const std::vector<std::pair<std::string, std::string>>& storages = {});

// Pickle opcodes (protocol 2 encodings).
namespace pk {
std::string proto(int v);
std::string str(const std::string& s);        // BINUNICODE
std::string int32(std::int32_t v);            // BININT
std::string global(const std::string& module, const std::string& name);  // GLOBAL
std::string stack_global(const std::string& module, const std::string& name);  // protocol 4 STACK_GLOBAL
inline const std::string mark = "(";
inline const std::string tuple = "t";
inline const std::string empty_tuple = ")";
inline const std::string empty_dict = "}";
inline const std::string setitems = "u";
inline const std::string setitem = "s";
inline const std::string reduce = "R";
inline const std::string binpersid = "Q";
inline const std::string newfalse = "\x89";
inline const std::string none = "N";
inline const std::string stop = ".";
// {'model': {name: _rebuild_tensor_v2(storage('0', dtype, numel), offset, size, stride)}}
std::string state_dict_with_tensor(const std::string& name, const std::string& storage_type, std::int32_t numel,
                                   const std::vector<std::int32_t>& size, const std::vector<std::int32_t>& stride);
}  // namespace pk

}  // namespace y26::test
