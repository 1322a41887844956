# Where y26's third-party build dependencies come from.
#
# By default from the system (Debian's packages; scripts/install-deps.sh installs them). With
# -DY26_DEPS_DIR=FOLDER from a folder laid out by bench/gpu-bundle.sh instead, for a machine that has no
# such packages and no network (the GPU machines: docs/gpu-check.md):
#   FOLDER/include/{stb/, nlohmann/, catch2/, jpeglib.h jconfig.h jmorecfg.h jerror.h, yaml.h, cudnn*.h}
#   FOLDER/lib/{libjpeg.a, libyaml.a}         FOLDER/cmake/{Catch.cmake, CatchAddTests.cmake}
# Y26_PORTABLE links what is linked at all statically (libjpeg-turbo, libyaml, Boost.Context; the CUDA runtime is
# static always), so the programs need nothing at run time beyond glibc, libstdc++, libgcc and the
# driver's libcuda.so.1: what bench/gpu-bundle.sh carries to another machine's image.
set(Y26_DEPS_DIR "" CACHE PATH "Take the build dependencies from this folder (bench/gpu-bundle.sh) instead of the system")
option(Y26_PORTABLE "Link libjpeg-turbo and Boost.Context statically (programs that run on another Linux image)" OFF)

if(Y26_DEPS_DIR)
  if(NOT EXISTS ${Y26_DEPS_DIR}/include/nlohmann/json.hpp OR NOT EXISTS ${Y26_DEPS_DIR}/lib/libjpeg.a OR
     NOT EXISTS ${Y26_DEPS_DIR}/lib/libyaml.a)
    message(FATAL_ERROR "Y26_DEPS_DIR=${Y26_DEPS_DIR} is not a dependency folder of bench/gpu-bundle.sh "
                        "(no include/nlohmann/json.hpp, lib/libjpeg.a or lib/libyaml.a)")
  endif()
  set(STB_INCLUDE_DIR ${Y26_DEPS_DIR}/include/stb CACHE PATH "stb's headers" FORCE)
  add_library(nlohmann_json::nlohmann_json INTERFACE IMPORTED)
  set_target_properties(nlohmann_json::nlohmann_json PROPERTIES INTERFACE_INCLUDE_DIRECTORIES ${Y26_DEPS_DIR}/include)
  add_library(Catch2::Catch2 INTERFACE IMPORTED)
  set_target_properties(Catch2::Catch2 PROPERTIES INTERFACE_INCLUDE_DIRECTORIES ${Y26_DEPS_DIR}/include)
  set(Catch2_FOUND TRUE)
  list(APPEND CMAKE_MODULE_PATH ${Y26_DEPS_DIR}/cmake)  # Catch.cmake: catch_discover_tests
  set(JPEG_INCLUDE_DIR ${Y26_DEPS_DIR}/include CACHE PATH "libjpeg-turbo's headers" FORCE)
  set(JPEG_LIBRARY_RELEASE ${Y26_DEPS_DIR}/lib/libjpeg.a CACHE FILEPATH "libjpeg-turbo, static" FORCE)
  find_package(JPEG REQUIRED)
  set(Y26_YAML_INCLUDE_DIR ${Y26_DEPS_DIR}/include)
  set(Y26_YAML_LIBRARY ${Y26_DEPS_DIR}/lib/libyaml.a)
else()
  find_path(STB_INCLUDE_DIR stb_image.h PATH_SUFFIXES stb REQUIRED)
  find_package(nlohmann_json 3 REQUIRED)
  # libjpeg-turbo: the JPEG decoder OpenCV uses, hardened. Portable: its static library (and back to the
  # shared one when a build dir is switched back).
  if(Y26_PORTABLE)
    find_library(Y26_JPEG_STATIC NAMES libjpeg.a REQUIRED)
    set(JPEG_LIBRARY_RELEASE ${Y26_JPEG_STATIC} CACHE FILEPATH "libjpeg-turbo" FORCE)
  elseif(JPEG_LIBRARY_RELEASE MATCHES "\\.a$")
    unset(JPEG_LIBRARY_RELEASE CACHE)
  endif()
  find_package(JPEG REQUIRED)
  # libyaml: a dataset's data.yaml (y26 val). Portable: its static library.
  find_path(Y26_YAML_HEADER_DIR yaml.h REQUIRED)
  set(Y26_YAML_INCLUDE_DIR ${Y26_YAML_HEADER_DIR})
  if(Y26_PORTABLE)
    find_library(Y26_YAML_STATIC NAMES libyaml.a REQUIRED)
    set(Y26_YAML_LIBRARY ${Y26_YAML_STATIC})
  else()
    find_library(Y26_YAML_SHARED NAMES yaml REQUIRED)
    set(Y26_YAML_LIBRARY ${Y26_YAML_SHARED})
  endif()
  if(Y26_BUILD_TESTS)
    find_package(Catch2 2 REQUIRED)
  endif()
endif()
if(Y26_PORTABLE)
  set(Boost_USE_STATIC_LIBS ON)  # the emulator's fibers (emu/), when it is built
endif()
