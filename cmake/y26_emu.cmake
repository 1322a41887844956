# The CUDA emulator (emu/): the CUDA backend's own sources compiled by the host compiler and run on the
# CPU, with checks a GPU does not make (races, bounds, barrier divergence, cp.async waits).
# Y26_CUDA_EMU=AUTO builds it when the CUDA Toolkit headers (cuda_fp16.h, the vector types) and
# Boost.Context are found; ON makes their absence an error.
set(Y26_WITH_CUDA_EMU OFF)
if(NOT Y26_CUDA_EMU STREQUAL "OFF")
  find_path(Y26_CUDA_INCLUDE_DIR cuda_fp16.h HINTS ${CUDAToolkit_INCLUDE_DIRS} ENV CUDA_PATH PATH_SUFFIXES include
            PATHS /usr/local/cuda/include)
  find_package(Boost 1.66 QUIET COMPONENTS context)
  if(Y26_CUDA_INCLUDE_DIR AND Boost_CONTEXT_FOUND)
    set(Y26_WITH_CUDA_EMU ON)
    message(STATUS "y26: CUDA emulator ON (toolkit headers in ${Y26_CUDA_INCLUDE_DIR}; --device emu)")
  elseif(Y26_CUDA_EMU STREQUAL "ON")
    message(FATAL_ERROR "Y26_CUDA_EMU=ON needs the CUDA Toolkit headers (cuda_fp16.h) and Boost.Context "
                        "(Debian: libboost-context-dev)")
  else()
    message(STATUS "y26: CUDA emulator OFF (no CUDA Toolkit headers or no Boost.Context)")
  endif()
endif()

# Compiles `target`'s sources against the emulator: emu/include/ shadows the toolkit's runtime, WMMA and
# pipeline headers, emu/prelude.h comes first, and the CUDA backend's symbols go to the `emu` variant
# (kernels/cuda/variant.h). No FMA contraction, like the kernels' explicit _rn arithmetic on a GPU.
function(y26_emu_variant target)
  target_include_directories(${target} BEFORE PRIVATE ${PROJECT_SOURCE_DIR}/emu/include)
  target_include_directories(${target} PRIVATE ${PROJECT_SOURCE_DIR} ${PROJECT_SOURCE_DIR}/include)
  target_include_directories(${target} SYSTEM PRIVATE ${Y26_CUDA_INCLUDE_DIR})
  target_compile_definitions(${target} PRIVATE Y26_CUDA_VARIANT=emu)
  # #pragma unroll is nvcc's; the host compiler ignores it.
  target_compile_options(${target} PRIVATE -include ${PROJECT_SOURCE_DIR}/emu/prelude.h -ffp-contract=off -Wno-unknown-pragmas)
  if(Y26_SANITIZE MATCHES "address")
    # a kernel's bad access becomes a report and a failed launch, not the end of the program
    target_compile_options(${target} PRIVATE -fsanitize-recover=address)
  endif()
endfunction()
