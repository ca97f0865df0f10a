// The smtp client's sources are built into the smtp executable only; the
// unit tests compile them once here (every file but smtp.cpp, which holds
// main()).
#include "daemon/smtp/smtp_content.cpp"
#include "daemon/smtp/smtp_deliver.cpp"
#include "daemon/smtp/smtp_session.cpp"
#include "daemon/smtp/smtp_settings.cpp"
#include "daemon/smtp/smtp_cli_attr.cpp"
