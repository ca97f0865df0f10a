// smtpd source compiled once for the unit tests (see smtpd_src_session.cpp).
#include "daemon/smtpd/smtpd_stdio.cpp"
