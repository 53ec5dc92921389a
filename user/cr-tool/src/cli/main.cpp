// cr-tool: checkpoint and restart processes with the linux-cr syscalls.
#include <cstdio>

#include <fmt/format.h>

#include "commands.hpp"
#include "error.hpp"

int main(int argc, char** argv)
{
    CLI::App app{"cr-tool: checkpoint and restart processes with the linux-cr kernel"};
    app.require_subcommand(1);
    int status = 0;
    cr::cli::setup_checkpoint(app, status);
    cr::cli::setup_restart(app, status);
    cr::cli::setup_inspect(app, status);
    cr::cli::setup_verify(app, status);
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return app.exit(e);
    } catch (const cr::Error& e) {
        fmt::print(stderr, "cr-tool: {}{}\n", e.what(), e.hint().empty() ? "" : "; " + e.hint());
        return 1;
    } catch (const std::exception& e) {
        fmt::print(stderr, "cr-tool: {}\n", e.what());
        return 1;
    }
    return status;
}
