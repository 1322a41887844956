// y26 env [--json FILE|-]: what this build of y26 can use on this machine (y26::environment()), one
// "what: answer" line each: the backends compiled in, the GPU or why there is none, the cuDNN baseline.
#include <cstdio>
#include <nlohmann/json.hpp>

#include "cli.h"
#include "commands.h"
#include "engine_flags.h"

namespace y26::app {

int run_env(int argc, char** argv) {
  const cli::Args args = cli::parse(argc, argv, 2, {{}, {"--json"}, {}});
  if (!args.positionals.empty()) throw Error("unexpected argument '" + args.positionals.front() + "'");
  const auto env = environment();
  const std::string json_path = args.get("--json");
  if (!json_path.empty()) {
    nlohmann::json j = nlohmann::json::object();
    for (const auto& [what, answer] : env) j[what] = answer;
    write_text_file(json_path, j.dump(1) + "\n");
  }
  if (json_path != "-")
    for (const auto& [what, answer] : env) std::printf("%-9s %s\n", (what + ":").c_str(), answer.c_str());
  return 0;
}

}  // namespace y26::app
