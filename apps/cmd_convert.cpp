// y26 convert MODEL.pt OUT.safetensors
#include <cstdio>

#include "cli.h"
#include "commands.h"
#include "y26/y26.h"

namespace y26::app {

int run_convert(int argc, char** argv) {
  const cli::Args args = cli::parse(argc, argv, 2, {});
  if (args.positionals.size() != 2) throw Error("usage: y26 convert MODEL.pt OUT.safetensors");
  const std::string& in = args.positionals[0];
  const std::string& out = args.positionals[1];
  if (out.size() < 12 || out.compare(out.size() - 12, 12, ".safetensors") != 0) {
    throw Error(out + ": output name must end in .safetensors");
  }
  convert_model(in, out);
  const ModelInfo m = inspect_model(out);
  std::printf("wrote %s: %lld tensors, %s parameters\n", out.c_str(), static_cast<long long>(m.tensor_count),
              std::to_string(m.parameter_count).c_str());
  return 0;
}

}  // namespace y26::app
