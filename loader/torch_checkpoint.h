// Ultralytics .pt checkpoints read natively: torch.save's zip container plus a
// restricted pickle reader (loader/pickle.h). Nothing from the file is executed.
#pragma once

#include "loader/mapped_file.h"
#include "loader/weight_map.h"

namespace y26::loader {

// Takes `model` (or `ema` when `model` is None) from the checkpoint dict and
// returns every parameter and buffer under its state-dict name, BatchNorm eps,
// class names, nc, strides and the model yaml. Throws y26::Error naming the file.
WeightMap read_torch_checkpoint(const MappedFile& file);

}  // namespace y26::loader
