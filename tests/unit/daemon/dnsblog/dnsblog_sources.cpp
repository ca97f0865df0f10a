// The dnsblog parts under unit test (daemon sources are not a library).
#include "daemon/dnsblog/dnsblog_answer.cpp"
