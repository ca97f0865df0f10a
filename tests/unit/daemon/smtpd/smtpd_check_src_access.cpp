// Compiles daemon/smtpd/smtpd_check_access.cpp (built into the smtpd executable only) for the unit tests.
#include "daemon/smtpd/smtpd_check_access.cpp"
