// The synthetic images `y26 bench` times (a gradient with a checkerboard: every pixel differs from its
// neighbours, so nothing about the input is trivially compressible); `seed` varies it.
#pragma once

#include <cstdint>

#include "y26/y26.h"

namespace y26::app {

inline Image test_pattern(int w, int h, int seed = 0) {
  Image img;
  img.width = w;
  img.height = h;
  img.rgb.resize(static_cast<size_t>(w) * h * 3);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      for (int c = 0; c < 3; ++c)
        img.pixel(x, y)[c] =
            static_cast<std::uint8_t>((x * (c + 1 + seed) + y * (3 - c) + ((x / 32 + y / 32 + seed) % 2) * 80) % 256);
  return img;
}

}  // namespace y26::app
