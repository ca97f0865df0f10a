// rmail(8)'s parser is built into the rmail executable only; the unit tests
// compile it once here (rmail.cpp holds main()).
#include "cmd/rmail/rmail_from.cpp"
