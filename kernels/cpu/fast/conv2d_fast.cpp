// Fast convolutions, NHWC, on strided views (concat slices in and out, as the reference).
//
// Dense: a tile of P output pixels of one row times a panel of B output channels is held in
// P x B accumulators over all of K = (ky, kx, ci); each step loads B weights (packed once per
// panel, w[k][B]) and broadcasts one input per pixel straight from the NHWC view: pixel t's
// input for tap (ky, kx) lies t * stride * pixel_stride floats after pixel 0's, so no input is
// ever copied (packing them cost as much as the FMAs in the layers with few output channels).
// Tiles whose taps reach into the padding read through per-pixel pointers, a row of zeros
// standing in for the padding; kernel rows above or below the image are skipped. A row's last
// tile is moved back to end at the row's end (full, so it reads directly; it stores only its own
// pixels), and the tile width is the one of 12/10/8 (AVX-512) or 6/5/4 (AVX2, SSE) that computes
// the fewest pixels past the end. 1x1 stride-1 convs tile the flattened image instead of rows.
// AVX-512: B = 32 (24 of 32 zmm registers at P = 12); AVX2: B = 16; SSE: B = 8; panels of one
// vector (or 8 channels on AVX-512) for layers with few output channels (the head), so as little
// of a panel as possible is zero padding. Bias, SiLU (vector exp) and the residual are applied as
// the accumulators are stored.
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

// acc[t] += sum over k < n of x_t[k] * w[k] for P pixels whose inputs lie `step` floats apart
// (x_t = src + t * step): straight from the NHWC activations, each input a broadcast load, no
// packing. Where a layer has few output channels the packing of its inputs cost as much as
// the FMAs themselves (a copy per input per pixel against NV FMAs per input per pixel).
template <typename V, int NV, int P>
Y26_INLINE void sum_direct(const float* src, std::int64_t step, const float* wk, int n, V (&acc)[P][NV]) {
  constexpr int L = lanes<V>, B = NV * L;
  for (int k = 0; k < n; ++k, ++src, wk += B) {
    V wv[NV];
    for (int v = 0; v < NV; ++v) wv[v] = load<V>(wk + v * L);
    for (int t = 0; t < P; ++t) {
      const float s = src[t * step];
      for (int v = 0; v < NV; ++v) acc[t][v] += s * wv[v];  // one FMA (-ffp-contract=fast)
    }
  }
}

// The same sum for P pixels anywhere (src[t]; a row of zeros for a pixel in the padding or past
// the end): the edge tiles, read without packing them.
template <typename V, int NV, int P>
Y26_INLINE void sum_gather(const float* const (&src)[P], const float* wk, int n, V (&acc)[P][NV]) {
  constexpr int L = lanes<V>, B = NV * L;
  for (int k = 0; k < n; ++k, wk += B) {
    V wv[NV];
    for (int v = 0; v < NV; ++v) wv[v] = load<V>(wk + v * L);
    for (int t = 0; t < P; ++t) {
      const float s = src[t][k];
      for (int v = 0; v < NV; ++v) acc[t][v] += s * wv[v];
    }
  }
}

template <typename V, int NV, int P>
Y26_INLINE void init_acc(const float* bias, V (&acc)[P][NV]) {
  constexpr int L = lanes<V>;
  for (int v = 0; v < NV; ++v) {
    const V bv = load<V>(bias + v * L);
    for (int t = 0; t < P; ++t) acc[t][v] = bv;
  }
}

// Stores pixels [first, count) of a tile, channels c0.. of a panel of NV vectors: o and r point at
// pixel 0's channel c0 of the output and the residual (r may be null), ostep/rstep floats apart.
template <typename V, int NV, int P>
Y26_INLINE void store_tile(float* o, std::int64_t ostep, const float* r, std::int64_t rstep, int first, int count,
                           int channels, bool silu, V (&acc)[P][NV]) {
  constexpr int L = lanes<V>;
  for (int t = 0; t < P; ++t) {
    if (t >= count) break;
    if (t < first) continue;
    float* ot = o + t * ostep;
    const float* rt = r ? r + t * rstep : nullptr;
    for (int v = 0; v < NV; ++v) {
      V x = acc[t][v];
      if (silu) x = silu_v(x);
      const int ch = v * L;
      if (ch + L <= channels) {
        if (rt) x += load<V>(rt + ch);
        store(ot + ch, x);
      } else {
        float lane[L];
        store(lane, x);
        for (int i = 0; i < L && ch + i < channels; ++i) ot[ch + i] = rt ? lane[i] + rt[ch + i] : lane[i];
      }
    }
  }
}

// Where a row's tiles start: P apart, the last one moved back to end at the row's end (it recomputes
// a few pixels of its neighbour and stores only its own) so that it is full and reads directly; a
// row narrower than P has one partial tile.
struct RowTiles {
  int count, last_start, last_first;
};
RowTiles row_tiles(int w, int P) {
  const int full = w / P;
  if (w % P == 0) return {full, (full - 1) * P, 0};
  if (w < P) return {1, 0, 0};
  return {full + 1, w - P, full * P - (w - P)};
}

// A tile reads with one stride when every input pixel of every tap lies inside the row.
bool tile_inside(const ConvJob& j, int ox0, int P) {
  const int ix_first = ox0 * j.p->stride - j.p->pad, ix_last = (ox0 + P - 1) * j.p->stride - j.p->pad + j.w->kw - 1;
  return ox0 + P <= j.out->w && ix_first >= 0 && ix_last < j.in->w;
}

// Dense k x k (or strided, or padded) convolution, a unit of work per output row: each panel of B
// output channels sweeps the row's tiles with P x B accumulators in registers over all of K,
// skipping the kernel rows that fall outside the image. `zeros` holds cin zeros (the padding).
template <typename V, int NV, int P>
Y26_INLINE void dense_rows(const ConvJob& j, std::int64_t begin, std::int64_t end, const float* zeros) {
  constexpr int L = lanes<V>, B = NV * L;
  const View<const float>& in = *j.in;
  const PackedConv& w = *j.w;
  const int cin = w.cin, K = w.kh * w.kw * cin, oh = j.out->h, ow = j.out->w;
  const int panels = (w.cout + B - 1) / B, stride = j.p->stride, pad = j.p->pad;
  const bool silu = j.p->act == Activation::SiLU;
  const RowTiles rt = row_tiles(ow, P);
  const std::int64_t step = stride * in.pixel_stride;
  // Taps of one kernel row are one run of kw * cin inputs when the input's pixels are dense.
  const bool merge_kx = in.pixel_stride == cin;
  for (std::int64_t row = begin; row < end; ++row) {
    const int b = static_cast<int>(row / oh), oy = static_cast<int>(row % oh);
    int ky_first = 0, ky_end = w.kh;  // the kernel rows inside the image
    while (ky_first < w.kh && oy * stride - pad + ky_first < 0) ++ky_first;
    while (ky_end > ky_first && oy * stride - pad + ky_end - 1 >= in.h) --ky_end;
    for (int panel = 0; panel < panels; ++panel) {
      const float* wp = w.w.data() + static_cast<std::int64_t>(panel) * K * B;
      const int c0 = panel * B;
      for (int tile = 0; tile < rt.count; ++tile) {
        const bool last = tile + 1 == rt.count;
        const int ox0 = last ? rt.last_start : tile * P, first = last ? rt.last_first : 0;
        V acc[P][NV];
        init_acc<V, NV, P>(w.bias.data() + c0, acc);
        const bool inside = tile_inside(j, ox0, P);
        for (int ky = ky_first; ky < ky_end; ++ky) {
          const int iy = oy * stride - pad + ky;
          const float* wk = wp + static_cast<std::int64_t>(ky * w.kw) * cin * B;
          if (inside && merge_kx) {
            sum_direct<V, NV, P>(in.pixel(b, iy, ox0 * stride - pad), step, wk, w.kw * cin, acc);
            continue;
          }
          for (int kx = 0; kx < w.kw; ++kx, wk += static_cast<std::int64_t>(cin) * B) {
            const int ix0 = ox0 * stride - pad + kx;
            if (inside) {
              sum_direct<V, NV, P>(in.pixel(b, iy, ix0), step, wk, cin, acc);
              continue;
            }
            const float* src[P];
            for (int t = 0; t < P; ++t) {
              const int ix = ix0 + t * stride;
              src[t] = ox0 + t < ow && ix >= 0 && ix < in.w ? in.pixel(b, iy, ix) : zeros;
            }
            sum_gather<V, NV, P>(src, wk, cin, acc);
          }
        }
        const int count = std::min(P, ow - ox0);
        store_tile<V, NV, P>(j.out->pixel(b, oy, ox0) + c0, j.out->pixel_stride,
                             j.res ? j.res->pixel(b, oy, ox0) + c0 : nullptr, j.res ? j.res->pixel_stride : 0, first, count,
                             std::min(B, w.cout - c0), silu, acc);
      }
    }
  }
}

// 1x1 convolution with stride 1: an image's pixels are one run pixel_stride apart whatever the
// row, so tiles run over the flattened image (only its last tile can be short), a unit of work
// being kPointTiles tiles; each panel sweeps the unit's tiles.
constexpr int kPointTiles = 8;

std::int64_t point_units(int pixels, int P) {
  const int tiles = (pixels + P - 1) / P;
  return (tiles + kPointTiles - 1) / kPointTiles;
}

template <typename V, int NV, int P>
Y26_INLINE void pointwise_units(const ConvJob& j, std::int64_t begin, std::int64_t end, const float* zeros) {
  constexpr int L = lanes<V>, B = NV * L;
  const View<const float>& in = *j.in;
  const View<float>& out = *j.out;
  const PackedConv& w = *j.w;
  const int cin = w.cin, panels = (w.cout + B - 1) / B, pixels = out.h * out.w;
  const bool silu = j.p->act == Activation::SiLU;
  const std::int64_t per_image = point_units(pixels, P);
  const int tiles = (pixels + P - 1) / P;
  // A short last tile moves back to end at the image's end; in an image of fewer than P pixels
  // the missing ones read zeros.
  const bool short_tail = pixels % P != 0, tiny = pixels < P;
  for (std::int64_t unit = begin; unit < end; ++unit) {
    const int b = static_cast<int>(unit / per_image);
    const int tile0 = static_cast<int>(unit % per_image) * kPointTiles, tile_end = std::min(tiles, tile0 + kPointTiles);
    const float* in0 = in.data + b * in.image_stride;
    for (int panel = 0; panel < panels; ++panel) {
      const float* wp = w.w.data() + static_cast<std::int64_t>(panel) * cin * B;
      const int c0 = panel * B;
      for (int tile = tile0; tile < tile_end; ++tile) {
        const bool last = tile + 1 == tiles && short_tail;
        const int p0 = last && !tiny ? pixels - P : tile * P, first = last && !tiny ? tile * P - p0 : 0;
        V acc[P][NV];
        init_acc<V, NV, P>(w.bias.data() + c0, acc);
        if (tiny) {
          const float* src[P];
          for (int t = 0; t < P; ++t) src[t] = t < pixels ? in0 + t * in.pixel_stride : zeros;
          sum_gather<V, NV, P>(src, wp, cin, acc);
        } else {
          sum_direct<V, NV, P>(in0 + p0 * in.pixel_stride, in.pixel_stride, wp, cin, acc);
        }
        store_tile<V, NV, P>(out.data + b * out.image_stride + p0 * out.pixel_stride + c0, out.pixel_stride,
                             j.res ? j.res->data + b * j.res->image_stride + p0 * j.res->pixel_stride + c0 : nullptr,
                             j.res ? j.res->pixel_stride : 0, first, std::min(P, pixels - p0), std::min(B, w.cout - c0),
                             silu, acc);
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

// Tile widths per ISA, in pixels: a row's tile is the width of these that computes the fewest
// pixels past the row's end (the 640 model's rows, 320 .. 20 wide, take 10 on AVX-512: 12 would
// recompute 20% of the 40- and 20-wide ones); a pointwise conv's tiles run over whole images and
// take the widest. AVX-512: up to 12 x 2 accumulators + 2 weights of 32 zmm; AVX2 and SSE: 6 x 2
// + 2 of 16.
constexpr int kPixels512[3] = {12, 10, 8}, kPixels256[3] = {6, 5, 4};

using RowsFn = void (*)(const ConvJob&, std::int64_t, std::int64_t, const float*);

// Each ISA's instantiations: rows[tile width][panel kind] and point[panel kind], panel kinds being
// 0 = two vectors, 1 = one, 2 = half an AVX-512 vector (8 channels).
#define Y26_ROWS(TARGET, NAME, V, NV, P) \
  TARGET void NAME(const ConvJob& j, std::int64_t b, std::int64_t e, const float* z) { dense_rows<V, NV, P>(j, b, e, z); }
#define Y26_POINT(TARGET, NAME, V, NV, P) \
  TARGET void NAME(const ConvJob& j, std::int64_t b, std::int64_t e, const float* z) { pointwise_units<V, NV, P>(j, b, e, z); }
#define Y26_DENSE_FNS(TARGET, NAME, V, VH, PX)                                                                       \
  Y26_ROWS(TARGET, NAME##_r02, V, 2, PX[0]) Y26_ROWS(TARGET, NAME##_r01, V, 1, PX[0]) Y26_ROWS(TARGET, NAME##_r0h, VH, 1, PX[0]) \
  Y26_ROWS(TARGET, NAME##_r12, V, 2, PX[1]) Y26_ROWS(TARGET, NAME##_r11, V, 1, PX[1]) Y26_ROWS(TARGET, NAME##_r1h, VH, 1, PX[1]) \
  Y26_ROWS(TARGET, NAME##_r22, V, 2, PX[2]) Y26_ROWS(TARGET, NAME##_r21, V, 1, PX[2]) Y26_ROWS(TARGET, NAME##_r2h, VH, 1, PX[2]) \
  Y26_POINT(TARGET, NAME##_p2, V, 2, PX[0]) Y26_POINT(TARGET, NAME##_p1, V, 1, PX[0]) Y26_POINT(TARGET, NAME##_ph, VH, 1, PX[0]) \
  constexpr RowsFn NAME##_rows[3][3] = {                                                                              \
      {NAME##_r02, NAME##_r01, NAME##_r0h}, {NAME##_r12, NAME##_r11, NAME##_r1h}, {NAME##_r22, NAME##_r21, NAME##_r2h}}; \
  constexpr RowsFn NAME##_point[3] = {NAME##_p2, NAME##_p1, NAME##_ph};

Y26_DENSE_FNS(Y26_TARGET_AVX512, d512, F16, F8, kPixels512)
Y26_DENSE_FNS(Y26_TARGET_AVX2, d256, F8, F8, kPixels256)
Y26_DENSE_FNS(, d128, F4, F4, kPixels256)
#undef Y26_DENSE_FNS
#undef Y26_POINT
#undef Y26_ROWS

Y26_TARGET_AVX512 void dw512(const ConvJob& j, std::int64_t b, std::int64_t e, const float*) { depthwise_rows<F16>(j, b, e); }
Y26_TARGET_AVX2 void dw256(const ConvJob& j, std::int64_t b, std::int64_t e, const float*) { depthwise_rows<F8>(j, b, e); }
void dw128(const ConvJob& j, std::int64_t b, std::int64_t e, const float*) { depthwise_rows<F4>(j, b, e); }

const int* pixel_choices(Isa isa) { return isa == Isa::Avx512 ? kPixels512 : kPixels256; }

// Which of the ISA's tile widths a row of out_w pixels takes (index into pixel_choices).
int row_choice(Isa isa, int out_w) {
  const int* px = pixel_choices(isa);
  int best = 0;
  for (int c = 1; c < 3; ++c) {
    const auto computed = [&](int P) { return (out_w + P - 1) / P * P; };
    if (computed(px[c]) < computed(px[best])) best = c;
  }
  return best;
}

// Output channels per panel: two vectors, or one when one covers every output channel (the head's
// narrow layers), or half an AVX-512 vector (8) for 8 channels or fewer.
int block_of(Isa isa, int cout) {
  const int L = lanes_of(isa);
  if (isa == Isa::Avx512 && cout <= 8) return 8;
  return cout <= L ? L : 2 * L;
}
bool pointwise(const PackedConv& w, const ConvParams& p) { return w.kh == 1 && w.kw == 1 && p.stride == 1 && p.pad == 0; }

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

std::int64_t conv_scratch_floats(const PackedConv& w) {
  return w.groups > 1 ? 0 : w.cin;  // a pixel of zeros: what the padding reads
}

void conv2d(const Context& ctx, const View<const float>& in, const View<float>& out, const PackedConv& w,
            const ConvParams& p, const View<const float>* residual, float* scratch, std::int64_t per_worker) {
  if (per_worker < conv_scratch_floats(w)) throw std::logic_error("fast conv2d: scratch too small");
  const ConvJob job{&in, &out, &w, &p, residual};
  const int kind = w.block == 2 * lanes_of(w.isa) ? 0 : w.block == lanes_of(w.isa) ? 1 : 2;
  const bool point = pointwise(w, p);
  const int choice = row_choice(w.isa, out.w);
  RowsFn fn = nullptr;
  switch (w.isa) {
    case Isa::Avx512: fn = w.groups > 1 ? dw512 : point ? d512_point[kind] : d512_rows[choice][kind]; break;
    case Isa::Avx2: fn = w.groups > 1 ? dw256 : point ? d256_point[kind] : d256_rows[choice][kind]; break;
    case Isa::Baseline: fn = w.groups > 1 ? dw128 : point ? d128_point[kind] : d128_rows[choice][kind]; break;
  }
  std::fill_n(scratch, conv_scratch_floats(w), 0.0f);
  const std::int64_t units = w.groups == 1 && point ? out.n * point_units(out.h * out.w, pixel_choices(w.isa)[0])
                                                    : static_cast<std::int64_t>(out.n) * out.h;
  ctx.pool->parallel_for(units, [&](std::int64_t b, std::int64_t e, unsigned) { fn(job, b, e, scratch); });
}

}  // namespace y26::kernels::cpu::fast
