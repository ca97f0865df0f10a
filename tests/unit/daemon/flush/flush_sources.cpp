// flush(8)'s sources are built into the flush executable only; the unit
// tests compile them once here (every file but flush.cpp, which holds
// main()).
#include "daemon/flush/flush_logs.cpp"
#include "daemon/flush/flush_service.cpp"
