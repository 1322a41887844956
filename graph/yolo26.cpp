// graph::build_yolo26: one helper per Ultralytics block, named by the
// checkpoint's state-dict prefix, so this file reads like yolo26.yaml.
#include "graph/yolo26.h"

#include "graph/task.h"

#include <cmath>
#include <functional>

#include "y26/y26.h"

namespace y26::graph {
namespace {

using kernels::Activation;

constexpr double kDefaultBnEps = 1e-3;  // Ultralytics' BatchNorm eps, used when the file does not say

class Builder {
 public:
  Builder(const WeightMap& w, const BuildOptions& o) : w_(w), opt_(o) {}
  Graph build();

 private:
  [[noreturn]] void fail(const std::string& what) const { throw Error(w_.source + ": " + what); }
  bool has(const std::string& name) const { return w_.find(name) != nullptr; }
  int out_channels(const std::string& conv_prefix) const {
    return static_cast<int>(w_.at(conv_prefix + ".conv.weight").shape.at(0));
  }
  Slice temp(const std::string& name, int h, int w, int c) { return g_.whole(g_.add_buffer(name, h, w, c)); }

  // Ultralytics Conv (conv + BatchNorm [+ SiLU]) or a plain nn.Conv2d with bias, folded into one node.
  void conv(const std::string& prefix, const Slice& in, const Slice& out, int stride, Activation act,
            std::optional<Slice> residual = std::nullopt, const std::vector<int>& out_perm = {}, int layer = -1);
  int fold_weights(const std::string& prefix, int cin, const std::vector<int>& out_perm);

  void bottleneck(const std::string& p, const Slice& in, const Slice& out);
  void c3k(const std::string& p, const Slice& in, const Slice& out);
  void psa_block(const std::string& p, const Slice& in, const Slice& out);
  void c3k2(int layer, const Slice& in, const Slice& out);
  void sppf(int layer, const Slice& in, const Slice& out);
  void c2psa(int layer, const Slice& in, const Slice& out);
  void upsample(int layer, const Slice& in, const Slice& out);
  void detect(int layer, const std::vector<Slice>& levels);
  void extra_branch(const std::string& p, const std::string& final_conv, const Slice& x, const Slice& out);
  void classify(int layer, const Slice& x);
  void proto26(int layer, const std::vector<Slice>& levels);
  void conv_transpose2x2(const std::string& prefix, const Slice& in, const Slice& out);
  void upsample_add(const std::string& name, const Slice& in, const Slice& out, const std::optional<Slice>& add);
  Task supported_task() const;
  // the layer-by-layer build: the output channels of a layer, a buffer of its own, one layer's ops
  int channels_of(int layer) const;
  Slice own(int layer, int h, int w);
  void step(int layer, const Slice& s, const std::function<void()>& emit);
  void begin(int layers);
  void backbone(const Slice& l4, const Slice& l6);
  Graph build_classifier();

  const WeightMap& w_;
  BuildOptions opt_;
  Graph g_;
  int layer_ = -1;  // the layer being built, recorded on its nodes
  std::vector<Slice> out_;  // each layer's output, as built
};

int Builder::fold_weights(const std::string& prefix, int cin, const std::vector<int>& out_perm) {
  const bool plain = !has(prefix + ".conv.weight");
  const std::string wname = plain ? prefix + ".weight" : prefix + ".conv.weight";
  const Tensor& wt = w_.at(wname);
  // a plain nn.Linear (Classify's) is a 1x1 convolution of a 1x1 image: its (out, in) weight, taps 1x1
  const bool linear = plain && wt.shape.size() == 2;
  if (wt.shape.size() != 4 && !linear)
    fail("tensor '" + wname + "' has shape " + wt.shape_string() + ", expected 4 dimensions");
  const int cout = static_cast<int>(wt.shape[0]), cin_g = static_cast<int>(wt.shape[1]);
  const int kh = linear ? 1 : static_cast<int>(wt.shape[2]), kw = linear ? 1 : static_cast<int>(wt.shape[3]);
  if (cin_g <= 0 || cin % cin_g != 0) {
    fail("tensor '" + wname + "' has " + std::to_string(cin_g) + " input channels per group, but its input has " +
         std::to_string(cin));
  }
  const int groups = cin / cin_g;
  if (groups != 1 && !(groups == cin && cout == cin)) {
    fail("tensor '" + wname + "': grouped convolutions other than depthwise are not supported");
  }
  std::vector<float> scale(static_cast<size_t>(cout), 1.0f), shift(static_cast<size_t>(cout), 0.0f);
  if (plain) {
    if (has(prefix + ".bias")) shift = w_.expect(prefix + ".bias", {cout}).to_float();
  } else {
    // BatchNorm folded in double: y = gamma * (x - mean) / sqrt(var + eps) + beta
    const std::string bn = prefix + ".bn";
    const auto gamma = w_.expect(bn + ".weight", {cout}).to_float();
    const auto beta = w_.expect(bn + ".bias", {cout}).to_float();
    const auto mean = w_.expect(bn + ".running_mean", {cout}).to_float();
    const auto var = w_.expect(bn + ".running_var", {cout}).to_float();
    auto it = w_.meta.bn_eps.find(bn);
    const double eps = it != w_.meta.bn_eps.end() ? it->second : kDefaultBnEps;
    for (int co = 0; co < cout; ++co) {
      const double s = gamma[co] / std::sqrt(static_cast<double>(var[co]) + eps);
      scale[co] = static_cast<float>(s);
      shift[co] = static_cast<float>(beta[co] - mean[co] * s);
    }
  }
  const auto src = wt.to_float();
  ConvWeights cw;
  cw.name = prefix;
  cw.cin = cin;
  cw.cout = cout;
  cw.kh = kh;
  cw.kw = kw;
  cw.groups = groups;
  cw.w.resize(src.size());
  cw.bias.resize(static_cast<size_t>(cout));
  for (int co = 0; co < cout; ++co) {
    const int dco = out_perm.empty() ? co : out_perm[static_cast<size_t>(co)];
    cw.bias[static_cast<size_t>(dco)] = shift[static_cast<size_t>(co)];
    for (int ci = 0; ci < cin_g; ++ci) {
      for (int ky = 0; ky < kh; ++ky) {
        for (int kx = 0; kx < kw; ++kx) {
          const float v = src[((static_cast<size_t>(co) * cin_g + ci) * kh + ky) * kw + kx] * scale[static_cast<size_t>(co)];
          const size_t tap = static_cast<size_t>(ky) * kw + kx;
          const size_t dst = groups == 1 ? (tap * cin + ci) * cout + dco : tap * cout + dco;
          cw.w[dst] = v;
        }
      }
    }
  }
  g_.conv_weights.push_back(std::move(cw));
  return static_cast<int>(g_.conv_weights.size()) - 1;
}

void Builder::conv(const std::string& prefix, const Slice& in, const Slice& out, int stride, Activation act,
                   std::optional<Slice> residual, const std::vector<int>& out_perm, int layer) {
  const int wi = fold_weights(prefix, in.c, out_perm);
  const ConvWeights& cw = g_.conv_weights[static_cast<size_t>(wi)];
  const int pad = cw.kh / 2;
  const int oh = (in.h + 2 * pad - cw.kh) / stride + 1, ow = (in.w + 2 * pad - cw.kw) / stride + 1;
  if (cw.cout != out.c || oh != out.h || ow != out.w) {
    fail("'" + prefix + "' produces " + std::to_string(cw.cout) + " channels at " + std::to_string(oh) + "x" +
         std::to_string(ow) + ", but the model needs " + std::to_string(out.c) + " at " + std::to_string(out.h) + "x" +
         std::to_string(out.w) + " (inconsistent tensor shapes)");
  }
  if (residual && residual->c != out.c) fail("'" + prefix + "': residual has " + std::to_string(residual->c) + " channels");
  Node n;
  n.kind = OpKind::Conv;
  n.name = prefix;
  n.layer = layer >= 0 ? layer : layer_;
  n.inputs = {in};
  n.output = out;
  n.residual = residual;
  n.weights = wi;
  n.conv = {stride, pad, act};
  g_.nodes.push_back(std::move(n));
}

// Bottleneck: x + cv2(cv1(x)) (the shortcut exists when channels match, as in every YOLO26 block).
void Builder::bottleneck(const std::string& p, const Slice& in, const Slice& out) {
  const Slice t = temp(p + ".cv1", in.h, in.w, out_channels(p + ".cv1"));
  conv(p + ".cv1", in, t, 1, Activation::SiLU);
  conv(p + ".cv2", t, out, 1, Activation::SiLU, in.c == out.c ? std::optional<Slice>(in) : std::nullopt);
}

// C3k: cv3(cat(m(cv1(x)), cv2(x))); the last bottleneck and cv2 write straight into the concat.
void Builder::c3k(const std::string& p, const Slice& in, const Slice& out) {
  const int c_ = out_channels(p + ".cv1");
  const int cat = g_.add_buffer(p + ".cat", in.h, in.w, 2 * c_);
  int n = 0;
  while (has(p + ".m." + std::to_string(n) + ".cv1.conv.weight")) ++n;
  Slice cur = n > 0 ? temp(p + ".cv1", in.h, in.w, c_) : g_.channels(cat, 0, c_);
  conv(p + ".cv1", in, cur, 1, Activation::SiLU);
  for (int j = 0; j < n; ++j) {
    const std::string m = p + ".m." + std::to_string(j);
    const Slice dst = j == n - 1 ? g_.channels(cat, 0, c_) : temp(m, in.h, in.w, c_);
    bottleneck(m, cur, dst);
    cur = dst;
  }
  conv(p + ".cv2", in, g_.channels(cat, c_, c_), 1, Activation::SiLU);
  conv(p + ".cv3", g_.whole(cat), out, 1, Activation::SiLU);
}

// PSABlock: x = x + attn(x); x = x + ffn(x). Attention: proj(V softmax(QK) + pe(V)).
void Builder::psa_block(const std::string& p, const Slice& in, const Slice& out) {
  const int dim = in.c;
  const int heads = std::max(dim / 64, 1);  // Ultralytics: num_heads = max(c // 64, 1), attn_ratio 0.5
  const int head_dim = dim / heads, key_dim = head_dim / 2;
  const int qkv_c = out_channels(p + ".attn.qkv");
  if (dim % heads != 0 || qkv_c != dim + 2 * heads * key_dim) {
    fail("'" + p + ".attn.qkv' has " + std::to_string(qkv_c) + " outputs; " + std::to_string(heads) +
         " heads of dim " + std::to_string(head_dim) + " need " + std::to_string(dim + 2 * heads * key_dim));
  }
  // Ultralytics lays qkv out per head as [q(key_dim) k(key_dim) v(head_dim)]. Permuting the
  // conv's output channels to [all q | all k | all v] makes q, k and v plain channel slices.
  std::vector<int> perm(static_cast<size_t>(qkv_c));
  const int per_head = 2 * key_dim + head_dim;
  for (int h = 0; h < heads; ++h) {
    for (int j = 0; j < per_head; ++j) {
      const int dst = j < key_dim       ? h * key_dim + j
                      : j < 2 * key_dim ? heads * key_dim + h * key_dim + (j - key_dim)
                                        : 2 * heads * key_dim + h * head_dim + (j - 2 * key_dim);
      perm[static_cast<size_t>(h * per_head + j)] = dst;
    }
  }
  const int qkv = g_.add_buffer(p + ".attn.qkv", in.h, in.w, qkv_c);
  conv(p + ".attn.qkv", in, g_.whole(qkv), 1, Activation::None, std::nullopt, perm);
  const Slice q = g_.channels(qkv, 0, heads * key_dim), k = g_.channels(qkv, heads * key_dim, heads * key_dim);
  const Slice v = g_.channels(qkv, 2 * heads * key_dim, dim);

  const Slice att = temp(p + ".attn", in.h, in.w, dim);
  Node a;
  a.kind = OpKind::Attention;
  a.name = p + ".attn";
  a.layer = layer_;
  a.inputs = {q, k, v};
  a.output = att;
  a.attention = {heads, key_dim, head_dim, static_cast<float>(std::pow(static_cast<double>(key_dim), -0.5))};
  g_.nodes.push_back(std::move(a));

  const Slice mixed = temp(p + ".attn.pe", in.h, in.w, dim);
  conv(p + ".attn.pe", v, mixed, 1, Activation::None, att);  // pe(v) + attention
  const Slice x1 = temp(p + ".attn.proj", in.h, in.w, dim);
  conv(p + ".attn.proj", mixed, x1, 1, Activation::None, in);  // x + attn(x)
  const Slice hidden = temp(p + ".ffn.0", in.h, in.w, out_channels(p + ".ffn.0"));
  conv(p + ".ffn.0", x1, hidden, 1, Activation::SiLU);
  conv(p + ".ffn.1", hidden, out, 1, Activation::None, x1);  // x + ffn(x)
}

// C3k2: cv2(cat(a, b, m0(b), m1(m0(b)), ...)) with [a, b] = cv1(x); every piece is written
// into its slice of the concat, so the chunk and the concat cost nothing.
void Builder::c3k2(int layer, const Slice& in, const Slice& out) {
  const std::string p = "model." + std::to_string(layer);
  const int c2 = out_channels(p + ".cv1");
  if (c2 % 2) fail("'" + p + ".cv1' has an odd number of outputs (" + std::to_string(c2) + ")");
  const int c = c2 / 2;
  int n = 0;
  while (has(p + ".m." + std::to_string(n) + ".cv1.conv.weight") || has(p + ".m." + std::to_string(n) + ".0.cv1.conv.weight")) ++n;
  if (n == 0) fail("layer " + std::to_string(layer) + " (C3k2) has no blocks under '" + p + ".m.0'");
  const int cat = g_.add_buffer(p + ".cat", in.h, in.w, (2 + n) * c);
  conv(p + ".cv1", in, g_.channels(cat, 0, 2 * c), 1, Activation::SiLU);
  for (int j = 0; j < n; ++j) {
    const std::string m = p + ".m." + std::to_string(j);
    const Slice src = g_.channels(cat, (1 + j) * c, c), dst = g_.channels(cat, (2 + j) * c, c);
    if (has(m + ".cv3.conv.weight")) {
      c3k(m, src, dst);
    } else if (has(m + ".0.cv1.conv.weight")) {  // attention variant: Sequential(Bottleneck, PSABlock)
      const Slice t = temp(m + ".0", in.h, in.w, c);
      bottleneck(m + ".0", src, t);
      psa_block(m + ".1", t, dst);
    } else {
      bottleneck(m, src, dst);
    }
  }
  conv(p + ".cv2", g_.whole(cat), out, 1, Activation::SiLU);
}

// SPPF (YOLO26): cv1 without activation, three cascaded 5x5 max-pools into the concat, cv2, shortcut.
void Builder::sppf(int layer, const Slice& in, const Slice& out) {
  const std::string p = "model." + std::to_string(layer);
  const int c_ = out_channels(p + ".cv1");
  const int cv2_in = static_cast<int>(w_.at(p + ".cv2.conv.weight").shape.at(1));
  if (c_ <= 0 || cv2_in % c_ != 0) fail("'" + p + ".cv2' input channels are not a multiple of cv1's outputs");
  const int pools = cv2_in / c_ - 1;
  const int cat = g_.add_buffer(p + ".cat", in.h, in.w, cv2_in);
  conv(p + ".cv1", in, g_.channels(cat, 0, c_), 1, Activation::None);
  for (int j = 0; j < pools; ++j) {
    Node n;
    n.kind = OpKind::MaxPool;
    n.name = p + ".m";
    n.layer = layer;
    n.inputs = {g_.channels(cat, j * c_, c_)};
    n.output = g_.channels(cat, (j + 1) * c_, c_);
    n.pool = {5, 1, 2};
    g_.nodes.push_back(std::move(n));
  }
  conv(p + ".cv2", g_.whole(cat), out, 1, Activation::SiLU, in.c == out.c ? std::optional<Slice>(in) : std::nullopt);
}

// C2PSA: cv2(cat(a, m(b))) with [a, b] = cv1(x); the last PSABlock writes back over b.
void Builder::c2psa(int layer, const Slice& in, const Slice& out) {
  const std::string p = "model." + std::to_string(layer);
  const int c2 = out_channels(p + ".cv1");
  const int c = c2 / 2;
  int n = 0;
  while (has(p + ".m." + std::to_string(n) + ".attn.qkv.conv.weight")) ++n;
  const int cat = g_.add_buffer(p + ".cat", in.h, in.w, c2);
  conv(p + ".cv1", in, g_.whole(cat), 1, Activation::SiLU);
  Slice cur = g_.channels(cat, c, c);
  for (int j = 0; j < n; ++j) {
    const std::string m = p + ".m." + std::to_string(j);
    // b is dead once the first block has read it, so the last block may overwrite it.
    const Slice dst = j == n - 1 ? g_.channels(cat, c, c) : temp(m, in.h, in.w, c);
    psa_block(m, cur, dst);
    cur = dst;
  }
  conv(p + ".cv2", g_.whole(cat), out, 1, Activation::SiLU);
}

void Builder::upsample(int layer, const Slice& in, const Slice& out) { upsample_add("model." + std::to_string(layer), in, out, {}); }

// out = nearest 2x upsample of in [+ add]
void Builder::upsample_add(const std::string& name, const Slice& in, const Slice& out, const std::optional<Slice>& add) {
  if (out.h != 2 * in.h || out.w != 2 * in.w || out.c != in.c || (add && add->c != out.c))
    fail("'" + name + "': a 2x upsample of " + std::to_string(in.c) + " channels does not fit its output");
  Node n;
  n.kind = OpKind::Upsample;
  n.name = name;
  n.layer = layer_;
  n.inputs = {in};
  n.output = out;
  n.residual = add;
  g_.nodes.push_back(std::move(n));
}

void Builder::detect(int layer, const std::vector<Slice>& levels) {
  const std::string p = "model." + std::to_string(layer);
  bool e2e = opt_.end2end && has(p + ".one2one_cv2.0.2.weight");  // no one-to-one head: Ultralytics falls back too
  const std::string box = p + (e2e ? ".one2one_cv2." : ".cv2.");
  const std::string cls = p + (e2e ? ".one2one_cv3." : ".cv3.");
  for (size_t l = 0; l < levels.size(); ++l) {
    if (!has(box + std::to_string(l) + ".2.weight")) fail("tensor '" + box + std::to_string(l) + ".2.weight' is missing");
  }
  if (has(box + std::to_string(levels.size()) + ".2.weight")) fail("'" + box + "' has more levels than P3-P5");
  const int reg4 = static_cast<int>(w_.at(box + "0.2.weight").shape.at(0));
  const int nc = static_cast<int>(w_.at(cls + "0.2.weight").shape.at(0));
  if (reg4 != 4) fail("'" + box + "0.2.weight' has " + std::to_string(reg4) + " outputs: DFL heads (reg_max > 1) are not supported, YOLO26 uses reg_max 1");
  Head& head = g_.head;
  head.nc = nc;
  head.reg_max = 1;
  head.end2end = e2e;
  int anchors = 0;
  for (const Slice& s : levels) {
    head.levels.push_back({s.h, s.w, static_cast<float>(opt_.height) / static_cast<float>(s.h), anchors});
    anchors += s.h * s.w;
  }
  // The task's extra branch per level, into the head rows after the class logits: OBB26's angle (cv4: Conv,
  // Conv, a 1x1 conv to one channel) or Pose26's keypoints (cv4: Conv, Conv; cv4_kpts: a 1x1 conv to kpt_n *
  // kpt_dim); one2one_ for the one-to-one head.
  // Segment26's mask coefficients: cv4 as OBB26's (Conv, Conv, a 1x1 conv to nm channels).
  const bool pose = head.task == Task::Pose;
  const bool cv4 = head.task == Task::Obb || head.task == Task::Segment || pose;
  const std::string extra = cv4 ? p + (e2e ? ".one2one_cv4." : ".cv4.") : "";
  const std::string kpts = p + (e2e ? ".one2one_cv4_kpts." : ".cv4_kpts.");
  const auto final_prefix = [&](size_t l) {  // the branch's last conv at level l
    return pose ? kpts + std::to_string(l) : extra + std::to_string(l) + ".2";
  };
  if (!extra.empty()) {
    for (size_t l = 0; l < levels.size(); ++l) {
      if (!has(final_prefix(l) + ".weight")) fail("tensor '" + final_prefix(l) + ".weight' is missing");
    }
    head.extra = static_cast<int>(w_.at(final_prefix(0) + ".weight").shape.at(0));
    if (pose) {
      const auto shape = kpt_shape(w_);
      if (shape[0] == 0) fail("a pose model without a kpt_shape in its yaml: the keypoints' layout is unknown");
      if (shape[0] * shape[1] != head.extra) {
        fail("'" + final_prefix(0) + ".weight' has " + std::to_string(head.extra) + " outputs, but kpt_shape [" +
             std::to_string(shape[0]) + ", " + std::to_string(shape[1]) + "] needs " + std::to_string(shape[0] * shape[1]));
      }
      head.kpt_n = shape[0], head.kpt_dim = shape[1];
    }
  }
  head.output = g_.add_buffer(p + (e2e ? ".one2one" : ".one2many"), 1, anchors, head.row());
  for (size_t l = 0; l < levels.size(); ++l) {
    const Slice& x = levels[l];
    const HeadLevel& hl = head.levels[l];
    auto head_slice = [&](int c0, int c) { return Slice{head.output, c0, c, hl.anchor_offset, hl.h, hl.w}; };
    const std::string b = box + std::to_string(l), c = cls + std::to_string(l);
    const Slice b1 = temp(b + ".0", x.h, x.w, out_channels(b + ".0"));
    conv(b + ".0", x, b1, 1, Activation::SiLU);
    const Slice b2 = temp(b + ".1", x.h, x.w, out_channels(b + ".1"));
    conv(b + ".1", b1, b2, 1, Activation::SiLU);
    conv(b + ".2", b2, head_slice(0, reg4), 1, Activation::None);
    Slice y;
    if (has(c + ".0.conv.weight")) {  // legacy head: Conv 3x3, Conv 3x3
      const Slice c1 = temp(c + ".0", x.h, x.w, out_channels(c + ".0"));
      conv(c + ".0", x, c1, 1, Activation::SiLU);
      y = temp(c + ".1", x.h, x.w, out_channels(c + ".1"));
      conv(c + ".1", c1, y, 1, Activation::SiLU);
    } else {  // YOLO26: (DWConv 3x3, Conv 1x1) twice
      Slice cur = x;
      for (const char* stage : {".0", ".1"}) {
        const std::string s = c + stage;
        const Slice dw = temp(s + ".0", x.h, x.w, cur.c);
        conv(s + ".0", cur, dw, 1, Activation::SiLU);
        const Slice pw = temp(s + ".1", x.h, x.w, out_channels(s + ".1"));
        conv(s + ".1", dw, pw, 1, Activation::SiLU);
        cur = pw;
      }
      y = cur;
    }
    conv(c + ".2", y, head_slice(reg4, nc), 1, Activation::None);
    if (!extra.empty()) extra_branch(extra + std::to_string(l), final_prefix(l), x, head_slice(head.extra_channel(), head.extra));
  }
}

// An OBB or pose cv4 at one level: Conv 3x3, Conv 3x3 (SiLU both), then the plain 1x1 conv `final_conv`
// (OBB: cv4.l.2, the angle; pose: cv4_kpts.l, the keypoints), written into the head row after the logits.
void Builder::extra_branch(const std::string& p, const std::string& final_conv, const Slice& x, const Slice& out) {
  const Slice a1 = temp(p + ".0", x.h, x.w, out_channels(p + ".0"));
  conv(p + ".0", x, a1, 1, Activation::SiLU);
  const Slice a2 = temp(p + ".1", x.h, x.w, out_channels(p + ".1"));
  conv(p + ".1", a1, a2, 1, Activation::SiLU);
  conv(final_conv, a2, out, 1, Activation::None);
}

// A ConvTranspose2d(c, c, 2, 2) with bias (Proto's upsample): weights (cin, cout, 2, 2). Each output pixel
// (2y + dy, 2x + dx) is a 1x1 convolution of input pixel (y, x) with the taps (., ., dy, dx), so it runs as
// one 1x1 conv to 4 x cout channels (group dy * 2 + dx: sub-pixel (dy, dx)) and a DepthToSpace.
void Builder::conv_transpose2x2(const std::string& prefix, const Slice& in, const Slice& out) {
  const Tensor& wt = w_.at(prefix + ".weight");
  if (wt.shape.size() != 4 || wt.shape[0] != in.c || wt.shape[2] != 2 || wt.shape[3] != 2)
    fail("tensor '" + prefix + ".weight' has shape " + wt.shape_string() + ", expected (" + std::to_string(in.c) +
         ", channels, 2, 2) (a ConvTranspose2d 2x2/2)");
  const int cin = in.c, c = static_cast<int>(wt.shape[1]), cout = 4 * c;
  if (c != out.c || out.h != 2 * in.h || out.w != 2 * in.w)
    fail("'" + prefix + "' produces " + std::to_string(c) + " channels, the model needs " + std::to_string(out.c));
  const auto src = wt.to_float();
  const auto bias = has(prefix + ".bias") ? w_.expect(prefix + ".bias", {c}).to_float() : std::vector<float>(static_cast<size_t>(c), 0.0f);
  ConvWeights cw;
  cw.name = prefix;
  cw.cin = cin;
  cw.cout = cout;
  cw.w.resize(static_cast<size_t>(cin) * cout);
  cw.bias.resize(static_cast<size_t>(cout));
  for (int sub = 0; sub < 4; ++sub) {
    for (int co = 0; co < c; ++co) {
      cw.bias[static_cast<size_t>(sub * c + co)] = bias[static_cast<size_t>(co)];
      for (int ci = 0; ci < cin; ++ci)
        cw.w[static_cast<size_t>(ci) * cout + sub * c + co] = src[(static_cast<size_t>(ci) * c + co) * 4 + sub];
    }
  }
  g_.conv_weights.push_back(std::move(cw));
  const Slice subpixels = temp(prefix, in.h, in.w, cout);
  Node n;
  n.kind = OpKind::Conv;
  n.name = prefix;
  n.layer = layer_;
  n.inputs = {in};
  n.output = subpixels;
  n.weights = static_cast<int>(g_.conv_weights.size()) - 1;
  n.conv = {1, 0, Activation::None};
  g_.nodes.push_back(std::move(n));
  Node d;
  d.kind = OpKind::DepthToSpace;
  d.name = prefix + ".subpixels";
  d.layer = layer_;
  d.inputs = {subpixels};
  d.output = out;
  g_.nodes.push_back(std::move(d));
}

// Proto26 (Segment26's prototypes): feat = P3 + up2(feat_refine.0(P4)) + up4(feat_refine.1(P5)), then
// Proto: cv3(cv2(upsample(cv1(feat_fuse(feat))))), nm prototypes at a quarter of the input. Nearest
// upsampling is linear, so up2(r0) + up4(r1) = up2(r0 + up2(r1)): r1 is upsampled once and added by refine.0's
// residual, the sum upsampled once more and added to P3 (PyTorch adds in the other order: within rounding).
void Builder::proto26(int layer, const std::vector<Slice>& levels) {
  const std::string p = "model." + std::to_string(layer) + ".proto";
  if (!has(p + ".feat_refine.0.conv.weight") || !has(p + ".feat_refine.1.conv.weight") || !has(p + ".upsample.weight"))
    fail("'" + p + "' is not Proto26 (feat_refine.0/1, feat_fuse, cv1, upsample, cv2, cv3): y26 runs YOLO26's Segment26");
  const Slice &p3 = levels[0], &p4 = levels[1], &p5 = levels[2];
  const int c0 = p3.c;
  const Slice r1 = temp(p + ".feat_refine.1", p5.h, p5.w, c0);
  conv(p + ".feat_refine.1", p5, r1, 1, Activation::SiLU);
  const Slice u1 = temp(p + ".feat_refine.1.up", p4.h, p4.w, c0);
  upsample_add(p + ".feat_refine.1.up", r1, u1, {});
  const Slice r0 = temp(p + ".feat_refine.0", p4.h, p4.w, c0);
  conv(p + ".feat_refine.0", p4, r0, 1, Activation::SiLU, u1);
  const Slice feat = temp(p + ".feat", p3.h, p3.w, c0);
  upsample_add(p + ".feat", r0, feat, p3);
  const int c_ = out_channels(p + ".feat_fuse");
  const Slice fused = temp(p + ".feat_fuse", p3.h, p3.w, c_);
  conv(p + ".feat_fuse", feat, fused, 1, Activation::SiLU);
  const Slice a = temp(p + ".cv1", p3.h, p3.w, out_channels(p + ".cv1"));
  conv(p + ".cv1", fused, a, 1, Activation::SiLU);
  const int cu = static_cast<int>(w_.at(p + ".upsample.weight").shape.at(1));
  const Slice up = temp(p + ".upsample", 2 * p3.h, 2 * p3.w, cu);
  conv_transpose2x2(p + ".upsample", a, up);
  const Slice b = temp(p + ".cv2", up.h, up.w, out_channels(p + ".cv2"));
  conv(p + ".cv2", up, b, 1, Activation::SiLU);
  const int nm = out_channels(p + ".cv3");
  Head& head = g_.head;
  if (nm != head.extra)
    fail("'" + p + ".cv3' makes " + std::to_string(nm) + " prototypes, but the head predicts " + std::to_string(head.extra) +
         " mask coefficients");
  head.protos = g_.add_buffer(p, up.h, up.w, nm);
  conv(p + ".cv3", b, g_.whole(head.protos), 1, Activation::SiLU);
}

// Classify (yolo26-cls.yaml's layer 10): conv 1x1 to 1280 channels (SiLU), the global average pool,
// and the linear layer as a 1x1 convolution of the pooled 1x1 image, its nc logits the head's output
// (softmax is the host's, on the logits: runtime/classify.h).
void Builder::classify(int layer, const Slice& x) {
  const std::string p = "model." + std::to_string(layer);
  if (!has(p + ".conv.conv.weight") || !has(p + ".linear.weight")) fail("'" + p + "' (Classify) lacks its conv or linear layer");
  const Slice features = temp(p + ".conv", x.h, x.w, out_channels(p + ".conv"));
  conv(p + ".conv", x, features, 1, Activation::SiLU);
  const Slice pooled = temp(p + ".pool", 1, 1, features.c);
  Node n;
  n.kind = OpKind::GlobalAvgPool;
  n.name = p + ".pool";
  n.layer = layer;
  n.inputs = {features};
  n.output = pooled;
  g_.nodes.push_back(std::move(n));
  const Tensor& lw = w_.at(p + ".linear.weight");
  if (lw.shape.size() != 2 || lw.shape[1] != features.c)
    fail("tensor '" + p + ".linear.weight' has shape " + lw.shape_string() + ", expected (classes, " +
         std::to_string(features.c) + ")");
  Head& head = g_.head;
  head.nc = static_cast<int>(lw.shape[0]);
  head.reg_max = 0;  // a row is the nc logits alone
  head.end2end = false;
  head.output = g_.add_buffer(p + ".linear", 1, 1, head.nc);
  conv(p + ".linear", pooled, g_.whole(head.output), 1, Activation::None);
}

// The task is what the file says (graph/task.h); a head at another layer than the standard layout's (the
// P2/P6 variants) and the YOLOv8-layout pose and segmentation heads are refused. Detection, segmentation
// (Segment26), oriented boxes, pose (Pose26) and classification are built.
Task Builder::supported_task() const {
  const HeadKind head = head_kind(w_);
  if (head.task == Task::Classify) {
    if (head.layer != "model.10")
      fail("a classification model with its head at '" + head.layer + "': y26 builds yolo26-cls.yaml's layout only (Classify at 'model.10')");
    return head.task;
  }
  if (head.task == Task::Pose && !has(head.layer + ".cv4_kpts.0.weight") && !has(head.layer + ".one2one_cv4_kpts.0.weight")) {
    fail("a pose model whose head '" + head.layer + "' is " + head.module + " (keypoints in cv4's last conv, the YOLOv8 "
         "layout): y26 runs YOLO26's Pose26 (cv4 then cv4_kpts)");
  }
  if (head.task == Task::Segment && head.module != "Segment26" && !has(head.layer + ".proto.feat_refine.0.conv.weight")) {
    fail("a segmentation model whose head '" + head.layer + "' is " + head.module + " (Proto on P3 alone, the YOLOv8 "
         "layout): y26 runs YOLO26's Segment26 (Proto26)");
  }
  const bool built = head.task == Task::Detect || head.task == Task::Obb || head.task == Task::Pose || head.task == Task::Segment;
  if (built && head.layer != "model.23") {
    fail(std::string(head.task == Task::Obb ? "an oriented-box" : head.task == Task::Pose ? "a pose" :
                     head.task == Task::Segment ? "a segmentation" : "a detection") +
         " model with its head at '" + head.layer +
         "' (a P2 or P6 variant?): y26 builds the standard YOLO26 layout only (head at 'model.23' on P3-P5)");
  }
  if (built) return head.task;
  if (head.task == Task::Unknown && head.module.empty()) return Task::Detect;  // no head found: said below
  fail("its head '" + head.layer + "' is " + head.module +
       ", not a YOLO head y26 runs (Detect, Segment26, OBB, Pose26 or Classify): not supported");
}

int Builder::channels_of(int layer) const {
  const std::string p = "model." + std::to_string(layer);
  return out_channels(p + (has(p + ".conv.weight") ? "" : ".cv2"));
}

Slice Builder::own(int layer, int h, int w) {
  return g_.whole(g_.add_buffer("model." + std::to_string(layer), h, w, channels_of(layer)));
}

void Builder::step(int layer, const Slice& s, const std::function<void()>& emit) {
  layer_ = layer;
  out_[static_cast<size_t>(layer)] = s;
  emit();
  g_.layer_outputs[static_cast<size_t>(layer)] = s;
}

// Layers 0-8, the same in yolo26.yaml and yolo26-cls.yaml; l4 and l6 are where layers 4 and 6 write
// (the detector's neck concatenates them).
void Builder::backbone(const Slice& l4, const Slice& l6) {
  const int H = opt_.height, W = opt_.width;
  std::vector<Slice>& out = out_;
  const Slice image = g_.whole(g_.input);
  step(0, own(0, H / 2, W / 2), [&] { conv("model.0", image, out[0], 2, Activation::SiLU); });
  step(1, own(1, H / 4, W / 4), [&] { conv("model.1", out[0], out[1], 2, Activation::SiLU); });
  step(2, own(2, H / 4, W / 4), [&] { c3k2(2, out[1], out[2]); });
  step(3, own(3, H / 8, W / 8), [&] { conv("model.3", out[2], out[3], 2, Activation::SiLU); });
  step(4, l4, [&] { c3k2(4, out[3], out[4]); });
  step(5, own(5, H / 16, W / 16), [&] { conv("model.5", out[4], out[5], 2, Activation::SiLU); });
  step(6, l6, [&] { c3k2(6, out[5], out[6]); });
  step(7, own(7, H / 32, W / 32), [&] { conv("model.7", out[6], out[7], 2, Activation::SiLU); });
  step(8, own(8, H / 32, W / 32), [&] { c3k2(8, out[7], out[8]); });
}

void Builder::begin(int layers) {
  g_.input_h = opt_.height;
  g_.input_w = opt_.width;
  g_.input = g_.add_buffer("images", opt_.height, opt_.width, 3);
  g_.layer_outputs.assign(static_cast<size_t>(layers), std::nullopt);
  out_.assign(static_cast<size_t>(layers), Slice{});
}

// yolo26-cls.yaml: the backbone, C2PSA at layer 9 (no SPPF), Classify at 10.
Graph Builder::build_classifier() {
  const int H = opt_.height, W = opt_.width;
  if (!has("model.9.cv1.conv.weight") || !has("model.9.m.0.attn.qkv.conv.weight"))
    fail("no C2PSA at 'model.9': not a YOLO26 classification model (yolo26-cls.yaml)");
  begin(11);
  backbone(own(4, H / 8, W / 8), own(6, H / 16, W / 16));
  step(9, own(9, H / 32, W / 32), [&] { c2psa(9, out_[8], out_[9]); });
  layer_ = 10;
  classify(10, out_[9]);
  return std::move(g_);
}

Graph Builder::build() {
  const int H = opt_.height, W = opt_.width;
  if (H <= 0 || W <= 0 || H % kMaxStride || W % kMaxStride) {
    throw Error("input size " + std::to_string(W) + "x" + std::to_string(H) + " is not a positive multiple of " +
                std::to_string(kMaxStride));
  }
  if (!has("model.0.conv.weight")) fail("no 'model.0.conv.weight': not an Ultralytics YOLO model");
  g_.head.task = supported_task();
  if (g_.head.task == Task::Classify) return build_classifier();
  if (!has("model.23.cv2.0.2.weight") && !has("model.23.one2one_cv2.0.2.weight")) {
    fail("no detection head under 'model.23': not a YOLO26 detection model (other tasks are not supported)");
  }
  begin(24);
  const auto ch = [&](int layer) { return channels_of(layer); };
  // Concats of the neck, allocated up front so that their inputs are written straight into them.
  const int c10 = ch(10), c6 = ch(6), c13 = ch(13), c4 = ch(4), c17 = ch(17), c20 = ch(20);
  const int cat12 = g_.add_buffer("model.12", H / 16, W / 16, c10 + c6);
  const int cat15 = g_.add_buffer("model.15", H / 8, W / 8, c13 + c4);
  const int cat18 = g_.add_buffer("model.18", H / 16, W / 16, c17 + c13);
  const int cat21 = g_.add_buffer("model.21", H / 32, W / 32, c20 + c10);
  std::vector<Slice>& out = out_;
  backbone(g_.channels(cat15, c13, c4), g_.channels(cat12, c10, c6));
  step(9, own(9, H / 32, W / 32), [&] { sppf(9, out[8], out[9]); });
  step(10, g_.channels(cat21, c20, c10), [&] { c2psa(10, out[9], out[10]); });
  // neck
  step(11, g_.channels(cat12, 0, c10), [&] { upsample(11, out[10], out[11]); });
  step(12, g_.whole(cat12), [] {});
  step(13, g_.channels(cat18, c17, c13), [&] { c3k2(13, out[12], out[13]); });
  step(14, g_.channels(cat15, 0, c13), [&] { upsample(14, out[13], out[14]); });
  step(15, g_.whole(cat15), [] {});
  step(16, own(16, H / 8, W / 8), [&] { c3k2(16, out[15], out[16]); });
  step(17, g_.channels(cat18, 0, c17), [&] { conv("model.17", out[16], out[17], 2, Activation::SiLU); });
  step(18, g_.whole(cat18), [] {});
  step(19, own(19, H / 16, W / 16), [&] { c3k2(19, out[18], out[19]); });
  step(20, g_.channels(cat21, 0, c20), [&] { conv("model.20", out[19], out[20], 2, Activation::SiLU); });
  step(21, g_.whole(cat21), [] {});
  step(22, own(22, H / 32, W / 32), [&] { c3k2(22, out[21], out[22]); });
  layer_ = 23;
  detect(23, {out[16], out[19], out[22]});
  if (g_.head.task == Task::Segment) proto26(23, {out[16], out[19], out[22]});
  return std::move(g_);
}

}  // namespace

Graph build_yolo26(const WeightMap& weights, const BuildOptions& options) { return Builder(weights, options).build(); }

}  // namespace y26::graph
