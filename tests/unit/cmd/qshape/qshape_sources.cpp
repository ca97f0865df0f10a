// qshape's sources are built into the qshape executable only; the unit
// tests compile them once here (every file but qshape.cpp, which holds
// main()).
#include "cmd/qshape/qshape_domain.cpp"
#include "cmd/qshape/qshape_envelope.cpp"
#include "cmd/qshape/qshape_perl.cpp"
#include "cmd/qshape/qshape_tally.cpp"
#include "cmd/qshape/qshape_walk.cpp"
