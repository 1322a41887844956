// cuDNN, loaded at run time (dlopen) for the `--kernels cudnn` baseline only: y26 itself never needs it,
// so the program starts on machines without it, and a build carried to a GPU image finds the cuDNN that
// image has — on the library path or inside Python's nvidia-cudnn package (nvidia/cudnn/lib). The
// function types come from cudnn.h at build time; cuDNN 9 keeps them stable across its minor versions.
#pragma once

#include <cudnn.h>

#include <string>

namespace y26::kernels::cuda {

// Every cuDNN entry point the baseline calls, as X(name).
#define Y26_CUDNN_FUNCTIONS(X)                                                                                        \
  X(cudnnGetVersion) X(cudnnGetErrorString) X(cudnnCreate) X(cudnnDestroy) X(cudnnSetStream)                          \
  X(cudnnCreateTensorDescriptor) X(cudnnSetTensor4dDescriptorEx) X(cudnnDestroyTensorDescriptor)                       \
  X(cudnnCreateFilterDescriptor) X(cudnnSetFilter4dDescriptor) X(cudnnDestroyFilterDescriptor)                         \
  X(cudnnCreateConvolutionDescriptor) X(cudnnSetConvolution2dDescriptor) X(cudnnSetConvolutionGroupCount)              \
  X(cudnnSetConvolutionMathType) X(cudnnDestroyConvolutionDescriptor) X(cudnnGetConvolutionForwardAlgorithm_v7)        \
  X(cudnnGetConvolutionForwardWorkspaceSize) X(cudnnConvolutionForward)      \
  X(cudnnConvolutionBiasActivationForward) X(cudnnCreateActivationDescriptor) X(cudnnSetActivationDescriptor)          \
  X(cudnnDestroyActivationDescriptor) X(cudnnBackendCreateDescriptor) X(cudnnBackendDestroyDescriptor)                 \
  X(cudnnBackendSetAttribute) X(cudnnBackendGetAttribute) X(cudnnBackendFinalize) X(cudnnBackendExecute)

struct CudnnLibrary {
#define Y26_CUDNN_POINTER(name) decltype(&::name) name = nullptr;
  Y26_CUDNN_FUNCTIONS(Y26_CUDNN_POINTER)
#undef Y26_CUDNN_POINTER
  std::string path;  // the libcudnn.so.9 loaded
  std::size_t version = 0;
};

// The loaded cuDNN (loaded once per process), or null with *why saying where it looked and what failed.
// Search order: $Y26_CUDNN_LIBRARY (a file), the dynamic linker's path (libcudnn.so.9), then nvidia/cudnn/lib
// (or any nvidia/*/lib holding libcudnn.so.9) under the site-packages of every python3 on $PATH, of
// $VIRTUAL_ENV and of /opt/*/.venv.
const CudnnLibrary* cudnn_library(std::string* why);

}  // namespace y26::kernels::cuda
