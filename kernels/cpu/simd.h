// What the CPU reference kernels use to go wide without changing a single result:
// AVX2 and baseline builds of the hot loops, picked at load time (GCC function
// multiversioning), and a vector of 8 floats (GCC/Clang vector extension) for
// register blocking. The arithmetic is the same IEEE operations in the same order
// either way (ISO C++ mode: no FMA contraction; "avx2" does not enable FMA), so both
// builds give bit-identical results.
#pragma once

namespace y26::kernels::cpu {

// Function multiversioning, where GCC does it. Not under ThreadSanitizer: the clones' ifunc resolver runs
// while the dynamic loader relocates the program, before the sanitizer's runtime is up, and its
// instrumentation then crashes every binary at start-up (a bare "Segmentation fault" before main).
#if defined(__GNUC__) && defined(__x86_64__) && !defined(__clang__) && !defined(__SANITIZE_THREAD__)
#define Y26_TARGET_CLONES(...) __attribute__((target_clones(__VA_ARGS__)))
#else
#define Y26_TARGET_CLONES(...)
#endif
#define Y26_CPU_CLONES Y26_TARGET_CLONES("avx2", "default")

// Not 32-byte aligned in std::vector (no promise there): load and store through std::memcpy.
typedef float Vec8 __attribute__((vector_size(8 * sizeof(float))));

}  // namespace y26::kernels::cpu
