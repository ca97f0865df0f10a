// The bounce daemon's template listings, which "postconf -t" and
// "postconf -b" run it for: service "dump_templates" prints the four
// templates in template-file form, "expand_templates" prints their bodies
// expanded against main.cf. Reproduces the reference's output, its warnings
// and its fatal errors, including the loss of the unwritten part of the
// output when a template line fails to expand.
#pragma once

#include "config/config.h"

namespace pf::bounce {

enum class DumpMode { raw, expanded };

// Loads bounce_template_file (built-in templates when it is empty), writes
// the listing to standard output, and returns the exit status.
int dump_templates(const config::Config& config, DumpMode mode);

}  // namespace pf::bounce
