// postqueue's sources are built into the postqueue executable only; the
// unit tests compile them once here (every file but postqueue.cpp, which
// holds main()).
#include "cmd/postqueue/postqueue_showq.cpp"
