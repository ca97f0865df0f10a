// What every command does first, as the reference's commands do: name
// itself after argv[0] without its directory (in diagnostics and as
// process_name), make sure descriptors 0-2 are open (a closed one becomes
// /dev/null, so no file the command opens can become its stdout), and,
// once main.cf is read, apply import_environment's NAME=VALUE entries.
//
// Trust: argv[0] and the environment come from the invoking user; the
// configuration from the administrator.
#pragma once

namespace pf::config {

class Config;

// Strips the directory from argv[0] (in place) and registers the name with
// the diagnostics and as process_name; returns the name.
const char* command_start(char** argv, const char* fallback_name);

// Opens /dev/null on whichever of descriptors 0, 1, 2 is closed.
void open_standard_descriptors();

// Sets the NAME=VALUE entries of import_environment (bare names are left
// as they are); an entry without a name is fatal, as the reference's.
void import_environment(const Config& config);

}  // namespace pf::config
