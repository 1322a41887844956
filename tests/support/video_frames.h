// Frames for the video tests, made at test time: crops of a fixture scene panning across it, so every
// frame differs and the random-weight fixture detects something in each.
#pragma once

#include <string>
#include <vector>

#include "tests/support/fixtures.h"
#include "y26/y26.h"

namespace y26::test {

// `count` frames of width x height, frame i the scene's crop at (3i, 2i) (wrapping inside the scene).
inline std::vector<Image> panning_frames(const Image& scene, int count, int width, int height) {
  std::vector<Image> frames;
  for (int i = 0; i < count; ++i) {
    Image f;
    f.width = width, f.height = height;
    f.rgb.resize(static_cast<size_t>(width) * height * 3);
    const int ox = (3 * i) % (scene.width - width + 1), oy = (2 * i) % (scene.height - height + 1);
    for (int y = 0; y < height; ++y)
      for (int x = 0; x < width; ++x)
        for (int c = 0; c < 3; ++c) f.pixel(x, y)[c] = scene.pixel(ox + x, oy + y)[c];
    frames.push_back(std::move(f));
  }
  return frames;
}

// The frames as raw rgb24, back to back (VideoSourceOptions::raw_width/raw_height read them).
inline std::string raw_bytes(const std::vector<Image>& frames) {
  std::string bytes;
  for (const Image& f : frames) bytes.append(reinterpret_cast<const char*>(f.rgb.data()), f.rgb.size());
  return bytes;
}

}  // namespace y26::test
