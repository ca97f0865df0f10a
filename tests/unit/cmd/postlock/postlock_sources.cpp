// postlock(1)'s mailbox hold is built into the postlock executable only;
// the unit tests compile it once here (postlock.cpp holds main()).
#include "cmd/postlock/postlock_mbox.cpp"
