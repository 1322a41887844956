# Decide whether the CUDA backend is built, and find its libraries.
# Y26_CUDA=AUTO enables it when nvcc is found; ON makes a missing toolkit an error.
set(Y26_WITH_CUDA OFF)
if(NOT Y26_CUDA STREQUAL "OFF")
  include(CheckLanguage)
  check_language(CUDA)
  if(CMAKE_CUDA_COMPILER)
    set(Y26_WITH_CUDA ON)
  elseif(Y26_CUDA STREQUAL "ON")
    message(FATAL_ERROR "Y26_CUDA=ON but no CUDA compiler was found (set CUDACXX or PATH)")
  endif()
endif()

if(Y26_WITH_CUDA)
  # Release builds cover Turing to Hopper; CI and gpu-check pass a narrower list.
  if(NOT DEFINED CMAKE_CUDA_ARCHITECTURES)
    set(CMAKE_CUDA_ARCHITECTURES 75 80 86 89 90)
  endif()
  enable_language(CUDA)
  set(CMAKE_CUDA_STANDARD 17)  # CMake 3.25 does not know nvcc 13 flags for CUDA20; kernels need only C++17
  set(CMAKE_CUDA_STANDARD_REQUIRED ON)
  find_package(CUDAToolkit REQUIRED)
  # cuDNN is only the `--kernels cudnn` baseline: its headers at build time, the library loaded at run time
  # (kernels/cuda/cudnn_library.cpp), so nothing links it. The headers come from the toolkit, a system
  # package, Python's nvidia-cudnn package or Y26_DEPS_DIR; without them the build leaves the baseline out.
  # A dependency folder's headers come first: they are the ones the carried build was made with.
  if(Y26_DEPS_DIR)
    find_path(Y26_CUDNN_INCLUDE_DIR cudnn.h PATHS ${Y26_DEPS_DIR}/include NO_DEFAULT_PATH)
  endif()
  find_path(Y26_CUDNN_INCLUDE_DIR cudnn.h HINTS ${CUDAToolkit_INCLUDE_DIRS})
  # The CUDA runtime statically (CMake's default for nvcc, and what a carried build needs: the driver's
  # libcuda.so.1 is then the only CUDA library loaded at run time); y26Config.cmake finds it for embedders.
  set(Y26_CUDA_LINK_LIBS CUDA::cudart_static ${CMAKE_DL_LIBS})
  message(STATUS "y26: CUDA backend ON (${CMAKE_CUDA_COMPILER_VERSION}, archs ${CMAKE_CUDA_ARCHITECTURES})")
else()
  message(STATUS "y26: CUDA backend OFF (Y26_CUDA=${Y26_CUDA})")
endif()
