// smtpd's TLS code (smtpd_tls.cpp) for the unit tests, compiled once here
// as the other smtpd sources are (one file per source).
#include "daemon/smtpd/smtpd_tls.cpp"
