// The logging sink of maillog_client.h: syslog or postlogd (or the file).
#include "ipc/maillog_client.h"

#include "util/msg.h"
#include "util/process_id.h"

#include <cerrno>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <syslog.h>
#include <unistd.h>

#include <cstring>
#include <utility>

namespace pf::ipc {

namespace {

struct State {
    bool use_file = false;
    bool chrooted = false;
    bool syslog_open = false;
    unsigned flags = 0;
    int facility = LOG_MAIL;
    std::string ident;         // openlog keeps a pointer into this
    std::string hostname;
    std::string maillog_file;
    std::string socket_path;   // absolute
    std::string chroot_path;   // inside the queue_directory jail
    int socket_fd = -1;
};

State& state() {
    static State s;
    return s;
}

int priority_of(util::MsgLevel level) {
    switch (level) {
    case util::MsgLevel::info: return LOG_INFO;
    case util::MsgLevel::warning: return LOG_WARNING;
    case util::MsgLevel::error: return LOG_ERR;
    case util::MsgLevel::fatal: return LOG_CRIT;
    case util::MsgLevel::panic: return LOG_CRIT;
    }
    return LOG_INFO;
}

std::string_view prefix_of(util::MsgLevel level) {
    switch (level) {
    case util::MsgLevel::info: return "";
    case util::MsgLevel::warning: return "warning: ";
    case util::MsgLevel::error: return "error: ";
    case util::MsgLevel::fatal: return "fatal: ";
    case util::MsgLevel::panic: return "panic: ";
    }
    return "";
}

// Connects the datagram socket to postlogd. Connected once, it keeps
// working after the process changes its identity (local(8) and pipe(8) run
// commands and write mailboxes as the recipient, who may not reach
// public/) or enters the chroot jail.
bool connect_postlogd(State& s) {
    if (s.socket_fd >= 0) ::close(s.socket_fd);
    s.socket_fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (s.socket_fd < 0) return false;
    const std::string& path = s.chrooted ? s.chroot_path : s.socket_path;
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (path.size() >= sizeof(addr.sun_path)) return false;
    std::memcpy(addr.sun_path, path.data(), path.size());
    int rc;
    do {
        rc = ::connect(s.socket_fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
    } while (rc < 0 && errno == EINTR);
    if (rc < 0) {
        ::close(s.socket_fd);
        s.socket_fd = -1;
        return false;
    }
    return true;
}

bool send_to_postlogd(const std::string& line) {
    State& s = state();
    for (int attempt = 0; attempt < 2; ++attempt) {
        // A second attempt after postlogd was restarted (a new socket).
        if ((s.socket_fd < 0 || attempt > 0) && !connect_postlogd(s)) return false;
        ssize_t n;
        do {
            n = ::send(s.socket_fd, line.data(), line.size(), MSG_NOSIGNAL);
        } while (n < 0 && errno == EINTR);
        if (n == static_cast<ssize_t>(line.size())) return true;
        if (n >= 0 || (errno != ECONNREFUSED && errno != ENOTCONN && errno != EDESTADDRREQ)) return false;
    }
    return false;
}

void append_to_file(const std::string& file, std::string line) {
    int fd = ::open(file.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) return;
    line += '\n';
    (void)!::write(fd, line.data(), line.size());
    ::close(fd);
}

void deliver(int priority, std::string_view ident, std::string_view text) {
    State& s = state();
    if (!s.use_file) {
        if (ident == s.ident) {
            ::syslog(s.facility | priority, "%.*s", static_cast<int>(text.size()), text.data());
        } else {
            // Another ident for this one line (postlog -t).
            std::string other(ident);
            ::closelog();
            ::openlog(other.c_str(), LOG_PID | LOG_NDELAY, s.facility);
            ::syslog(s.facility | priority, "%.*s", static_cast<int>(text.size()), text.data());
            ::closelog();
            ::openlog(s.ident.c_str(), LOG_PID | LOG_NDELAY, s.facility);
        }
        return;
    }
    std::string line =
        maillog_format_line(std::time(nullptr), s.hostname, ident, static_cast<long>(util::current_pid()), text);
    if (send_to_postlogd(line)) return;
    if (s.flags & kMaillogDirectFallback) append_to_file(s.maillog_file, std::move(line));
}

}  // namespace

void maillog_client_no_direct_fallback() { state().flags &= ~kMaillogDirectFallback; }

std::string maillog_format_line(std::time_t when, std::string_view hostname, std::string_view ident, long pid,
                                std::string_view text) {
    std::tm tm{};
    ::localtime_r(&when, &tm);
    char stamp[64];
    std::size_t len = std::strftime(stamp, sizeof(stamp), "%b %d %H:%M:%S", &tm);
    std::string line(stamp, len);
    line += ' ';
    line += hostname;
    line += ' ';
    line += ident;
    line += '[';
    line += std::to_string(pid);
    line += "]: ";
    line += text;
    return line;
}

std::string mail_task(const config::Config& config, std::string_view program) {
    std::string tag = config.get("syslog_name");
    if (program == tag) return tag;
    return tag + "/" + std::string(program);
}

int syslog_facility_code(std::string_view name) {
    static const std::pair<std::string_view, int> table[] = {
        {"auth", LOG_AUTH},     {"authpriv", LOG_AUTHPRIV}, {"cron", LOG_CRON},     {"daemon", LOG_DAEMON},
        {"ftp", LOG_FTP},       {"kern", LOG_KERN},         {"lpr", LOG_LPR},       {"mail", LOG_MAIL},
        {"news", LOG_NEWS},     {"syslog", LOG_SYSLOG},     {"user", LOG_USER},     {"uucp", LOG_UUCP},
        {"local0", LOG_LOCAL0}, {"local1", LOG_LOCAL1},     {"local2", LOG_LOCAL2}, {"local3", LOG_LOCAL3},
        {"local4", LOG_LOCAL4}, {"local5", LOG_LOCAL5},     {"local6", LOG_LOCAL6}, {"local7", LOG_LOCAL7},
    };
    for (const auto& [n, code] : table)
        if (n == name) return code;
    return -1;
}

bool maillog_file_allowed(std::string_view file, std::string_view prefixes) {
    constexpr std::string_view kSeparators = ", \t\r\n";
    std::size_t pos = 0;
    while (pos < prefixes.size()) {
        std::size_t start = prefixes.find_first_not_of(kSeparators, pos);
        if (start == std::string_view::npos) break;
        std::size_t end = prefixes.find_first_of(kSeparators, start);
        if (end == std::string_view::npos) end = prefixes.size();
        if (file.starts_with(prefixes.substr(start, end - start))) return true;
        pos = end;
    }
    return false;
}

void maillog_client_init(const config::Config& config, std::string_view ident, unsigned flags) {
    // Before anything changes: the fatal error goes where the last lines went.
    if (std::string file = config.get("maillog_file");
        !file.empty() && !maillog_file_allowed(file, config.get("maillog_file_prefixes")))
        util::msg_fatal("maillog_file value '{}' does not match any prefix in maillog_file_prefixes", file);
    State& s = state();
    s.flags = flags;
    s.ident = std::string(ident);
    int facility = syslog_facility_code(config.get("syslog_facility"));
    s.facility = facility < 0 ? LOG_MAIL : facility;
    std::string host = config.get("myhostname");
    if (auto dot = host.find('.'); dot != std::string::npos) host.resize(dot);
    s.hostname = host;
    s.maillog_file = config.get("maillog_file");
    s.use_file = !s.maillog_file.empty();
    std::string service = config.get("postlog_service_name");
    s.socket_path = config.get("queue_directory") + "/public/" + service;
    s.chroot_path = "/public/" + service;
    if (s.use_file) {
        // Now, while the process may still reach public/ (see connect_postlogd);
        // if postlogd is not up yet, the first line connects.
        connect_postlogd(s);
    } else {
        if (s.syslog_open) ::closelog();
        ::openlog(s.ident.c_str(), LOG_PID | LOG_NDELAY, s.facility);
        s.syslog_open = true;
    }
    util::msg_set_sink([](util::MsgLevel level, std::string_view text) {
        std::string message(prefix_of(level));
        message += text;
        deliver(priority_of(level), state().ident, message);
    });
}

void maillog_client_chrooted() { state().chrooted = true; }

bool maillog_client_uses_file() { return state().use_file; }

void maillog_client_send(int syslog_priority, std::string_view ident, std::string_view text) {
    deliver(syslog_priority, ident, text);
}

}  // namespace pf::ipc
