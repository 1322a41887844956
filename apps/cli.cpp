#include "cli.h"

#include "y26/y26.h"

namespace y26::cli {

std::string Args::get(const std::string& flag, const std::string& fallback) const {
  auto it = values.find(flag);
  if (it == values.end() || it->second.empty()) return fallback;
  if (it->second.size() > 1) throw Error(flag + ": given more than once");
  return it->second.front();
}

std::string Args::require(const std::string& flag) const {
  if (!values.count(flag)) throw Error(flag + ": required option is missing");
  return get(flag);
}

Args parse(int argc, char** argv, int first, const Spec& spec) {
  Args a;
  for (int i = first; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg.size() < 2 || arg[0] != '-') {
      a.positionals.push_back(arg);
      continue;
    }
    std::string value;
    bool inline_value = false;
    if (auto eq = arg.find('='); arg.rfind("--", 0) == 0 && eq != std::string::npos) {
      value = arg.substr(eq + 1);
      arg = arg.substr(0, eq);
      inline_value = true;
    }
    if (auto al = spec.aliases.find(arg); al != spec.aliases.end()) arg = al->second;
    if (spec.switches.count(arg)) {
      if (inline_value) throw Error(arg + ": takes no value");
      a.switches.insert(arg);
    } else if (spec.with_value.count(arg)) {
      if (!inline_value) {
        if (i + 1 >= argc) throw Error(arg + ": needs a value");
        value = argv[++i];
      }
      a.values[arg].push_back(value);
    } else {
      throw Error(arg + ": unknown option (see y26 --help)");
    }
  }
  return a;
}

}  // namespace y26::cli
