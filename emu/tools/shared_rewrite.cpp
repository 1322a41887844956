// Build tool of the emulator: copies a .cu file for the host compiler, adding after each `__shared__`
// declaration a call that poisons those variables once per block (emu/src/scheduler.cpp shared_touch).
// `__shared__` is a static thread_local under the emulator, which C++ gives no per-block start to; this
// gives it one without changing the kernel's source. A #line directive keeps every diagnostic and every
// report pointing at the original file and line.
//   shared_rewrite IN.cu OUT.cpp
#include <cctype>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace {

bool ident_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

// The declared names of "TYPE a[N], b;" (the text after __shared__ up to the ';'): identifiers outside
// brackets and parentheses that are followed by '[', ',', ';' or '='.
std::vector<std::string> declared_names(const std::string& decl) {
  std::vector<std::string> names;
  int depth = 0;
  for (size_t i = 0; i < decl.size();) {
    const char c = decl[i];
    if (c == '[' || c == '(') ++depth;
    if (c == ']' || c == ')') --depth;
    if (depth == 0 && ident_char(c) && !std::isdigit(static_cast<unsigned char>(c)) && (i == 0 || !ident_char(decl[i - 1]))) {
      size_t j = i;
      while (j < decl.size() && ident_char(decl[j])) ++j;
      size_t k = j;
      while (k < decl.size() && std::isspace(static_cast<unsigned char>(decl[k]))) ++k;
      if (k == decl.size() || decl[k] == '[' || decl[k] == ',' || decl[k] == ';' || decl[k] == '=')
        names.push_back(decl.substr(i, j - i));
      i = j;
      continue;
    }
    ++i;
  }
  return names;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: shared_rewrite IN.cu OUT.cpp\n");
    return 2;
  }
  std::ifstream in(argv[1], std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "shared_rewrite: cannot read %s\n", argv[1]);
    return 2;
  }
  std::stringstream buf;
  buf << in.rdbuf();
  const std::string src = buf.str();
  std::string out = "#line 1 \"" + std::string(argv[1]) + "\"\n";
  const std::string token = "__shared__";
  size_t pos = 0;
  int rewritten = 0;
  for (;;) {
    const size_t at = src.find(token, pos);
    if (at == std::string::npos) break;
    const size_t line_start = src.rfind('\n', at) + 1;
    const bool in_comment = src.substr(line_start, at - line_start).find("//") != std::string::npos;
    const bool is_token = (at == 0 || !ident_char(src[at - 1])) && !ident_char(src[at + token.size()]);
    const size_t end = src.find(';', at);
    if (in_comment || !is_token || end == std::string::npos) {
      out += src.substr(pos, at + token.size() - pos);
      pos = at + token.size();
      continue;
    }
    out += src.substr(pos, end + 1 - pos);
    for (const std::string& name : declared_names(src.substr(at + token.size(), end + 1 - at - token.size())))
      out += " ::y26::emu::shared_touch(static_cast<void*>(&" + name + "), sizeof(" + name + "));";
    ++rewritten;
    pos = end + 1;
  }
  out += src.substr(pos);
  std::ofstream o(argv[2], std::ios::binary);
  o << out;
  if (!o) {
    std::fprintf(stderr, "shared_rewrite: cannot write %s\n", argv[2]);
    return 2;
  }
  return 0;
}
