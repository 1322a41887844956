// The fast CPU kernels (kernels/cpu/fast) against the reference kernels, on every ISA
// path this CPU can run (AVX-512, AVX2, baseline), on odd strided shapes with batch > 1,
// outputs poisoned with NaN and the channels outside each view checked untouched.
//
// Tolerances, derived. Both sides compute in FP32 from the same inputs; only the order
// of the sums and FMA's single rounding differ. A sum of K products computed in any order
// is within gamma_K * S of the exact value (S = sum of |w x| plus |bias|, gamma_K =
// K u / (1 - K u), u = 2^-24, Higham 3.1), so two orders differ by at most 2 gamma_K S.
// S is computed exactly as it appears: the reference conv run on |x| and |w| (and |bias|).
// SiLU is 1.1-Lipschitz and each side's evaluation adds a few ulp (the vector exp is held
// to 2 ulp on its own below; the division and the 1 + e^-x rounding add 2 more), so
//   |fast - ref| <= 1.1 * 2 gamma_K S + 8 u |ref| (+ the residual's own rounding: u |ref|).
// Pooling and upsampling move values without arithmetic: bit-exact. NaN never passes.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "kernels/cpu/cpu_ops.h"
#include "kernels/cpu/fast/fast_ops.h"

using namespace y26;
using namespace y26::kernels;
namespace fast = y26::kernels::cpu::fast;

namespace {

constexpr double kU = 1.0 / (1 << 24);

// Channels [c0, c0 + c) of an NHWC buffer with c0 + c + extra channels a pixel, like a concat slice.
struct Buf {
  int n, h, w, c, c0, total;
  std::vector<float> data;
  Buf(int n_, int h_, int w_, int c_, int c0_ = 0, int extra = 0)
      : n(n_), h(h_), w(w_), c(c_), c0(c0_), total(c0_ + c_ + extra),
        data(static_cast<size_t>(n_) * h_ * w_ * total, std::numeric_limits<float>::quiet_NaN()) {}
  View<float> view() { return {data.data() + c0, n, h, w, c, total, static_cast<std::int64_t>(h) * w * total}; }
  View<const float> cview() { return view().as_const(); }
  void randomize(std::mt19937& rng, float scale) {
    std::normal_distribution<float> d(0.0f, scale);
    for (auto& v : data) v = d(rng);
  }
  Buf abs() const {
    Buf b = *this;
    for (auto& v : b.data) v = std::abs(v);
    return b;
  }
  bool inside(size_t i) const {
    const int ch = static_cast<int>(i % static_cast<size_t>(total));
    return ch >= c0 && ch < c0 + c;
  }
};

std::vector<fast::Isa> isas_here() {
  std::vector<fast::Isa> out{fast::Isa::Baseline};
  if (fast::detect_isa() != fast::Isa::Baseline) out.push_back(fast::Isa::Avx2);
  if (fast::detect_isa() == fast::Isa::Avx512) out.push_back(fast::Isa::Avx512);
  return out;
}

// Outputs against the reference, element by element: inside the view, how many miss their bound and
// the worst |got - ref| / bound; outside it, how many were touched (no longer the NaN poison).
struct Tally {
  size_t bad = 0, touched = 0;
  double worst = 0;
};
template <typename Bound>
Tally tally(const Buf& got, const Buf& ref, Bound&& bound) {
  Tally t;
  for (size_t i = 0; i < got.data.size(); ++i) {
    if (!got.inside(i)) {
      t.touched += !std::isnan(got.data[i]);
      continue;
    }
    const double diff = std::abs(static_cast<double>(got.data[i]) - ref.data[i]), tol = bound(i);
    if (!(diff <= tol)) ++t.bad;
    if (std::isfinite(diff)) t.worst = std::max(t.worst, diff / tol);
  }
  return t;
}

struct ConvCase {
  int n, h, w, cin, cout, k, stride;
  bool depthwise, silu, residual;
  bool dense_in = false;  // the input a whole buffer (pixel stride = channels): kernel rows read as one run
};

}  // namespace

TEST_CASE("the fast kernels' vector exp and SiLU are within 2 ulp of std::exp", "[cpu-fast]") {
  std::vector<float> x;
  for (float v = -87.0f; v <= 88.5f; v += 0.0137f) x.push_back(v);
  for (float v : {0.0f, -0.0f, 1e-30f, -1e-30f, 0.5f, -0.5f, 88.7f, -87.3f}) x.push_back(v);
  std::vector<float> e(x.size()), s(x.size());
  fast::exp_n(x.data(), e.data(), static_cast<int>(x.size()));
  fast::silu_n(x.data(), s.data(), static_cast<int>(x.size()));
  double worst_exp = 0, worst_silu = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    const double want = std::exp(static_cast<double>(x[i]));
    worst_exp = std::max(worst_exp, std::abs(e[i] - want) / want);
    const double sw = x[i] / (1.0 + std::exp(-static_cast<double>(x[i])));
    if (sw != 0) worst_silu = std::max(worst_silu, std::abs(s[i] - sw) / std::abs(sw));
  }
  INFO("worst relative error: exp " << worst_exp << ", silu " << worst_silu << " (u = " << kU << ")");
  CHECK(worst_exp <= 2 * 2 * kU);   // 2 ulp (an ulp is up to 2u relative)
  CHECK(worst_silu <= 4 * 2 * kU);  // + the 1 + e and the division
  // Saturation: exp of large arguments is finite, SiLU of very negative ones is -0..0, of large ones x.
  float big[3] = {200.0f, -200.0f, 50.0f}, out[3];
  fast::silu_n(big, out, 3);
  CHECK(out[0] == 200.0f);
  CHECK(std::abs(out[1]) < 1e-30f);
  CHECK(out[2] == Approx(50.0f).epsilon(1e-7));
}

TEST_CASE("fast conv2d matches the reference within FP32 summation-order bounds on every ISA", "[cpu-fast]") {
  const ConvCase cases[] = {
      {1, 17, 23, 3, 16, 3, 2, false, true, false},    // the stem: 3 input channels
      {3, 9, 7, 20, 40, 3, 1, false, true, true},      // odd sizes, residual, batch 3
      {2, 13, 11, 37, 69, 1, 1, false, false, false},  // cin, cout multiples of nothing
      {2, 10, 14, 64, 128, 3, 2, false, true, false},  // several panels
      {1, 5, 5, 160, 20, 1, 1, false, true, true},     // long K, narrow output
      {1, 6, 31, 16, 8, 3, 1, false, true, false},     // 8 output channels (half-vector panels)
      {2, 4, 5, 7, 3, 3, 1, false, false, false},      // 3 output channels: one partial panel
      {1, 26, 29, 8, 16, 3, 1, false, true, true},     // wide rows: interior and edge tiles
      {2, 11, 9, 24, 24, 3, 1, true, true, false},     // depthwise
      {1, 8, 13, 80, 80, 3, 1, true, true, true},      // depthwise, 80 channels (5 vectors), residual
      {1, 7, 10, 19, 19, 5, 2, true, false, false},    // depthwise 5x5 stride 2, channels with a tail
      {1, 17, 23, 3, 16, 3, 2, false, true, false, true},  // the stem on a whole buffer (taps of a row as one run)
      {2, 2, 2, 24, 40, 1, 1, false, true, true},         // pointwise, images smaller than a tile
      {2, 7, 9, 33, 48, 1, 1, false, true, true, true},   // pointwise, 63 pixels: the last tile moved back
      {1, 10, 30, 16, 32, 1, 2, false, true, false},      // 1x1 stride 2 (by rows)
      {1, 9, 27, 6, 16, 5, 1, false, true, true},         // 5x5 pad 2: three edge tiles in a row
      {2, 6, 29, 12, 16, 3, 2, false, true, false, true}, // stride 2, the last tile moved back, direct
  };
  std::mt19937 rng(26);
  cpu::ThreadPool pool(3);
  const cpu::Context ctx{&pool, false};
  for (const ConvCase& cc : cases) {
    const int pad = cc.k / 2;
    const int oh = (cc.h + 2 * pad - cc.k) / cc.stride + 1, ow = (cc.w + 2 * pad - cc.k) / cc.stride + 1;
    Buf in(cc.n, cc.h, cc.w, cc.cin, cc.dense_in ? 0 : 2, cc.dense_in ? 0 : 3);
    in.randomize(rng, 1.0f);
    const int taps = cc.k * cc.k, groups = cc.depthwise ? cc.cin : 1;
    std::vector<float> wts(static_cast<size_t>(taps) * (cc.depthwise ? cc.cout : cc.cin * cc.cout)), bias(static_cast<size_t>(cc.cout));
    std::normal_distribution<float> d(0.0f, 1.0f / std::sqrt(static_cast<float>(cc.depthwise ? taps : taps * cc.cin)));
    for (auto& v : wts) v = d(rng);
    for (auto& v : bias) v = d(rng);
    const ConvWeights w{wts.data(), bias.data(), cc.cin, cc.cout, cc.k, cc.k, groups};
    std::vector<float> wabs(wts), babs(bias);
    for (auto& v : wabs) v = std::abs(v);
    for (auto& v : babs) v = std::abs(v);
    const ConvWeights wa{wabs.data(), babs.data(), cc.cin, cc.cout, cc.k, cc.k, groups};
    Buf res(cc.n, oh, ow, cc.cout, 1, 2);
    res.randomize(rng, 1.0f);
    const View<const float> rv = res.cview();
    const ConvParams p{cc.stride, pad, cc.silu ? Activation::SiLU : Activation::None};
    Buf ref(cc.n, oh, ow, cc.cout, 3, 1), mag(cc.n, oh, ow, cc.cout, 3, 1);
    cpu::conv2d(ctx, in.cview(), ref.view(), w, p, cc.residual ? &rv : nullptr);
    Buf in_abs = in.abs();
    cpu::conv2d(ctx, in_abs.cview(), mag.view(), wa, {cc.stride, pad, Activation::None}, nullptr);  // S per output
    const double gamma = cc.depthwise ? taps * kU : taps * cc.cin * kU;
    for (const fast::Isa isa : isas_here()) {
      const std::string what = std::string(fast::isa_name(isa)) + " " + std::to_string(cc.k) + "x" + std::to_string(cc.k) +
                               "/" + std::to_string(cc.stride) + " " + std::to_string(cc.cin) + "->" + std::to_string(cc.cout) +
                               (cc.depthwise ? " depthwise" : "");
      INFO(what);
      const fast::PackedConv pc = fast::pack_conv(w, isa);
      CHECK(pc.bytes() == fast::packed_bytes(w, isa));
      const std::int64_t per_worker = fast::conv_scratch_floats(pc);
      std::vector<float> scratch(static_cast<size_t>(per_worker) * pool.size() + 1);
      Buf got(cc.n, oh, ow, cc.cout, 3, 1);
      fast::conv2d(ctx, in.cview(), got.view(), pc, p, cc.residual ? &rv : nullptr, scratch.data(), per_worker);
      const Tally t = tally(got, ref, [&](size_t i) {
        return 1.1 * 2 * gamma / (1 - gamma) * mag.data[i] + 9 * kU * std::abs(static_cast<double>(ref.data[i])) + 1e-30;
      });
      INFO("worst |fast - ref| / bound = " << t.worst);
      CHECK(t.bad == 0);
      CHECK(t.touched == 0);
    }
  }
}

TEST_CASE("fast attention matches the reference within its derived bound on every ISA", "[cpu-fast]") {
  // Scores s = sum_d q k: two orders differ by at most 2 gamma_kd max|q||k| sums (dS). A softmax weight
  // e^(s - max) / sum moves by at most a factor e^(2 dS) (1 + a few u for exp and the sums over N
  // keys, gamma_N), so the output, a convex combination of values, moves by at most
  // (4 dS + 2 gamma_N + 8 u) max|v|.
  struct AttnCase {
    int n, h, w, heads, key_dim, head_dim;
  };
  const AttnCase cases[] = {{2, 5, 7, 2, 8, 16}, {1, 4, 4, 1, 32, 64}, {1, 3, 11, 3, 5, 13}};
  std::mt19937 rng(7);
  cpu::ThreadPool pool(2);
  const cpu::Context ctx{&pool, false};
  for (const AttnCase& ac : cases) {
    Buf q(ac.n, ac.h, ac.w, ac.heads * ac.key_dim, 1, 2), k(ac.n, ac.h, ac.w, ac.heads * ac.key_dim, 0, 1),
        v(ac.n, ac.h, ac.w, ac.heads * ac.head_dim, 2, 0);
    q.randomize(rng, 1.0f);
    k.randomize(rng, 1.0f);
    v.randomize(rng, 1.0f);
    const AttentionParams p{ac.heads, ac.key_dim, ac.head_dim, 1.0f / std::sqrt(static_cast<float>(ac.key_dim))};
    Buf ref(ac.n, ac.h, ac.w, ac.heads * ac.head_dim, 1, 1);
    cpu::attention(ctx, q.cview(), k.cview(), v.cview(), ref.view(), p);
    double qk = 0, vmax = 0;  // max over pairs of sum_d |q k| scale, and max |v|
    const int tokens = ac.h * ac.w;
    const auto qv = q.cview(), kv = k.cview();
    for (int b = 0; b < ac.n; ++b)
      for (int hh = 0; hh < ac.heads; ++hh)
        for (int i = 0; i < tokens; ++i)
          for (int j = 0; j < tokens; ++j) {
            double s = 0;
            for (int dd = 0; dd < ac.key_dim; ++dd)
              s += std::abs(qv.pixel(b, i / ac.w, i % ac.w)[hh * ac.key_dim + dd] * p.scale * kv.pixel(b, j / ac.w, j % ac.w)[hh * ac.key_dim + dd]);
            qk = std::max(qk, s);
          }
    for (size_t i = 0; i < v.data.size(); ++i)
      if (v.inside(i)) vmax = std::max(vmax, static_cast<double>(std::abs(v.data[i])));
    const double ds = 2 * (ac.key_dim + 1) * kU * qk;
    const double tol = (4 * ds + 2 * tokens * kU + 8 * kU) * vmax;
    for (const fast::Isa isa : isas_here()) {
      INFO(fast::isa_name(isa) << " attention " << ac.heads << " heads, " << tokens << " tokens");
      const std::int64_t per_worker = fast::attention_scratch_floats(p, tokens);
      std::vector<float> scratch(static_cast<size_t>(per_worker) * pool.size());
      Buf got(ac.n, ac.h, ac.w, ac.heads * ac.head_dim, 1, 1);
      fast::attention(ctx, q.cview(), k.cview(), v.cview(), got.view(), p, scratch.data(), per_worker, isa);
      const Tally t = tally(got, ref, [&](size_t) { return tol; });
      INFO("worst |fast - ref| / bound = " << t.worst << " (bound " << tol << ")");
      CHECK(t.bad == 0);
      CHECK(t.touched == 0);
    }
  }
}

TEST_CASE("fast max pooling and upsampling equal the reference bit for bit", "[cpu-fast]") {
  std::mt19937 rng(3);
  cpu::ThreadPool pool(2);
  const cpu::Context ctx{&pool, false};
  for (int c : {5, 16, 37}) {
    INFO(c << " channels");
    Buf in(2, 9, 13, c, 1, 2);
    in.randomize(rng, 1.0f);
    Buf ref(2, 9, 13, c, 0, 3), got(2, 9, 13, c, 0, 3);
    cpu::max_pool2d(ctx, in.cview(), ref.view(), {5, 1, 2});
    fast::max_pool2d(ctx, in.cview(), got.view(), {5, 1, 2});
    CHECK(std::memcmp(ref.data.data(), got.data.data(), ref.data.size() * 4) == 0);  // poison included
    Buf uref(2, 18, 26, c, 2, 0), ugot(2, 18, 26, c, 2, 0);
    cpu::upsample_nearest2x(ctx, in.cview(), uref.view());
    fast::upsample_nearest2x(ctx, in.cview(), ugot.view());
    CHECK(std::memcmp(uref.data.data(), ugot.data.data(), uref.data.size() * 4) == 0);
  }
}
