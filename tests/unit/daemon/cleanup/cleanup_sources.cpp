// cleanup's sources are built into the cleanup executable only; the unit
// tests compile them once here (every file but cleanup.cpp, which holds
// main()).
#include "daemon/cleanup/cleanup_addr.cpp"
#include "daemon/cleanup/cleanup_bounce.cpp"
#include "daemon/cleanup/cleanup_envelope.cpp"
#include "daemon/cleanup/cleanup_extracted.cpp"
#include "daemon/cleanup/cleanup_message.cpp"
#include "daemon/cleanup/cleanup_out.cpp"
#include "daemon/cleanup/cleanup_settings.cpp"
