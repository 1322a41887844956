// The emulator's WMMA (nvcuda::wmma) for 16x16x16 tiles: FP16 or FP32 fragments, FP32 accumulation.
// The fragment layout is the emulator's own - lane l holds elements 8l..8l+7 of the tile in row-major
// (m, k) / (k, n) / (m, n) order - so a kernel that depends on the hardware's layout gets wrong numbers.
// Loads, stores and fills touch only the calling lane's elements (the kernel's own accesses, seen by the
// sanitizers); mma_sync is a warp collective: the scheduler gathers the 32 lanes' fragments, multiplies
// once and scatters the result.
#pragma once

#include <cuda_fp16.h>

#include <cstdint>

#include "emu/device.h"

namespace nvcuda::wmma {

struct row_major;
struct col_major;
struct matrix_a;
struct matrix_b;
struct accumulator;
enum layout_t { mem_row_major, mem_col_major };

template <typename Use, int M, int N, int K, typename T, typename Layout = void>
struct fragment {
  static_assert(M == 16 && N == 16 && K == 16, "the emulator's WMMA takes 16x16x16 tiles");
  static constexpr int num_elements = 8;
  T x[num_elements];
};

namespace detail {

inline constexpr int kLaneElems = 8;
inline float to_float(float v) { return v; }
inline float to_float(__half v) { return __half2float(v); }
template <typename T>
T from_float(float v);
template <>
inline float from_float<float>(float v) {
  return v;
}
template <>
inline __half from_float<__half>(float v) {
  return __float2half_rn(v);
}

// (row, col) of this lane's element i in a 16 x 16 tile.
inline int elem_row(int i) { return (::y26::emu::t_current->lane * kLaneElems + i) / 16; }
inline int elem_col(int i) { return (::y26::emu::t_current->lane * kLaneElems + i) % 16; }

template <typename T>
void check_access(const void* p, unsigned ldm, const char* what) {
  // The CUDA programming guide: mptr 256-bit aligned, ldm a multiple of 16 bytes.
  if (reinterpret_cast<std::uintptr_t>(p) % 32 != 0)
    ::y26::emu::device_error("misaligned wmma", "%s at %p: the pointer must be 32-byte aligned", what, p);
  if ((ldm * sizeof(T)) % 16 != 0)
    ::y26::emu::device_error("misaligned wmma", "%s with ldm %u: must be a multiple of %zu elements", what, ldm,
                             16 / sizeof(T));
}

// Element (r, c) of a row- or column-major matrix with leading dimension ldm.
template <typename T>
const T& at(const T* p, int r, int c, unsigned ldm, bool rows) {
  return rows ? p[r * ldm + c] : p[c * ldm + r];
}

// Runs in the scheduler once all 32 lanes arrived: D = A x B + C for the whole tile, FP32 sums in k order.
template <typename TA, typename TB, typename TC, typename TD>
__attribute__((no_sanitize("thread"))) void mma_all_lanes(::y26::emu::ThreadState* const* lanes) {
  float a[16][16], b[16][16], c[16][16];
  for (int l = 0; l < 32; ++l) {
    const TA* fa = static_cast<const TA*>(lanes[l]->mma[1]);
    const TB* fb = static_cast<const TB*>(lanes[l]->mma[2]);
    const TC* fc = static_cast<const TC*>(lanes[l]->mma[3]);
    for (int i = 0; i < kLaneElems; ++i) {
      const int e = l * kLaneElems + i;
      a[e / 16][e % 16] = to_float(fa[i]);
      b[e / 16][e % 16] = to_float(fb[i]);
      c[e / 16][e % 16] = to_float(fc[i]);
    }
  }
  float d[16][16];
  for (int m = 0; m < 16; ++m)
    for (int n = 0; n < 16; ++n) {
      float s = c[m][n];
      for (int k = 0; k < 16; ++k) s += a[m][k] * b[k][n];
      d[m][n] = s;
    }
  for (int l = 0; l < 32; ++l) {
    TD* fd = static_cast<TD*>(const_cast<void*>(lanes[l]->mma[0]));
    for (int i = 0; i < kLaneElems; ++i) {
      const int e = l * kLaneElems + i;
      fd[i] = from_float<TD>(d[e / 16][e % 16]);
    }
  }
}

}  // namespace detail

template <typename Use, typename T, typename L>
void fill_fragment(fragment<Use, 16, 16, 16, T, L>& f, T v) {
  for (int i = 0; i < detail::kLaneElems; ++i) f.x[i] = v;
}
template <typename Use, typename T, typename L>
void fill_fragment(fragment<Use, 16, 16, 16, T, L>& f, float v)
  requires(!std::is_same_v<T, float>)
{
  for (int i = 0; i < detail::kLaneElems; ++i) f.x[i] = detail::from_float<T>(v);
}

// matrix_a is M x K (rows m), matrix_b is K x N (rows k); the layout says how memory holds them.
template <typename Use, typename T, typename L>
void load_matrix_sync(fragment<Use, 16, 16, 16, T, L>& f, const T* p, unsigned ldm) {
  static_assert(!std::is_same_v<Use, accumulator>, "an accumulator load takes a layout_t");
  detail::check_access<T>(p, ldm, "load_matrix_sync");
  const bool rows = std::is_same_v<L, row_major>;
  for (int i = 0; i < detail::kLaneElems; ++i) f.x[i] = detail::at(p, detail::elem_row(i), detail::elem_col(i), ldm, rows);
}
template <typename T>
void load_matrix_sync(fragment<accumulator, 16, 16, 16, T>& f, const T* p, unsigned ldm, layout_t layout) {
  detail::check_access<T>(p, ldm, "load_matrix_sync");
  for (int i = 0; i < detail::kLaneElems; ++i)
    f.x[i] = detail::at(p, detail::elem_row(i), detail::elem_col(i), ldm, layout == mem_row_major);
}
template <typename T>
void store_matrix_sync(T* p, const fragment<accumulator, 16, 16, 16, T>& f, unsigned ldm, layout_t layout) {
  detail::check_access<T>(p, ldm, "store_matrix_sync");
  for (int i = 0; i < detail::kLaneElems; ++i) {
    const int r = detail::elem_row(i), c = detail::elem_col(i);
    (layout == mem_row_major ? p[r * ldm + c] : p[c * ldm + r]) = f.x[i];
  }
}

template <typename TA, typename LA, typename TB, typename LB, typename TC, typename TD>
void mma_sync(fragment<accumulator, 16, 16, 16, TD>& d, const fragment<matrix_a, 16, 16, 16, TA, LA>& a,
              const fragment<matrix_b, 16, 16, 16, TB, LB>& b, const fragment<accumulator, 16, 16, 16, TC>& c,
              std::source_location site = std::source_location::current()) {
  ::y26::emu::ThreadState* const t = ::y26::emu::t_current;
  t->mma[0] = d.x, t->mma[1] = a.x, t->mma[2] = b.x, t->mma[3] = c.x;
  t->mma_fn = &detail::mma_all_lanes<TA, TB, TC, TD>;
  ::y26::emu::warp_collective(::y26::emu::WarpOp::Mma, 0xffffffffu, 0, 0, 32, site);
}

}  // namespace nvcuda::wmma
