// smtpd's protocol engine is built into the smtpd executable; the unit
// tests compile this source file once here (one file per source, so that
// their file-local helpers do not meet).
#include "daemon/smtpd/smtpd_commands.cpp"
