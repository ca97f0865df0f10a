// smtp's SASL client glue for the unit tests (one daemon source per file,
// see smtp_src_tls.cpp).
#include "daemon/smtp/smtp_sasl.cpp"
