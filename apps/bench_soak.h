// `y26 bench --soak N`: memory and results held steady over many calls (apps/bench_soak.cpp).
#pragma once

#include "cli.h"

namespace y26::app {

int run_soak(const cli::Args& args);

}  // namespace y26::app
