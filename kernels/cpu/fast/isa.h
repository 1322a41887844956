// Per-function ISA attributes for the fast kernels: each kernel is written once as an
// always-inline template and instantiated inside a function compiled for AVX-512, one
// for AVX2 + FMA and one for the x86-64 baseline; detect_isa() picks one at run time.
// Function attributes rather than per-file -m flags: an inline function (std::min, a
// template) compiled in an AVX-512 file could otherwise be the copy the linker keeps
// for everyone, and fault on a CPU without AVX-512.
#pragma once

#include "kernels/cpu/fast/fast_ops.h"

#if defined(__x86_64__) && defined(__GNUC__)
#define Y26_X86 1
#define Y26_TARGET_AVX512 __attribute__((target("avx512f,avx512bw,avx512dq,avx512vl,avx2,fma,bmi2")))
#define Y26_TARGET_AVX2 __attribute__((target("avx2,fma,bmi2")))
#else
#define Y26_X86 0
#define Y26_TARGET_AVX512
#define Y26_TARGET_AVX2
#endif

namespace y26::kernels::cpu::fast {
// Floats per vector register of an ISA's kernels.
inline int lanes_of(Isa isa) { return isa == Isa::Avx512 ? 16 : isa == Isa::Avx2 ? 8 : 4; }
}  // namespace y26::kernels::cpu::fast
