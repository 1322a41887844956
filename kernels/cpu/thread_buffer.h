// Row buffers of the reference kernels, one set per thread: slot `Slot` of element type T grows to the
// largest size any call asked of it and is kept, so once every layer's shape has been seen a run
// allocates nothing (tests/test_no_alloc.cpp counts; the fast kernels take the executor's scratch
// instead). Contents are whatever the last user left: every kernel writes what it reads.
#pragma once

#include <cstddef>
#include <vector>

namespace y26::kernels::cpu {

template <typename T, int Slot>
T* thread_buffer(std::size_t n) {
  thread_local std::vector<T> buffer;
  if (buffer.size() < n) buffer.resize(n);
  return buffer.data();
}

}  // namespace y26::kernels::cpu
