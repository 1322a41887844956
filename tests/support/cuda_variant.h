// The [cuda] test files are compiled twice: for the GPU (tag [cuda], skipped without one) and against the
// emulator (tag [emu], always run). These name a test case, tag it and pick the Engine's device for the
// variant being compiled (kernels/cuda/variant.h).
#pragma once

#ifdef Y26_CUDA_EMU
#define Y26_TEST_NAME(name) name " [emu]"
#define Y26_TEST_TAGS(extra) "[emu]" extra
#define Y26_TEST_DEVICE "emu"
#else
#define Y26_TEST_NAME(name) name
#define Y26_TEST_TAGS(extra) "[cuda]" extra
#define Y26_TEST_DEVICE "cuda"
#endif
