// The physical limit of a GPU for a y26 graph (include/y26/y26.h: RooflineReport): per node its FLOPs
// and minimum DRAM bytes, and the least time they take at the GPU's peak rates.
#pragma once

#include "graph/ir.h"
#include "y26/y26.h"

namespace y26::runtime {

RooflineReport roofline(const graph::Graph& g, int batch, const GpuLimits& gpu);

}  // namespace y26::runtime
