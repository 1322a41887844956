# Compiles go through ccache where it is installed (scripts/install-deps.sh installs it; Y26_CCACHE=OFF, or
# a CMAKE_<LANG>_COMPILER_LAUNCHER of one's own, turns it off). CI builds most sources twice, the main
# build and then the CPU-only one (.ci/run), and a developer rebuilds after every branch switch: the second
# time is a cache hit wherever the preprocessed source and the compile flags are the same.
#
# CCACHE_BASEDIR: the paths under the source tree are rewritten relative to the build folder before they
# are hashed (and before the compiler sees them), so build/ and build-cpu/ share their entries. nvcc goes
# through it too; ptxas's -v report is replayed from the cache, so scripts/test.sh's spill check still
# reads every kernel.
option(Y26_CCACHE "Compile through ccache when it is installed" ON)
if(Y26_CCACHE)
  find_program(Y26_CCACHE_PROGRAM ccache)
  if(Y26_CCACHE_PROGRAM)
    foreach(lang C CXX CUDA)
      if(NOT CMAKE_${lang}_COMPILER_LAUNCHER)
        set(CMAKE_${lang}_COMPILER_LAUNCHER ${CMAKE_COMMAND} -E env CCACHE_BASEDIR=${PROJECT_SOURCE_DIR} ${Y26_CCACHE_PROGRAM})
      endif()
    endforeach()
    message(STATUS "y26: compiling through ${Y26_CCACHE_PROGRAM}")
  endif()
endif()
