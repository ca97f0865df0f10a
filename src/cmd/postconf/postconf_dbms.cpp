// postconf(1): checks of database table configuration files named in main.cf.
// Placeholder until the full check lands.
#include "postconf.h"

namespace pf::postconf {

void check_database_tables(State&) {}

}  // namespace pf::postconf
