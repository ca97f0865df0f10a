// postdrop(1): the set-gid (setgid_group) helper that stores a message
// from sendmail(1) in maildrop/, as the reference's postdrop does:
//  - checks authorized_submit_users for the real user ID;
//  - creates maildrop/<id> (mode 0644 while written, so the pickup
//    service skips it), tells the caller the ID, writes its own arrival
//    time first, then the caller's records, allowed per segment (envelope
//    "MFSRVAin", content "XLN", extracted "EAR"), attribute records only
//    for the names the reference lets users give;
//  - on end of input without an E record (the caller gave up) removes the
//    file and exits 0; on malformed input exits fatally (file removed);
//  - without a sender or recipient, answers "internal protocol error"
//    (status 1) and leaves the incomplete file (mode 0644) as the
//    reference does;
//  - a file that would grow past message_size_limit (the reference's file
//    size resource limit) is removed: "File too large", status "message
//    file too big". The reference writes through a 4096-byte buffer, so
//    the limit bites only when a full buffer is written out (then the
//    rest of the input is read and the warning comes at its end) or when
//    the file is finished; a caller that gives up (end of input, no E
//    record) on a file over the limit gets only "mail_stream_cleanup:
//    close error";
//  - otherwise flushes, fsyncs and marks the file ready (mode 0744), then
//    wakes the pickup service (public/$pickup_service_name), then reports
//    the status and exits with it.
//
// Trust: standard input is an unprivileged user's; every record is bounded
// by line_length_limit and checked against the segment it is in. The
// environment is cleaned to import_environment before anything else runs.
#include "ipc/postdrop_protocol.h"
#include "mail/user_acl.h"
#include "ipc/submit_log.h"
#include "config/config.h"
#include "config/config_directory_check.h"
#include "config/mail_params.h"
#include "ipc/service_client.h"
#include "queue/queue_file.h"
#include "queue/record.h"
#include "util/msg.h"
#include "util/strings.h"

#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>

extern char** environ;

namespace pf::postdrop {

using namespace ipc::postdrop;

// The reference's stream buffer size (VSTREAM_BUFSIZE): its writes to the
// queue file reach the file in blocks of this size.
constexpr long kStreamBuffer = 4096;
namespace {

// The file to remove when a signal or fatal error ends us early.
char g_path[4096];
volatile sig_atomic_t g_have_path = 0;

void on_signal(int sig) {
    if (::signal(SIGINT, SIG_IGN) != SIG_IGN) {
        ::signal(SIGQUIT, SIG_IGN);
        ::signal(SIGTERM, SIG_IGN);
        ::signal(SIGHUP, SIG_IGN);
        if (g_have_path) {
            ::unlink(g_path);
            g_have_path = 0;
        }
        if (sig) ::_exit(sig);
    }
}

void fatal_hook(util::MsgLevel level, std::string_view) {
    if (level == util::MsgLevel::fatal || level == util::MsgLevel::panic) on_signal(0);
}

void set_path(const std::string& path) {
    std::size_t n = std::min(path.size(), sizeof g_path - 1);
    std::memcpy(g_path, path.data(), n);
    g_path[n] = 0;
    g_have_path = 1;
}

// Keeps only the variables import_environment names (and sets its
// name=value words), as the reference's clean_env().
void clean_environment(const config::Config& cfg) {
    const std::string setting = cfg.get("import_environment");
    std::map<std::string, std::string> keep;
    for (auto word : util::split_tokens(setting, util::kListSeparators)) {
        auto eq = word.find('=');
        if (eq == std::string_view::npos) {
            if (const char* v = std::getenv(std::string(word).c_str())) keep[std::string(word)] = v;
        } else {
            std::string name(word.substr(0, eq));
            if (name.empty()) util::msg_fatal("update_env: missing attribute name in: {}", word);
            keep[name] = std::string(word.substr(eq + 1));
        }
    }
    ::clearenv();
    for (auto& [name, value] : keep) ::setenv(name.c_str(), value.c_str(), 1);
}

// "name = value" the way the reference splits attribute records; error
// text, or nullopt with name and value set.
std::optional<std::string_view> split_nameval(std::string_view text, std::string& name, std::string& value) {
    auto blank = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
    std::size_t i = 0;
    while (i < text.size() && blank(text[i])) ++i;
    std::size_t start = i;
    while (i < text.size() && text[i] != '=' && !blank(text[i])) ++i;
    if (i == start) return "missing attribute name";
    name = std::string(text.substr(start, i - start));
    while (i < text.size() && blank(text[i])) ++i;
    if (i >= text.size() || text[i] != '=') return "missing '=' after attribute name";
    ++i;
    while (i < text.size() && blank(text[i])) ++i;
    std::size_t end = text.size();
    while (end > i && blank(text[end - 1])) --end;
    value = std::string(text.substr(i, end - i));
    return std::nullopt;
}

bool attribute_allowed(const std::string& name, const std::string& value) {
    if (name == "encoding") return value == "7bit" || value == "8bit" || value == "binary";
    if (name == "rewrite_context") return value == "local" || value == "remote";
    return name == "envelope_id" || name == "notify_flags" || name == "dsn_orig_rcpt" || name == "ret_flags" ||
           name == "create_time" || name == "trace_flags";
}

// One record from the caller, bounded by limit: the reference's
// "illegal length" warning for a longer one, then an error.
std::expected<queue::Record, queue::RecordError> get_record(std::FILE* in, std::size_t limit) {
    int type = std::getc(in);
    if (type == EOF) return std::unexpected(queue::RecordError::eof);
    std::size_t len = 0;
    int shift = 0;
    for (;;) {
        int c = std::getc(in);
        if (c == EOF) return std::unexpected(queue::RecordError::truncated);
        if (shift > 28) {
            util::msg_warn("stdin: bad record length, record type {}", type);
            return std::unexpected(queue::RecordError::bad_length);
        }
        len |= static_cast<std::size_t>(c & 0177) << shift;
        if ((c & 0200) == 0) break;
        shift += 7;
    }
    if (len > limit) {
        util::msg_warn("stdin: illegal length {}, record type {}", len, type);
        return std::unexpected(queue::RecordError::too_long);
    }
    queue::Record record;
    record.type = static_cast<char>(type);
    record.data.resize(len);
    if (len > 0 && std::fread(record.data.data(), 1, len, in) != len)
        return std::unexpected(queue::RecordError::truncated);
    return record;
}

void send_status(unsigned status, const std::string& reason) {
    std::string out = encode_attrs0({{"status", std::to_string(status)}, {"reason", reason}});
    std::fwrite(out.data(), 1, out.size(), stdout);
    std::fflush(stdout);
}

// Wakes the pickup service; only a missing socket is worth a warning.
void trigger_pickup(const std::string& queue_directory, const std::string& service) {
    std::string rel = "public/" + service;
    struct stat st;
    if (::stat(rel.c_str(), &st) < 0) {
        util::msg_warn("unable to look up {}: {}", rel, std::strerror(errno));
        return;
    }
    if (!S_ISSOCK(st.st_mode) && !S_ISFIFO(st.st_mode)) {
        util::msg_warn("{} is not a socket or a fifo", rel);
        return;
    }
    auto sent = ipc::send_trigger(queue_directory, "public", service, "W", 10);
    if (!sent && util::msg_verbose) util::msg_info("trigger {}: {}", rel, sent.error());
}

int run(int argc, char** argv) {
    ::umask(022);
    for (int fd = 0; fd < 3; ++fd) {
        struct stat st;
        if (::fstat(fd, &st) == -1) {
            ::close(fd);
            if (::open("/dev/null", O_RDWR) != fd) util::msg_fatal("open /dev/null: {}", std::strerror(errno));
        }
    }
    // The name is the user's choice: censored.
    argv[0] = const_cast<char*>("postdrop");
    util::msg_set_program("postdrop");
    int c;
    while ((c = ::getopt(argc, argv, "+c:rv")) > 0) {
        switch (c) {
        case 'c':
            if (::setenv("MAIL_CONFIG", optarg, 1) < 0) util::msg_fatal("out of memory");
            break;
        case 'r': break;
        case 'v':
            if (::geteuid() == 0) ++util::msg_verbose;
            break;
        default: util::msg_fatal("usage: {} [-c config_dir] [-v]", argv[0]);
        }
    }
    const char* env_dir = std::getenv("MAIL_CONFIG");
    config::check_config_directory_allowed(config::resolve_config_directory(nullptr));
    config::Config cfg(config::resolve_config_directory(nullptr));
    cfg.load_main_cf(env_dir && *env_dir);
    config::check_mail_params(cfg);
    // As the reference, logging starts as soon as main.cf is read (a
    // maillog_file outside maillog_file_prefixes stops postdrop here,
    // before it looks at the queue); submit_log_init below adds the rest.
    ipc::maillog_client_init(cfg, ipc::mail_task(cfg, "postdrop"),
                             ::geteuid() == 0 ? ipc::kMaillogDirectFallback : ipc::kMaillogNone);
    const std::string submit_acl = cfg.get("authorized_submit_users");
    const std::string pickup_service = cfg.get("pickup_service_name");
    const std::size_t line_limit = static_cast<std::size_t>(std::stoll(cfg.get("line_length_limit")));
    // The reference runs with a file size resource limit of
    // message_size_limit: the maildrop file cannot grow past it.
    const long size_limit = static_cast<long>(config::parse_int_value(cfg.get("message_size_limit"), 1LL << 62).value_or(0));
    auto layout = queue::QueueLayout::from_config(cfg);
    clean_environment(cfg);
    if (::chdir(layout.queue_directory.c_str()) != 0)
        util::msg_fatal("chdir {}: {}", layout.queue_directory, std::strerror(errno));
    if (util::msg_verbose) util::msg_info("chdir {}", layout.queue_directory);

    ::signal(SIGPIPE, SIG_IGN);
    ::signal(SIGXFSZ, SIG_IGN);
    ::signal(SIGINT, on_signal);
    ::signal(SIGQUIT, on_signal);
    if (::signal(SIGTERM, SIG_IGN) == SIG_DFL) ::signal(SIGTERM, on_signal);
    if (::signal(SIGHUP, SIG_IGN) == SIG_DFL) ::signal(SIGHUP, on_signal);
    ipc::submit_log_init(cfg, "postdrop", fatal_hook);

    uid_t uid = ::getuid();
    if (auto denied = mail::check_user_acl(submit_acl, uid))
        util::msg_fatal("User {}({}) is not allowed to submit mail", *denied, static_cast<long>(uid));

    struct timeval start;
    ::gettimeofday(&start, nullptr);
    auto created = queue::QueueFileWriter::create(layout, queue::kMaildrop);
    if (!created) util::msg_fatal("mail_queue_enter: {}", created.error());
    queue::QueueFileWriter& file = *created;
    set_path(file.path());
    // World-readable while written (the pickup service runs unprivileged).
    ::fchmod(::fileno(file.stream()), 0644);
    {
        std::string hello = encode_attrs0({{"protocol", std::string(kProtocolName)}, {"queue_id", file.id()}});
        std::fwrite(hello.data(), 1, hello.size(), stdout);
        std::fflush(stdout);
    }
    const long uid_l = static_cast<long>(uid);
    file.write(queue::rec::kTime, fmt::format("{} {}", static_cast<long>(start.tv_sec), static_cast<long>(start.tv_usec)));

    static constexpr std::string_view segments[] = {"MFSRVAin", "XLN", "EAR", ""};
    const std::string_view* expected = segments;
    unsigned status = 0;
    std::string reason;
    int from_count = 0, rcpt_count = 0;
    bool validate = true;
    for (;;) {
        auto record = get_record(stdin, line_limit);
        if (!record) {
            if (record.error() == queue::RecordError::eof) {
                // The reference's close writes out its buffer: that fails
                // past the size limit.
                if (size_limit > 0 && file.offset() > size_limit)
                    util::msg_warn("mail_stream_cleanup: close error");
                file.abandon();
                g_have_path = 0;
                if (util::msg_verbose) util::msg_info("remove {}", file.path());
                return 0;
            }
            util::msg_fatal("uid={}: malformed input", uid_l);
        }
        char type = record->type;
        if (type == 0 || expected->find(type) == std::string_view::npos)
            util::msg_fatal("uid={}: unexpected record type: {}", uid_l, static_cast<int>(static_cast<unsigned char>(type)));
        if (type == (*expected)[0]) ++expected;
        if (type == queue::rec::kTime) continue;
        if (type == queue::rec::kFrom) {
            if (record->data.find('\0') != std::string::npos) {
                reason = "NUL in FROM record";
                status |= kStatBad;
            }
            ++from_count;
        }
        if (type == queue::rec::kRcpt) ++rcpt_count;
        if (type == queue::rec::kAttr) {
            std::string name, value;
            if (auto err = split_nameval(record->data, name, value)) {
                util::msg_warn("uid={}: ignoring malformed record: {}: {:.200}", uid_l, *err, record->data);
                continue;
            }
            if (attribute_allowed(name, value)) file.write(queue::rec::kAttr, name + "=" + value);
            else util::msg_warn("uid={}: ignoring attribute record: {:.200}={:.200}", uid_l, name, value);
            continue;
        }
        bool written = status == 0 && file.write(type, record->data);
        // What the reference has written out of its buffer by now: every
        // full 4096-byte block followed by more data.
        bool size_error = false;
        if (written && size_limit > 0) {
            long offset = file.offset();
            long flushed = offset > 0 ? ((offset - 1) / kStreamBuffer) * kStreamBuffer : 0;
            if (flushed > size_limit) {
                written = false;
                size_error = true;
            }
        }
        if (!written) {
            for (;;) {
                auto more = get_record(stdin, line_limit);
                if (!more) {
                    if (more.error() == queue::RecordError::eof) break;
                    util::msg_fatal("uid={}: malformed input", uid_l);
                }
                if (more->type == queue::rec::kEnd) break;
            }
            if (status == 0) status = size_error ? kStatSize : kStatWrite;
            validate = false;
            break;
        }
        if (type == queue::rec::kEnd) break;
    }
    if (validate && (from_count == 0 || rcpt_count == 0)) status |= kStatBad;
    // Finishing the file writes out the rest of the buffer.
    if (status == 0 && size_limit > 0 && file.offset() > size_limit) status = kStatSize;
    if (status & kStatSize) {
        // Over the size limit: the reference removes the file.
        util::msg_warn("uid={}: {}", uid_l, std::strerror(EFBIG));
        file.abandon();
    } else if (status != 0) {
        // The reference closes the file and leaves it, not ready (its
        // close fails when the rest of its buffer goes past the limit).
        if (size_limit > 0 && file.offset() > size_limit) util::msg_warn("mail_stream_cleanup: close error");
        (void)file.commit(0644);
    } else if (auto done = file.commit(0744); !done) {
        util::msg_warn("uid={}: {}", uid_l, done.error());
        file.abandon();
        status = kStatWrite;
    } else {
        trigger_pickup(layout.queue_directory, pickup_service);
    }
    g_have_path = 0;
    send_status(status, status != 0 ? reason : std::string());
    return static_cast<int>(status);
}

}  // namespace
}  // namespace pf::postdrop

int main(int argc, char** argv) {
    try {
        return pf::postdrop::run(argc, argv);
    } catch (const std::exception& e) {
        pf::util::msg_fatal("{}", e.what());
    }
}
