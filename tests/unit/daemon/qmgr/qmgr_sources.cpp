// The queue manager's sources are built into the qmgr executable only; the
// unit tests compile them once here (every file but qmgr.cpp, which holds
// main()).
#include "daemon/qmgr/qmgr_envelope.cpp"
#include "daemon/qmgr/qmgr_feedback.cpp"
#include "daemon/qmgr/qmgr_manager.cpp"
#include "daemon/qmgr/qmgr_queue.cpp"
#include "daemon/qmgr/qmgr_scan.cpp"
#include "daemon/qmgr/qmgr_scheduler.cpp"
#include "daemon/qmgr/qmgr_settings.cpp"
