// The emulator's cuda_runtime.h: the toolkit's types, the emulator's runtime (emu/runtime.h).
#pragma once
#include <cuda_runtime_api.h>
