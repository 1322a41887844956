// Writing an output file so that a failure never leaves a partial one: the
// content goes to "<path>.tmp<pid>", which is renamed over `path` only when every
// byte was written and the file closed cleanly; otherwise it is removed.
#pragma once

#include <cstdio>
#include <functional>
#include <string>

namespace y26::loader {

// `write` returns false on failure; stream errors are checked too. Throws y26::Error naming `path`.
void write_file_atomically(const std::string& path, const std::function<bool(std::FILE*)>& write);

}  // namespace y26::loader
