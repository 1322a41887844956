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
  find_library(Y26_CUDNN_LIBRARY cudnn HINTS ${CUDAToolkit_LIBRARY_DIR} REQUIRED)
  find_path(Y26_CUDNN_INCLUDE_DIR cudnn.h HINTS ${CUDAToolkit_INCLUDE_DIRS} REQUIRED)
  # What liby26.a needs at link time; y26Config.cmake finds CUDAToolkit again for embedders.
  set(Y26_CUDA_LINK_LIBS CUDA::cudart CUDA::cublas ${Y26_CUDNN_LIBRARY})
  message(STATUS "y26: CUDA backend ON (${CMAKE_CUDA_COMPILER_VERSION}, archs ${CMAKE_CUDA_ARCHITECTURES})")
else()
  message(STATUS "y26: CUDA backend OFF (Y26_CUDA=${Y26_CUDA})")
endif()
