#include "kernels/cuda/weight_pack.h"

#include <cstddef>

#include "common/half.h"

namespace y26::kernels::cuda {

std::vector<half_bits> pack_conv_weights(const ConvWeights& w) {
  const int taps = w.kh * w.kw;
  if (w.groups > 1) {
    std::vector<half_bits> out(static_cast<std::size_t>(taps) * w.cout);
    for (std::size_t i = 0; i < out.size(); ++i) out[i] = float_to_half(w.w[i]);  // same [tap][c] order
    return out;
  }
  const int k_total = taps * w.cin, k_padded = conv_k_padded(w.kh, w.kw, w.cin);
  std::vector<half_bits> out(static_cast<std::size_t>(w.cout) * k_padded, 0);
  for (int k = 0; k < k_total; ++k) {
    for (int co = 0; co < w.cout; ++co) {
      out[static_cast<std::size_t>(co) * k_padded + k] = float_to_half(w.w[static_cast<std::size_t>(k) * w.cout + co]);
    }
  }
  return out;
}

}  // namespace y26::kernels::cuda
