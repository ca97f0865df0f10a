// smtpd's before-queue filter client, compiled once for the unit tests
// (see smtpd_src_data.cpp).
#include "daemon/smtpd/smtpd_proxy.cpp"
