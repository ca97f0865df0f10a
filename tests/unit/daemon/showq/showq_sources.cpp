// showq's sources are built into the showq executable only; the unit tests
// compile them once here (every file but showq.cpp, which holds main()).
#include "daemon/showq/showq_report.cpp"
#include "daemon/showq/showq_file.cpp"
