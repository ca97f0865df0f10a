// The reference's built-in bounce templates (failure, delay, success,
// verify) in template-file form: header lines, a blank line, the body.
#pragma once

#include "mail/bounce_template.h"

#include <string>
#include <vector>

namespace pf::mail {

std::vector<std::string> builtin_template_lines(BounceKind kind);

}  // namespace pf::mail
