// A minimal application embedding y26: load a model, detect, print.
// Builds against an installed y26 (see CMakeLists.txt beside it):
//   cmake --install build --prefix /opt/y26
//   cmake -S apps/example -B /tmp/embed -DCMAKE_PREFIX_PATH=/opt/y26 && cmake --build /tmp/embed
//   /tmp/embed/embed yolo26n.pt image.jpg [auto|cpu|cuda]
#include <y26/y26.h>

#include <cstdio>

int main(int argc, char** argv) {
  if (argc != 3 && argc != 4) {
    std::fprintf(stderr, "usage: %s MODEL IMAGE [DEVICE]\n", argv[0]);
    return 2;
  }
  try {
    y26::Options options;
    options.conf = 0.25f;
    if (argc == 4) options.device = argv[3];
    y26::Engine engine = y26::Engine::load(argv[1], options);
    const y26::Image image = y26::load_image(argv[2]);
    for (const y26::Detection& d : engine.detect(image)) {
      std::printf("%s %.3f %.1f %.1f %.1f %.1f\n", engine.class_names()[static_cast<size_t>(d.cls)].c_str(), d.score,
                  d.x1, d.y1, d.x2, d.y2);
    }
  } catch (const y26::Error& e) {
    std::fprintf(stderr, "embed: %s\n", e.what());
    return 2;
  }
  return 0;
}
