// Subcommands of the y26 program; each returns the process exit code and
// reports failures by throwing y26::Error.
#pragma once

namespace y26::app {

int run_info(int argc, char** argv);
int run_convert(int argc, char** argv);
int run_detect(int argc, char** argv);
int run_val(int argc, char** argv);
int run_plan(int argc, char** argv);
int run_bench(int argc, char** argv);
int run_env(int argc, char** argv);

}  // namespace y26::app
