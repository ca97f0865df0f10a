// postmulti(1)'s instance model is built into the postmulti executable
// only; the unit tests compile it once here (postmulti.cpp holds main()).
#include "cmd/postmulti/multi_instance.cpp"
