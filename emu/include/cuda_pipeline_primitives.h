// The emulator's cuda_pipeline_primitives.h: __pipeline_memcpy_async, __pipeline_commit and
// __pipeline_wait_prior are defined in emu/device.h (force-included before any kernel source).
#pragma once
#include "emu/device.h"
