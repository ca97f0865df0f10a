// The tlsmgr daemon's sources are built into the tlsmgr executable only;
// the unit tests compile them once here (every file but tlsmgr.cpp, which
// holds main()).
#include "daemon/tlsmgr/tlsmgr_prng.cpp"
#include "daemon/tlsmgr/tlsmgr_service.cpp"
