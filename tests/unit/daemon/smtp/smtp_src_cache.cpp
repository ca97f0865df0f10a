// The smtp client's connection-cache source, compiled once for the unit
// tests (see smtp_sources.cpp).
#include "daemon/smtp/smtp_cache.cpp"
