// smtp-sink's sources are built into the smtp-sink executable only; the
// unit tests compile the parts without main() or sockets once here.
#include "cmd/smtp-sink/sink_config.cpp"
#include "cmd/smtp-sink/sink_dump.cpp"
#include "cmd/smtp-sink/sink_scan.cpp"
