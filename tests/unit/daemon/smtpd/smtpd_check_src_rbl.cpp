// Compiles daemon/smtpd/smtpd_check_rbl.cpp (built into the smtpd executable only) for the unit tests.
#include "daemon/smtpd/smtpd_check_rbl.cpp"
