// The scache daemon's sources are built into the scache executable only;
// the unit tests compile them once here (every file but scache.cpp, which
// holds main()).
#include "daemon/scache/scache_service.cpp"
#include "daemon/scache/scache_store.cpp"
