// Placeholders for postconf modes that are not implemented yet.
#include "postconf.h"

#include "util/msg.h"

namespace pf::postconf {


}  // namespace pf::postconf
