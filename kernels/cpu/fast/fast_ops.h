// The fast CPU kernel set: the same ops and views as the reference kernels
// (kernels/cpu/cpu_ops.h), written for speed instead of bit-exactness. FMA, 16/8/4-lane
// vectors picked at run time (AVX-512, AVX2, x86-64 baseline), weights packed once into
// register-block panels, a vector exp for SiLU and softmax. Sums run in another order
// than the reference's (FMA rounds once), so results differ from it by FP32 rounding:
// tests/test_cpu_fast.cpp derives and checks the bounds. No allocation inside a call:
// every buffer a kernel needs is the caller's scratch, sized by the *_scratch_floats
// functions per worker of the pool.
#pragma once

#include <cstdint>
#include <vector>

#include "kernels/cpu/cpu_ops.h"

namespace y26::kernels::cpu::fast {

enum class Isa : std::uint8_t { Baseline, Avx2, Avx512 };
// The widest ISA this CPU and this build support (AVX-512 F/BW/DQ/VL, AVX2 with FMA, else baseline).
Isa detect_isa();
const char* isa_name(Isa isa);  // "avx512", "avx2", "baseline"

// Convolution weights packed for one ISA's micro-kernel. Dense: panels of `block` output channels,
// w[(panel * K + k) * block + j] for k = (ky, kx, ci) and channel panel * block + j (zero past cout);
// depthwise: the reference layout, copied.
struct PackedConv {
  Isa isa = Isa::Baseline;
  int cin = 0, cout = 0, kh = 1, kw = 1, groups = 1;
  int block = 0;  // output channels per panel (dense)
  std::vector<float> w, bias;
  std::int64_t bytes() const { return static_cast<std::int64_t>(w.size() + bias.size()) * 4; }
};
PackedConv pack_conv(const ConvWeights& w, Isa isa);
// What pack_conv(w, isa).bytes() will be, without packing.
std::int64_t packed_bytes(const ConvWeights& w, Isa isa);

// Floats of scratch a conv needs: one input pixel of zeros (what the padding reads), shared by the
// pool's threads.
std::int64_t conv_scratch_floats(const PackedConv& w);
// out = act(conv(in, w) + bias) [+ residual]; scratch: the executor's pool size x per_worker floats
// (per_worker >= conv_scratch_floats; conv2d writes its zeros).
void conv2d(const Context& ctx, const View<const float>& in, const View<float>& out, const PackedConv& w,
            const ConvParams& p, const View<const float>* residual, float* scratch, std::int64_t per_worker);

// PSA attention, softmax with the vector exp; scratch as for conv2d.
std::int64_t attention_scratch_floats(const AttentionParams& p, int tokens);
void attention(const Context& ctx, const View<const float>& q, const View<const float>& k, const View<const float>& v,
               const View<float>& out, const AttentionParams& p, float* scratch, std::int64_t per_worker,
               Isa isa = detect_isa());

// k x k max pooling and nearest 2x upsampling [+ residual], vectorised over channels (exact: no arithmetic
// but the residual's one addition, as the reference kernel's).
void max_pool2d(const Context& ctx, const View<const float>& in, const View<float>& out, const PoolParams& p);
void upsample_nearest2x(const Context& ctx, const View<const float>& in, const View<float>& out,
                        const View<const float>* residual = nullptr);

// exp and SiLU of n floats with this CPU's vector code (for tests of the vector math).
void exp_n(const float* x, float* y, int n);
void silu_n(const float* x, float* y, int n);

}  // namespace y26::kernels::cpu::fast
