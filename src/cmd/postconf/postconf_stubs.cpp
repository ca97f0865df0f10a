// Placeholders for postconf modes that are not implemented yet.
#include "postconf.h"

#include "util/msg.h"

namespace pf::postconf {

int show_master(State&) { util::msg_fatal("master.cf display is not implemented yet"); }
int edit_master(State&) { util::msg_fatal("master.cf editing is not implemented yet"); }

}  // namespace pf::postconf
