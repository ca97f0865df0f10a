// The smtp client's TLS code (smtp_tls.cpp) for the unit tests, compiled
// on its own (its file-local helpers stay apart from smtp_sources.cpp's).
#include "daemon/smtp/smtp_tls.cpp"
