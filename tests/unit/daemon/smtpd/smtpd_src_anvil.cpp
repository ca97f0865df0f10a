// smtpd's anvil limits are built into the smtpd executable; the unit tests
// compile this source file once here (one file per source).
#include "daemon/smtpd/smtpd_anvil.cpp"
