// smtpd's SASL glue for the unit tests (one daemon source per file, see
// smtpd_src_session.cpp).
#include "daemon/smtpd/smtpd_sasl.cpp"
