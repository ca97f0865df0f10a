// smtpd's endpoint sources (postscreen's passed attributes, the upstream
// proxy's header) are built into the smtpd executable; the unit tests
// compile this source file once here, as the other smtpd_src_* files do.
#include "daemon/smtpd/smtpd_upstream.cpp"
