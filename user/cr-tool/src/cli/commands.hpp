// The subcommands: each file sets up its options and runs over libcr.
#pragma once

#include <CLI/CLI.hpp>

namespace cr::cli {

void setup_checkpoint(CLI::App& app, int& status);
void setup_restart(CLI::App& app, int& status);
void setup_inspect(CLI::App& app, int& status);
void setup_verify(CLI::App& app, int& status);

} // namespace cr::cli
