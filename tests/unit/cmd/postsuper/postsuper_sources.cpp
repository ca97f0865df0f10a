// postsuper(1)'s parts are built into the postsuper executable only; the
// unit tests compile them once here (every file but postsuper.cpp, which
// holds main()).
#include "cmd/postsuper/postsuper_by_id.cpp"
#include "cmd/postsuper/postsuper_files.cpp"
#include "cmd/postsuper/postsuper_queue_id.cpp"
#include "cmd/postsuper/postsuper_release_pool.cpp"
#include "cmd/postsuper/postsuper_scan.cpp"
