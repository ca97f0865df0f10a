// anvil's sources are built into the anvil executable only; the unit tests
// compile them once here (every file but anvil.cpp, which holds main()).
#include "daemon/anvil/anvil_table.cpp"
