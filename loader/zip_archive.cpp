#include "loader/zip_archive.h"


#include "y26/y26.h"

namespace y26::loader {
namespace {

constexpr std::uint32_t kLocalHeaderSig = 0x04034b50;
constexpr std::uint32_t kCentralHeaderSig = 0x02014b50;
constexpr std::uint32_t kEndOfCentralDirSig = 0x06054b50;
constexpr std::uint32_t kZip64EndSig = 0x06064b50;
constexpr std::uint32_t kZip64LocatorSig = 0x07064b50;
constexpr std::size_t kEndOfCentralDirSize = 22;
constexpr std::size_t kMaxCommentSize = 0xffff;
constexpr std::size_t kCentralHeaderSize = 46;
constexpr std::size_t kLocalHeaderSize = 30;
constexpr std::uint64_t kMaxEntries = 1u << 20;

const std::uint8_t* u8(std::string_view s) { return reinterpret_cast<const std::uint8_t*>(s.data()); }

struct Zip64Fields {
  std::uint64_t uncompressed = 0, compressed = 0, local_offset = 0;
};

// Central-directory fields that hold 0xFFFFFFFF take their real value from the
// ZIP64 extra field (id 0x0001), in this fixed order.
void apply_zip64_extra(std::string_view extra, Zip64Fields& f, bool need_unc, bool need_comp, bool need_off,
                       const std::string& path, const std::string& name) {
  std::size_t pos = 0;
  while (pos + 4 <= extra.size()) {
    const std::uint16_t id = load_le16(u8(extra) + pos);
    const std::uint16_t len = load_le16(u8(extra) + pos + 2);
    if (pos + 4 + len > extra.size()) break;
    if (id == 0x0001) {
      std::string_view body = extra.substr(pos + 4, len);
      std::size_t p = 0;
      auto take = [&](std::uint64_t& out) {
        if (p + 8 > body.size()) throw Error(path + ": zip entry '" + name + "' has a truncated ZIP64 field");
        out = load_le64(u8(body) + p);
        p += 8;
      };
      if (need_unc) take(f.uncompressed);
      if (need_comp) take(f.compressed);
      if (need_off) take(f.local_offset);
      return;
    }
    pos += 4 + len;
  }
  throw Error(path + ": zip entry '" + name + "' needs a ZIP64 field but has none");
}

}  // namespace

bool ZipArchive::looks_like_zip(const MappedFile& file) {
  return file.size() >= 4 && load_le32(file.data()) == kLocalHeaderSig;
}

ZipArchive::ZipArchive(const MappedFile& file) : file_(file) {
  const std::string& path = file.path();
  const std::size_t n = file.size();
  if (n < kEndOfCentralDirSize) throw Error(path + ": too small to be a zip archive (" + std::to_string(n) + " bytes)");

  // The end-of-central-directory record sits in the last 22 + comment bytes.
  const std::size_t search_from = n - kEndOfCentralDirSize;
  const std::size_t search_to = search_from > kMaxCommentSize ? search_from - kMaxCommentSize : 0;
  std::size_t eocd = SIZE_MAX;
  for (std::size_t p = search_from + 1; p-- > search_to;) {
    if (load_le32(file.data() + p) == kEndOfCentralDirSig) {
      eocd = p;
      break;
    }
  }
  if (eocd == SIZE_MAX) throw Error(path + ": zip end-of-central-directory record not found (truncated file?)");

  const std::uint8_t* e = file.data() + eocd;
  std::uint64_t count = load_le16(e + 10);
  std::uint64_t cd_size = load_le32(e + 12);
  std::uint64_t cd_offset = load_le32(e + 16);
  if (load_le16(e + 4) != 0 || load_le16(e + 6) != 0) throw Error(path + ": multi-disk zip archives are not supported");

  if (count == 0xffff || cd_size == 0xffffffff || cd_offset == 0xffffffff) {
    if (eocd < 20) throw Error(path + ": ZIP64 archive without its locator");
    const std::uint8_t* loc = file.data() + eocd - 20;
    if (load_le32(loc) != kZip64LocatorSig) throw Error(path + ": ZIP64 locator missing before end record");
    const std::uint64_t z64 = load_le64(loc + 8);
    std::string_view rec = file.bytes(z64, 56, "ZIP64 end-of-central-directory record");
    if (load_le32(u8(rec)) != kZip64EndSig) throw Error(path + ": bad ZIP64 end-of-central-directory signature");
    count = load_le64(u8(rec) + 32);
    cd_size = load_le64(u8(rec) + 40);
    cd_offset = load_le64(u8(rec) + 48);
  }
  if (count > kMaxEntries) throw Error(path + ": zip archive declares " + std::to_string(count) + " entries (limit " + std::to_string(kMaxEntries) + ")");

  std::string_view cd = file.bytes(cd_offset, cd_size, "zip central directory");
  entries_.reserve(count);
  std::size_t pos = 0;
  for (std::uint64_t i = 0; i < count; ++i) {
    if (pos + kCentralHeaderSize > cd.size() || load_le32(u8(cd) + pos) != kCentralHeaderSig) {
      throw Error(path + ": zip central directory entry " + std::to_string(i) + " is corrupt");
    }
    const std::uint8_t* h = u8(cd) + pos;
    const std::uint16_t flags = load_le16(h + 8);
    const std::uint16_t method = load_le16(h + 10);
    Zip64Fields f{load_le32(h + 24), load_le32(h + 20), load_le32(h + 42)};
    const std::size_t name_len = load_le16(h + 28), extra_len = load_le16(h + 30), comment_len = load_le16(h + 32);
    if (pos + kCentralHeaderSize + name_len + extra_len + comment_len > cd.size()) {
      throw Error(path + ": zip central directory entry " + std::to_string(i) + " runs past the directory");
    }
    std::string name(cd.substr(pos + kCentralHeaderSize, name_len));
    std::string_view extra = cd.substr(pos + kCentralHeaderSize + name_len, extra_len);
    const bool need_unc = f.uncompressed == 0xffffffff, need_comp = f.compressed == 0xffffffff,
               need_off = f.local_offset == 0xffffffff;
    if (need_unc || need_comp || need_off) apply_zip64_extra(extra, f, need_unc, need_comp, need_off, path, name);
    pos += kCentralHeaderSize + name_len + extra_len + comment_len;

    if (flags & 0x1) throw Error(path + ": zip entry '" + name + "' is encrypted");
    if (method != 0) {
      throw Error(path + ": zip entry '" + name + "' is compressed (method " + std::to_string(method) +
                  "); only stored entries are supported, as torch.save writes them");
    }
    if (f.compressed != f.uncompressed) throw Error(path + ": zip entry '" + name + "' has inconsistent sizes");
    if (!index_.emplace(name, entries_.size()).second) throw Error(path + ": zip entry '" + name + "' appears twice");

    std::string_view local = file.bytes(f.local_offset, kLocalHeaderSize, "zip local header of '" + name + "'");
    if (load_le32(u8(local)) != kLocalHeaderSig) throw Error(path + ": zip entry '" + name + "' has a bad local header");
    const std::uint64_t data_offset =
        f.local_offset + kLocalHeaderSize + load_le16(u8(local) + 26) + load_le16(u8(local) + 28);
    file.bytes(data_offset, f.uncompressed, "zip entry '" + name + "'");  // bounds check
    entries_.push_back({std::move(name), data_offset, f.uncompressed});
  }
}

const ZipEntry* ZipArchive::find(std::string_view name) const {
  auto it = index_.find(std::string(name));
  return it == index_.end() ? nullptr : &entries_[it->second];
}

std::string_view ZipArchive::read(std::string_view name) const {
  const ZipEntry* e = find(name);
  if (e == nullptr) throw Error(file_.path() + ": zip entry '" + std::string(name) + "' is missing");
  return file_.bytes(e->data_offset, e->size, "zip entry '" + e->name + "'");
}

}  // namespace y26::loader
