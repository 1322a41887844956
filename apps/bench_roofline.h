// `y26 bench --roofline`: the physical limit of a GPU for the model (apps/bench_roofline.cpp).
#pragma once

#include "cli.h"

namespace y26::app {

int run_roofline(const cli::Args& args);

}  // namespace y26::app
