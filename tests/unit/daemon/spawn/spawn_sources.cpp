// spawn(8)'s sources are built into the spawn executable only; the unit
// tests compile them once here (every file but spawn.cpp, which holds
// main()).
#include "daemon/spawn/spawn_attr.cpp"
#include "daemon/spawn/spawn_command.cpp"
