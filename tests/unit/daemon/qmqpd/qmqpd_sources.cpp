// qmqpd(8)'s sources are built into the qmqpd executable only; the unit
// tests compile the ones without main() here.
#include "daemon/qmqpd/qmqpd_content.cpp"
#include "daemon/qmqpd/qmqpd_peer.cpp"
#include "daemon/qmqpd/qmqpd_session.cpp"
