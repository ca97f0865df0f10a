// virtual(8)'s sources are built into the virtual executable only; the
// unit tests compile them once here (every file but virtual.cpp, which
// holds main()).
#include "daemon/virtual/virtual_deliver.cpp"
#include "daemon/virtual/virtual_settings.cpp"
