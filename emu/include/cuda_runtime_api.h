// The emulator's cuda_runtime_api.h: the toolkit's declarations for their types, then macros that
// send every runtime call of the including file to the emulator (emu/runtime.h).
#pragma once
#pragma GCC system_header  // #include_next
#include_next <cuda_runtime_api.h>
#include "emu/runtime.h"
