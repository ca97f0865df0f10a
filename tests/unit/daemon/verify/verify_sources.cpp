// Compiles verify(8)'s sources other than its main() for the unit tests.
#include "daemon/verify/verify_cache.cpp"
#include "daemon/verify/verify_probe.cpp"
#include "daemon/verify/verify_service.cpp"
