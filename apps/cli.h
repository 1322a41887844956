// Minimal command-line parsing for the y26 program: flags with values, boolean
// switches and positionals, with one clear error for anything unknown.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

namespace y26::cli {

struct Args {
  std::map<std::string, std::vector<std::string>> values;  // "-w" / "--weights" -> given values
  std::set<std::string> switches;
  std::vector<std::string> positionals;

  bool has(const std::string& flag) const { return values.count(flag) || switches.count(flag); }
  // The flag's single value; throws y26::Error if it is missing and required.
  std::string get(const std::string& flag, const std::string& fallback = "") const;
  std::string require(const std::string& flag) const;
};

struct Spec {
  std::map<std::string, std::string> aliases;  // "-w" -> "--weights"
  std::set<std::string> with_value;            // canonical flags that take a value
  std::set<std::string> switches;              // canonical flags without a value
};

// Parses argv[first..argc). Throws y26::Error on an unknown flag or a missing value.
Args parse(int argc, char** argv, int first, const Spec& spec);

}  // namespace y26::cli
