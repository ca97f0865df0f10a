// local(8)'s sources are built into the local executable only; the unit
// tests compile them once here (every file but local.cpp, which holds
// main()).
#include "daemon/local/local_alias.cpp"
#include "daemon/local/local_command.cpp"
#include "daemon/local/local_command_run.cpp"
#include "daemon/local/local_expand.cpp"
#include "daemon/local/local_file.cpp"
#include "daemon/local/local_forward.cpp"
#include "daemon/local/local_include.cpp"
#include "daemon/local/local_mailbox.cpp"
#include "daemon/local/local_pass.cpp"
#include "daemon/local/local_privs.cpp"
#include "daemon/local/local_recipient.cpp"
#include "daemon/local/local_record.cpp"
#include "daemon/local/local_token.cpp"
#include "daemon/local/local_biff.cpp"
