// The flags detect, bench and plan share (model, size, thresholds, device,
// precision), turned into y26::Options with one clear error per bad value.
#pragma once

#include <cstdint>
#include <string>

#include "cli.h"
#include "y26/y26.h"

namespace y26::app {

// Adds the shared flags to a subcommand's spec.
cli::Spec with_engine_flags(cli::Spec spec);
Options engine_options(const cli::Args& args);

int parse_int(const std::string& flag, const std::string& text, int min, int max);
float parse_float(const std::string& flag, const std::string& text, float min, float max);
// "2GiB", "512MiB", "1.5GB", "300000000": bytes.
std::int64_t parse_bytes(const std::string& flag, const std::string& text);

// Writes text to path ("-": stdout) through a temporary file renamed into place.
void write_text_file(const std::string& path, const std::string& text);

}  // namespace y26::app
