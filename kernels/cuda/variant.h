// The CUDA backend is compiled twice in a build with the emulator: by nvcc for GPUs (variant `gpu`) and
// by the host compiler against emu/ (variant `emu`, -DY26_CUDA_VARIANT=emu). Its launchers, device
// memory and executor live in an inline namespace named after the variant, so the sources name them the
// same and one program (the y26 binary, the test suite) links both without their symbols colliding.
// Plain arithmetic that both share (workspace sizes, split-K decisions) stays outside it.
#pragma once

#ifndef Y26_CUDA_VARIANT
#define Y26_CUDA_VARIANT gpu
#endif
#define Y26_CUDA_VARIANT_BEGIN inline namespace Y26_CUDA_VARIANT {
#define Y26_CUDA_VARIANT_END }
