// The bad-input tests' common step: a file holding given bytes, loaded, must be refused with one line
// that starts with the file's path.
#pragma once

#include <catch2/catch.hpp>

#include <algorithm>
#include <string>

#include "tests/support/fixtures.h"
#include "y26/y26.h"

namespace y26::test {

// Writes `bytes` to a temporary file called `name`, calls load(path), and returns the y26::Error message after
// the "path: " it must begin with (checked, as is that it is one line). Fails the test when nothing is thrown.
template <typename Load>
std::string refusal(const std::string& bytes, const std::string& name, Load&& load) {
  TempDir dir;
  const std::string path = dir.file(name);
  write_file(path, bytes);
  try {
    load(path);
  } catch (const Error& e) {
    const std::string msg = e.what();
    CHECK(msg.rfind(path + ": ", 0) == 0);      // names the file first
    CHECK(msg.find('\n') == std::string::npos);  // one line
    return msg.substr(std::min(msg.size(), path.size() + 2));
  }
  FAIL("no error for " << name);
  return {};
}

}  // namespace y26::test
