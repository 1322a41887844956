#include "loader/mapped_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "y26/y26.h"

namespace y26::loader {

MappedFile::MappedFile(const std::string& path) : path_(path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw Error(path + ": cannot open: " + std::strerror(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    const int err = errno;
    ::close(fd);
    throw Error(path + ": cannot stat: " + std::strerror(err));
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    throw Error(path + ": not a regular file");
  }
  size_ = static_cast<std::size_t>(st.st_size);
  if (size_ > 0) {
    void* p = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) {
      const int err = errno;
      ::close(fd);
      throw Error(path + ": cannot map: " + std::strerror(err));
    }
    data_ = static_cast<const std::uint8_t*>(p);
    owned_ = true;
  }
  ::close(fd);
}

MappedFile::MappedFile(const std::uint8_t* data, std::size_t size, std::string name)
    : path_(std::move(name)), data_(data), size_(size) {}

MappedFile::~MappedFile() {
  if (owned_) ::munmap(const_cast<std::uint8_t*>(data_), size_);
}

std::string_view MappedFile::bytes(std::uint64_t offset, std::uint64_t length, std::string_view what) const {
  if (offset > size_ || length > size_ - offset) {
    throw Error(path_ + ": " + std::string(what) + " (bytes " + std::to_string(offset) + "+" +
                std::to_string(length) + ") runs past end of file (" + std::to_string(size_) + " bytes)");
  }
  return {reinterpret_cast<const char*>(data_ + offset), static_cast<std::size_t>(length)};
}

}  // namespace y26::loader
