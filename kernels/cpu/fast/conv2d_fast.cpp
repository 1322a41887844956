// Fast convolutions, NHWC, on strided views (concat slices in and out, as the reference).
//
// Dense: per output row, the row's input patches are packed once into tiles of P pixels,
// a[tile][k][P] for k = (ky, kx, ci) (zeros in the padding), then every panel of B output
// channels sweeps the tiles: P x B accumulators stay in registers over all of K, each step
// one load of B weights and P broadcast FMAs. AVX-512: P = 12, B = 32 (24 of 32 zmm
// registers); AVX2: P = 6, B = 16 (12 of 16 ymm); baseline SSE: P = 6, B = 8. Panels of
// B / 2 for layers with few output channels (the head's class branch), so as little of
// a panel as possible is zero padding. The packed row is reused by every panel from L1/L2,
// the panel's weights by every tile. Bias, SiLU (vector exp) and the residual are applied
// as the accumulators are stored.
//
// Depthwise: per output pixel, blocks of L channels accumulate the k x k taps in a register.
#include <algorithm>
#include <stdexcept>

#include "kernels/cpu/fast/isa.h"
#include "kernels/cpu/fast/vec_math.h"

namespace y26::kernels::cpu::fast {
namespace {

struct ConvJob {
  const View<const float>* in;
  const View<float>* out;
  const PackedConv* w;
  const ConvParams* p;
  const View<const float>* res;
};

template <int P>
int tiles_of(int out_w) {
  return (out_w + P - 1) / P;
}

// Packs output row (b, oy)'s input patches: a[(tile * K + k) * P + t].
template <int P>
Y26_INLINE void pack_row(const ConvJob& j, int b, int oy, float* a) {
  const View<const float>& in = *j.in;
  const PackedConv& w = *j.w;
  const int cin = w.cin, K = w.kh * w.kw * cin, tiles = tiles_of<P>(j.out->w);
  const int stride = j.p->stride, pad = j.p->pad;
  const std::int64_t step = stride * in.pixel_stride;  // between the input pixels of neighbouring outputs
  for (int tile = 0; tile < tiles; ++tile) {
    float* at = a + static_cast<std::int64_t>(tile) * K * P;
    const int ix_first = tile * P * stride - pad, ix_last = (tile * P + P - 1) * stride - pad + w.kw - 1;
    // Inside the image for every tap and pixel: no test per element, P loads a channel (the common case).
    const bool inside_x = ix_first >= 0 && ix_last < in.w && tile * P + P <= j.out->w;
    for (int ky = 0; ky < w.kh; ++ky) {
      const int iy = oy * stride - pad + ky;
      for (int kx = 0; kx < w.kw; ++kx) {
        float* dst = at + static_cast<std::int64_t>(ky * w.kw + kx) * cin * P;
        if (iy < 0 || iy >= in.h) {
          for (int e = 0; e < cin * P; ++e) dst[e] = 0.0f;
          continue;
        }
        if (inside_x) {
          const float* src = in.pixel(b, iy, ix_first + kx);
          for (int ci = 0; ci < cin; ++ci) {
            for (int t = 0; t < P; ++t) dst[ci * P + t] = src[t * step + ci];
          }
          continue;
        }
        for (int t = 0; t < P; ++t) {
          const int ox = tile * P + t;
          const int ix = ox * j.p->stride - j.p->pad + kx;
          if (ox < j.out->w && iy >= 0 && iy < in.h && ix >= 0 && ix < in.w) {
            const float* src = in.pixel(b, iy, ix);
            for (int ci = 0; ci < cin; ++ci) dst[ci * P + t] = src[ci];
          } else {
            for (int ci = 0; ci < cin; ++ci) dst[ci * P + t] = 0.0f;
          }
        }
      }
    }
  }
}

// Stores accumulators for `count` pixels of the tile (channels c0.. of panel width NV * L).
template <typename V, int NV, int P>
Y26_INLINE void store_tile(const ConvJob& j, int b, int oy, int ox0, int count, int c0, V (&acc)[P][NV]) {
  constexpr int L = lanes<V>;
  const int cout = j.w->cout;
  const bool silu = j.p->act == Activation::SiLU;
  for (int t = 0; t < P; ++t) {
    if (t >= count) break;
    float* o = j.out->pixel(b, oy, ox0 + t) + c0;
    const float* r = j.res ? j.res->pixel(b, oy, ox0 + t) + c0 : nullptr;
    for (int v = 0; v < NV; ++v) {
      V x = acc[t][v];
      if (silu) x = silu_v(x);
      const int ch = v * L;
      if (c0 + ch + L <= cout) {
        if (r) x += load<V>(r + ch);
        store(o + ch, x);
      } else {
        float lane[L];
        store(lane, x);
        for (int i = 0; i < L && c0 + ch + i < cout; ++i) o[ch + i] = r ? lane[i] + r[ch + i] : lane[i];
      }
    }
  }
}

template <typename V, int NV, int P>
Y26_INLINE void dense_rows(const ConvJob& j, std::int64_t begin, std::int64_t end, float* a) {
  constexpr int L = lanes<V>, B = NV * L;
  const PackedConv& w = *j.w;
  const int K = w.kh * w.kw * w.cin, oh = j.out->h, ow = j.out->w;
  const int tiles = tiles_of<P>(ow), panels = (w.cout + B - 1) / B;
  for (std::int64_t row = begin; row < end; ++row) {
    const int b = static_cast<int>(row / oh), oy = static_cast<int>(row % oh);
    pack_row<P>(j, b, oy, a);
    for (int panel = 0; panel < panels; ++panel) {
      const float* wp = w.w.data() + static_cast<std::int64_t>(panel) * K * B;
      const float* bias = w.bias.data() + panel * B;
      for (int tile = 0; tile < tiles; ++tile) {
        V acc[P][NV];
        for (int v = 0; v < NV; ++v) {
          const V bv = load<V>(bias + v * L);
          for (int t = 0; t < P; ++t) acc[t][v] = bv;
        }
        const float* at = a + static_cast<std::int64_t>(tile) * K * P;
        const float* wk = wp;
        for (int k = 0; k < K; ++k, at += P, wk += B) {
          V wv[NV];
          for (int v = 0; v < NV; ++v) wv[v] = load<V>(wk + v * L);
          for (int t = 0; t < P; ++t) {
            const float s = at[t];
            for (int v = 0; v < NV; ++v) acc[t][v] += s * wv[v];  // one FMA (-ffp-contract=fast)
          }
        }
        store_tile<V, NV, P>(j, b, oy, tile * P, std::min(P, ow - tile * P), panel * B, acc);
      }
    }
  }
}

// Channels of L at a time for kDwPixels neighbouring pixels: independent accumulators and SiLUs, so
// the FMA and exp latencies overlap instead of chaining (one pixel at a time ran at a tenth of this).
constexpr int kDwPixels = 8;

template <typename V>
Y26_INLINE V load_part(const float* p, int n) {
  float lane[lanes<V>] = {};
  for (int i = 0; i < n; ++i) lane[i] = p[i];
  return load<V>(lane);
}

template <typename V>
Y26_INLINE void depthwise_rows(const ConvJob& j, std::int64_t begin, std::int64_t end) {
  constexpr int L = lanes<V>, T = kDwPixels;
  const View<const float>& in = *j.in;
  const View<float>& out = *j.out;
  const PackedConv& w = *j.w;
  const int c = w.cout;
  const bool silu = j.p->act == Activation::SiLU;
  const int stride = j.p->stride, pad = j.p->pad;
  for (std::int64_t row = begin; row < end; ++row) {
    const int b = static_cast<int>(row / out.h), oy = static_cast<int>(row % out.h);
    for (int c0 = 0; c0 < c; c0 += L) {
      const int nc = std::min(L, c - c0);
      const V bias = nc == L ? load<V>(w.bias.data() + c0) : load_part<V>(w.bias.data() + c0, nc);
      for (int ox0 = 0; ox0 < out.w; ox0 += T) {
        const int count = std::min(T, out.w - ox0);
        V acc[T];
        const int ix_first = ox0 * stride - pad, ix_last = (ox0 + T - 1) * stride - pad + w.kw - 1;
        if (nc == L && count == T && ix_first >= 0 && ix_last < in.w) {  // inside: no test per tap
          for (int t = 0; t < T; ++t) acc[t] = bias;
          const std::int64_t step = stride * in.pixel_stride;
          for (int ky = 0; ky < w.kh; ++ky) {
            const int iy = oy * stride - pad + ky;
            if (iy < 0 || iy >= in.h) continue;
            const float* src = in.pixel(b, iy, ix_first) + c0;
            const float* wk = w.w.data() + static_cast<std::int64_t>(ky * w.kw) * c + c0;
            for (int kx = 0; kx < w.kw; ++kx, src += in.pixel_stride, wk += c) {
              const V wv = load<V>(wk);
              for (int t = 0; t < T; ++t) acc[t] += load<V>(src + t * step) * wv;
            }
          }
          if (silu) {
            for (int t = 0; t < T; ++t) acc[t] = silu_v(acc[t]);
          }
          for (int t = 0; t < T; ++t) {
            float* o = out.pixel(b, oy, ox0 + t) + c0;
            store(o, j.res ? acc[t] + load<V>(j.res->pixel(b, oy, ox0 + t) + c0) : acc[t]);
          }
          continue;
        }
        for (int t = 0; t < T; ++t) acc[t] = bias;
        for (int ky = 0; ky < w.kh; ++ky) {
          const int iy = oy * stride - pad + ky;
          if (iy < 0 || iy >= in.h) continue;
          for (int kx = 0; kx < w.kw; ++kx) {
            const float* wk = w.w.data() + static_cast<std::int64_t>(ky * w.kw + kx) * c + c0;
            const V wv = nc == L ? load<V>(wk) : load_part<V>(wk, nc);
            for (int t = 0; t < T; ++t) {
              const int ix = (ox0 + t) * stride - pad + kx;
              if (t >= count || ix < 0 || ix >= in.w) continue;
              const float* src = in.pixel(b, iy, ix) + c0;
              acc[t] += (nc == L ? load<V>(src) : load_part<V>(src, nc)) * wv;
            }
          }
        }
        if (silu) {
          for (int t = 0; t < T; ++t) acc[t] = silu_v(acc[t]);
        }
        for (int t = 0; t < count; ++t) {
          float* o = out.pixel(b, oy, ox0 + t) + c0;
          const float* r = j.res ? j.res->pixel(b, oy, ox0 + t) + c0 : nullptr;
          if (nc == L) {
            store(o, r ? acc[t] + load<V>(r) : acc[t]);
          } else {
            float lane[L];
            store(lane, acc[t]);
            for (int i = 0; i < nc; ++i) o[i] = r ? lane[i] + r[i] : lane[i];
          }
        }
      }
    }
  }
}

// Tile widths per ISA (pixels P; panels of NV vectors).
constexpr int kP512 = 12, kP256 = 6, kP128 = 6;

using RowsFn = void (*)(const ConvJob&, std::int64_t, std::int64_t, float*);

Y26_TARGET_AVX512 void dense512_2(const ConvJob& j, std::int64_t b, std::int64_t e, float* a) { dense_rows<F16, 2, kP512>(j, b, e, a); }
Y26_TARGET_AVX512 void dense512_1(const ConvJob& j, std::int64_t b, std::int64_t e, float* a) { dense_rows<F16, 1, kP512>(j, b, e, a); }
Y26_TARGET_AVX512 void dense512_h(const ConvJob& j, std::int64_t b, std::int64_t e, float* a) { dense_rows<F8, 1, kP512>(j, b, e, a); }
Y26_TARGET_AVX512 void dw512(const ConvJob& j, std::int64_t b, std::int64_t e, float*) { depthwise_rows<F16>(j, b, e); }
Y26_TARGET_AVX2 void dense256_2(const ConvJob& j, std::int64_t b, std::int64_t e, float* a) { dense_rows<F8, 2, kP256>(j, b, e, a); }
Y26_TARGET_AVX2 void dense256_1(const ConvJob& j, std::int64_t b, std::int64_t e, float* a) { dense_rows<F8, 1, kP256>(j, b, e, a); }
Y26_TARGET_AVX2 void dw256(const ConvJob& j, std::int64_t b, std::int64_t e, float*) { depthwise_rows<F8>(j, b, e); }
void dense128_2(const ConvJob& j, std::int64_t b, std::int64_t e, float* a) { dense_rows<F4, 2, kP128>(j, b, e, a); }
void dense128_1(const ConvJob& j, std::int64_t b, std::int64_t e, float* a) { dense_rows<F4, 1, kP128>(j, b, e, a); }
void dw128(const ConvJob& j, std::int64_t b, std::int64_t e, float*) { depthwise_rows<F4>(j, b, e); }

// Output channels per panel: two vectors, or one when one covers every output channel (the head's
// narrow layers), or half an AVX-512 vector (8) for 8 channels or fewer.
int block_of(Isa isa, int cout) {
  const int L = lanes_of(isa);
  if (isa == Isa::Avx512 && cout <= 8) return 8;
  return cout <= L ? L : 2 * L;
}
int pixels_of(Isa isa) { return isa == Isa::Avx512 ? kP512 : isa == Isa::Avx2 ? kP256 : kP128; }

}  // namespace

PackedConv pack_conv(const ConvWeights& w, Isa isa) {
  PackedConv pc;
  pc.isa = isa;
  pc.cin = w.cin;
  pc.cout = w.cout;
  pc.kh = w.kh;
  pc.kw = w.kw;
  pc.groups = w.groups;
  const int taps = w.kh * w.kw;
  if (w.groups > 1) {
    pc.w.assign(w.w, w.w + static_cast<std::int64_t>(taps) * w.cout);
    pc.bias.assign(w.bias, w.bias + w.cout);
    return pc;
  }
  pc.block = block_of(isa, w.cout);
  const int B = pc.block, panels = (w.cout + B - 1) / B;
  const std::int64_t K = static_cast<std::int64_t>(taps) * w.cin;
  pc.w.assign(static_cast<size_t>(panels * K * B), 0.0f);
  pc.bias.assign(static_cast<size_t>(panels * B), 0.0f);
  for (int panel = 0; panel < panels; ++panel) {
    for (std::int64_t k = 0; k < K; ++k) {
      for (int jj = 0; jj < B && panel * B + jj < w.cout; ++jj) {
        pc.w[static_cast<size_t>((panel * K + k) * B + jj)] = w.w[k * w.cout + panel * B + jj];
      }
    }
  }
  std::copy_n(w.bias, w.cout, pc.bias.begin());
  return pc;
}

std::int64_t packed_bytes(const ConvWeights& w, Isa isa) {
  const std::int64_t taps = w.kh * w.kw;
  if (w.groups > 1) return (taps + 1) * w.cout * 4;
  const int B = block_of(isa, w.cout), panels = (w.cout + B - 1) / B;
  return static_cast<std::int64_t>(panels) * B * (taps * w.cin + 1) * 4;
}

std::int64_t conv_scratch_floats(const PackedConv& w, int out_w) {
  if (w.groups > 1) return 0;
  const int P = pixels_of(w.isa);
  return static_cast<std::int64_t>((out_w + P - 1) / P) * P * w.kh * w.kw * w.cin;
}

void conv2d(const Context& ctx, const View<const float>& in, const View<float>& out, const PackedConv& w,
            const ConvParams& p, const View<const float>* residual, float* scratch, std::int64_t per_worker) {
  if (per_worker < conv_scratch_floats(w, out.w)) throw std::logic_error("fast conv2d: scratch too small");
  const ConvJob job{&in, &out, &w, &p, residual};
  const bool two = w.block == 2 * lanes_of(w.isa);
  RowsFn fn = nullptr;
  switch (w.isa) {
    case Isa::Avx512: fn = w.groups > 1 ? dw512 : two ? dense512_2 : w.block == 8 ? dense512_h : dense512_1; break;
    case Isa::Avx2: fn = w.groups > 1 ? dw256 : two ? dense256_2 : dense256_1; break;
    case Isa::Baseline: fn = w.groups > 1 ? dw128 : two ? dense128_2 : dense128_1; break;
  }
  ctx.pool->parallel_for(static_cast<std::int64_t>(out.n) * out.h, [&](std::int64_t b, std::int64_t e, unsigned worker) {
    fn(job, b, e, scratch + static_cast<std::int64_t>(worker) * per_worker);
  });
}

}  // namespace y26::kernels::cpu::fast
