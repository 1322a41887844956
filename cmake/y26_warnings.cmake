# Host warnings for every y26 target. -Werror is on by default so CI catches new
# warnings; turn it off with -DY26_WERROR=OFF when trying a new compiler.
add_library(y26_warnings INTERFACE)
set(y26_sanitized OFF)
if(Y26_SANITIZE)
  set(y26_sanitized ON)  # (Y26_SANITIZE may hold a comma, which a generator expression cannot take)
endif()
target_compile_options(y26_warnings INTERFACE
  $<$<COMPILE_LANGUAGE:CXX>:-Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wno-sign-conversion>
  $<$<AND:$<COMPILE_LANGUAGE:CXX>,$<BOOL:${Y26_WERROR}>>:-Werror>
  # GCC 12 reports false -Wrestrict overlaps inside std::string operator+ (GCC bug 105329).
  $<$<AND:$<COMPILE_LANGUAGE:CXX>,$<CXX_COMPILER_ID:GNU>>:-Wno-restrict>
  # and false -Wmaybe-uninitialized inside libstdc++'s <regex>/<functional> once a sanitizer instruments them.
  $<$<AND:$<COMPILE_LANGUAGE:CXX>,$<BOOL:${y26_sanitized}>>:-Wno-maybe-uninitialized>
  $<$<COMPILE_LANGUAGE:CUDA>:-Xcompiler=-Wall,-Wextra -lineinfo>
  $<$<AND:$<COMPILE_LANGUAGE:CUDA>,$<BOOL:${Y26_WERROR}>>:-Xcompiler=-Werror>)
