// smtp-sink(1) sessions; see sink_session.h.
#include "sink_session.h"

#include "util/msg.h"
#include "util/utf8.h"

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <poll.h>
#include <syslog.h>
#include <unistd.h>

namespace pf::smtp_sink {

// ---- Server ------------------------------------------------------------

void Server::show_stats() {
    std::printf("sess=%d quit=%d mesg=%d\r", sess_count, quit_count, mesg_count);
    std::fflush(stdout);
}

void Server::watch_listener() {
    loop.watch_fd(listen_fd, [this] { accept_one(); });
}

// ---- Session: set-up and tear-down --------------------------------------

Session::Session(Server& server, int fd, std::string client_addr, bool ipv6)
    : server_(server), cfg_(server.cfg), fd_(fd), client_addr_(std::move(client_addr)),
      addr_prefix_(ipv6 ? "ipv6:" : ""), client_proto_(server.cfg.enable_lmtp ? "LMTP" : "SMTP") {}

Session::~Session() {
    for (auto& t : timers_)
        if (t) server_.loop.cancel_timer(*t);
}

void Session::start() {
    if (command_resp(0, "connect", "") < 0 || check_broken()) {
        if (!gone_) disconnect();
    } else if (cfg_.commands[0].delay == 0) {
        watch();
        request_timer(Timer::read_timeout, cfg_.timeout, &Session::on_read_timeout);
    }
}

bool Session::check_broken() {
    if (broken_ == Broken::no || gone_) return false;
    util::msg_warn_text(broken_ == Broken::timeout ? "write timeout" : "lost connection");
    disconnect();
    return true;
}

void Session::disconnect() {
    if (gone_) return;
    gone_ = true;
    unwatch();
    for (int i = 0; i < static_cast<int>(Timer::count); ++i) cancel_timer(static_cast<Timer>(i));
    if (cfg_.show_count) {
        server_.sess_count++;
        server_.show_stats();
    }
    if (broken_ == Broken::no && !out_.empty()) flush();  // what close would flush
    ::close(fd_);
    fd_ = -1;
    helo_args_.reset();
    mail_cmd_reset();
    if (cfg_.max_quit_count > 0 && server_.quit_count >= cfg_.max_quit_count) std::exit(0);
    if (server_.client_count-- == cfg_.max_client_count) server_.watch_listener();
    auto it = server_.sessions.find(this);
    if (it != server_.sessions.end()) {
        server_.finished.push_back(std::move(it->second));
        server_.sessions.erase(it);
    }
}

void Session::watch() {
    server_.loop.watch_fd(fd_, [this] { on_readable(); });
}

void Session::unwatch() {
    if (fd_ >= 0) server_.loop.unwatch_fd(fd_);
}

void Session::request_timer(Timer which, int seconds, void (Session::*handler)()) {
    cancel_timer(which);
    auto& slot = timers_[static_cast<int>(which)];
    slot = server_.loop.add_timer(std::chrono::seconds(seconds), [this, which, handler] {
        timers_[static_cast<int>(which)].reset();
        (this->*handler)();
        server_.finished.clear();
    });
}

void Session::cancel_timer(Timer which) {
    auto& slot = timers_[static_cast<int>(which)];
    if (slot) server_.loop.cancel_timer(*slot);
    slot.reset();
}

// ---- Output -------------------------------------------------------------

void Session::put(std::string_view line) {
    if (broken_ != Broken::no) return;
    out_.append(line);
    out_.append("\r\n");
    if (out_.size() >= 65536) flush();
}

void Session::smtp_flush_if_idle() {
    if (!input_pending()) flush();
}

void Session::flush() {
    std::size_t done = 0;
    while (broken_ == Broken::no && done < out_.size()) {
        ssize_t n = ::write(fd_, out_.data() + done, out_.size() - done);
        if (n > 0) {
            done += static_cast<std::size_t>(n);
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            pollfd p{fd_, POLLOUT, 0};
            int r = ::poll(&p, 1, cfg_.timeout * 1000);
            if (r == 0) broken_ = Broken::timeout;
            else if (r < 0 && errno != EINTR) broken_ = Broken::eof;
            continue;
        }
        broken_ = Broken::eof;
    }
    out_.clear();
}

// ---- Input --------------------------------------------------------------

// The next input byte; -1 at end of input or on a read error, -2 when
// nothing is buffered and the socket has nothing more right now.
int Session::next_char() {
    if (pb_pos_ < pushback_.size()) return static_cast<unsigned char>(pushback_[pb_pos_++]);
    if (in_pos_ < in_len_) return static_cast<unsigned char>(in_[in_pos_++]);
    if (eof_) return -1;
    if (!in_) in_ = std::make_unique<char[]>(kInputSize);
    in_pos_ = in_len_ = 0;
    for (;;) {
        ssize_t n = ::read(fd_, in_.get(), kInputSize);
        if (n > 0) {
            in_len_ = static_cast<std::size_t>(n);
            return static_cast<unsigned char>(in_[in_pos_++]);
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return -2;
        eof_ = true;
        return -1;
    }
}

void Session::on_readable() {
    bool first = true;
    while (first || input_pending()) {
        first = false;
        int r = reader_ == Reader::command ? command_read() : data_read();
        if (check_broken()) break;
        if (gone_) break;
        if (r < 0) {
            if (util::msg_verbose) util::msg_info("disconnect");
            disconnect();
            break;
        }
    }
    if (!gone_) {
        if (!out_.empty() && !input_pending()) flush();
        if (!check_broken()) request_timer(Timer::read_timeout, cfg_.timeout, &Session::on_read_timeout);
    }
    server_.finished.clear();
}

int Session::data_read() {
    for (;;) {
        // Plain text up to the next CR changes nothing but the capture.
        if (data_state_ == DataState::any && pb_pos_ >= pushback_.size() && in_pos_ < in_len_) {
            const char* start = in_.get() + in_pos_;
            const void* cr = std::memchr(start, '\r', in_len_ - in_pos_);
            std::size_t run = cr ? static_cast<std::size_t>(static_cast<const char*>(cr) - start) : in_len_ - in_pos_;
            if (dump_ && run > 0) dump_->write(start, run);
            in_pos_ += run;
            if (in_pos_ >= in_len_) continue;
        }
        int c = next_char();
        if (c == -1) return -1;
        if (c == -2) return 0;
        data_state_ = data_step(data_state_, static_cast<unsigned char>(c));
        if (dump_ && data_byte_kept(data_state_, static_cast<unsigned char>(c))) dump_->put(static_cast<char>(c));
        if (data_state_ == DataState::cr_lf_dot_cr_lf) {
            pushback_ = ".\r\n";
            pb_pos_ = 0;
            reader_ = Reader::command;
            data_state_ = DataState::any;
            if (dump_) dump_->finish();
            dump_.reset();
            mail_cmd_reset();
            if (cfg_.show_count || cfg_.max_msg_quit_count > 0) {
                server_.mesg_count++;
                if (cfg_.show_count) server_.show_stats();
                if (cfg_.max_msg_quit_count > 0 && server_.mesg_count >= cfg_.max_msg_quit_count) std::exit(0);
            }
            return 0;
        }
    }
}

int Session::command_read() {
    if (data_state_ == DataState::cr_lf) data_state_ = DataState::any;
    for (;;) {
        int c = next_char();
        if (c == -1) return -1;
        if (c == -2) return 0;
        if (line_.size() >= static_cast<std::size_t>(cfg_.max_line_length)) {
            util::msg_warn("command line too long");
            return -1;
        }
        line_.push_back(static_cast<char>(c));
        data_state_ = line_step(data_state_, static_cast<unsigned char>(c));
        if (data_state_ == DataState::cr_lf) break;
    }
    // The line without CR LF, up to a NUL byte as the reference sees it.
    std::string line(line_.c_str(), std::strlen(line_.c_str()) < line_.size() - 2 ? std::strlen(line_.c_str())
                                                                                  : line_.size() - 2);
    line_.clear();
    if (util::msg_verbose) util::msg_info("{}", line);
    std::size_t start = line.find_first_not_of(" \t");
    if (start == std::string::npos) {
        put("500 5.5.2 Error: unknown command");
        smtp_flush_if_idle();
        return 0;
    }
    std::size_t end = line.find_first_of(" \t", start);
    std::string command = line.substr(start, end == std::string::npos ? std::string::npos : end - start);
    std::string args = end == std::string::npos ? std::string() : line.substr(end + 1);
    int index = find_command(cfg_, command);
    if (index < 0 || (cfg_.commands[static_cast<std::size_t>(index)].flags & kEnable) == 0) {
        put("500 5.5.1 Error: unknown command");
        smtp_flush_if_idle();
        return 0;
    }
    return command_resp(static_cast<std::size_t>(index), command, util::printable(args, false));
}

// ---- Replies ------------------------------------------------------------

int Session::command_resp(std::size_t index, const std::string& command, const std::string& args) {
    const CommandSpec& spec = cfg_.commands[index];
    if (spec.flags & kSyslog) syslog(LOG_INFO, "%s %.100s", command.c_str(), args.c_str());
    if (spec.flags & kDisconnect) return -1;
    if (spec.flags & kClose) {
        put("421 4.0.0 Server closing connection");
        return -1;
    }
    if (spec.flags & kHardErr) {
        hard_response(spec.cmd);
        return 0;
    }
    if (spec.flags & kSoftErr) {
        soft_response(spec.cmd);
        return 0;
    }
    if (spec.delay > 0) {
        int delay = spec.delay;
        if (spec.delay_odds > 0)
            for (delay = 0; static_cast<int>(100.0 * std::rand() / (RAND_MAX + 1.0)) < spec.delay_odds;
                 delay += spec.delay) {
            }
        unwatch();
        cancel_timer(Timer::read_timeout);
        request_timer(Timer::delay_response, delay, &Session::on_delay_response);
        delayed_ = static_cast<int>(index);
        delayed_args_ = args;
        return 0;
    }
    respond(spec.cmd, args);
    return spec.cmd == Cmd::quit ? -1 : 0;
}

void Session::respond(Cmd cmd, const std::string& args) {
    switch (cmd) {
    case Cmd::connect: conn_response(); break;
    case Cmd::helo: helo_response(args); break;
    case Cmd::ehlo:
    case Cmd::lhlo: ehlo_response(args); break;
    case Cmd::xclient:
    case Cmd::xforward:
    case Cmd::auth:
    case Cmd::noop:
    case Cmd::vrfy:
        put("250 2.0.0 Ok");
        smtp_flush_if_idle();
        break;
    case Cmd::mail: mail_response(args); break;
    case Cmd::rcpt: rcpt_response(args); break;
    case Cmd::data: data_response(); break;
    case Cmd::dot: dot_response(); break;
    case Cmd::rset:
        mail_cmd_reset();
        put("250 2.1.0 Ok");
        smtp_flush_if_idle();
        break;
    case Cmd::quit: quit_response(); break;
    }
}

void Session::hard_response(Cmd cmd) {
    if (cmd == Cmd::dot && cfg_.enable_lmtp)
        while (rcpts_-- > 0) put(cfg_.hard_reply);
    else
        put(cfg_.hard_reply);
    smtp_flush_if_idle();
}

void Session::soft_response(Cmd cmd) {
    if (cmd == Cmd::dot && cfg_.enable_lmtp)
        while (rcpts_-- > 0) put(cfg_.soft_reply);
    else
        put(cfg_.soft_reply);
    smtp_flush_if_idle();
}

namespace {
std::string skip_space(const std::string& s) {
    std::size_t i = 0;
    while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
    return s.substr(i);
}
// What follows the first ':' run (then blanks): "FROM:<a@b>" -> "<a@b>".
std::string after_colon(const std::string& s) {
    std::size_t i = s.find(':');
    if (i == std::string::npos) return std::string();
    while (i < s.size() && s[i] == ':') ++i;
    return skip_space(s.substr(i));
}
}  // namespace

void Session::ehlo_response(const std::string& args) {
    mail_cmd_reset();
    if (!cfg_.enable_lmtp) client_proto_ = "ESMTP";
    put("250-" + cfg_.hostname);
    if (!cfg_.disable_pipelining) put("250-PIPELINING");
    if (!cfg_.disable_8bitmime) put("250-8BITMIME");
    if (!cfg_.disable_saslauth) put("250-AUTH PLAIN LOGIN");
    if (!cfg_.disable_xclient) put("250-XCLIENT NAME HELO");
    if (!cfg_.disable_xforward) put("250-XFORWARD NAME ADDR PROTO HELO");
    if (!cfg_.disable_enh_status) put("250-ENHANCEDSTATUSCODES");
    if (!cfg_.disable_dsn) put("250-DSN");
    put("250 ");
    smtp_flush_if_idle();
    if (cfg_.dump && broken_ == Broken::no) helo_args_ = skip_space(args);
}

void Session::helo_response(const std::string& args) {
    mail_cmd_reset();
    client_proto_ = "SMTP";
    put("250 " + cfg_.hostname);
    smtp_flush_if_idle();
    if (cfg_.dump && broken_ == Broken::no) helo_args_ = skip_space(args);
}

void Session::mail_response(const std::string& args) {
    if (in_mail_) {
        put("503 5.5.1 Error: nested MAIL command");
        smtp_flush_if_idle();
        return;
    }
    in_mail_ = true;
    rcpts_ = 0;
    put("250 2.1.0 Ok");
    smtp_flush_if_idle();
    if (cfg_.dump && broken_ == Broken::no) {
        std::string addr = addr_prefix_ + client_addr_;
        dump_ = std::make_unique<DumpFile>(cfg_, DumpFile::Client{addr, client_proto_, helo_args_});
        dump_->header("X-Mail-Args", after_colon(args));
    }
}

void Session::rcpt_response(const std::string& args) {
    if (!in_mail_) {
        put("503 5.5.1 Error: need MAIL command");
        smtp_flush_if_idle();
        return;
    }
    rcpts_++;
    put("250 2.1.5 Ok");
    smtp_flush_if_idle();
    if (dump_ && broken_ == Broken::no) dump_->header("X-Rcpt-Args", after_colon(args));
}

void Session::data_response() {
    if (!in_mail_ || rcpts_ == 0) {
        put("503 5.5.1 Error: need RCPT command");
        smtp_flush_if_idle();
        return;
    }
    data_state_ = DataState::cr_lf;
    put("354 End data with <CR><LF>.<CR><LF>");
    smtp_flush_if_idle();
    if (broken_ != Broken::no) return;
    if (cfg_.abort_delay < 0) {
        reader_ = Reader::data;
        if (cfg_.data_read_delay > 0) delay_read(cfg_.data_read_delay);
    } else {
        unwatch();
        request_timer(Timer::abort, cfg_.abort_delay, &Session::on_abort);
    }
    if (dump_) dump_->finish_header(cfg_.hostname);
}

void Session::dot_response() {
    if (cfg_.enable_lmtp)
        while (rcpts_-- > 0) put("250 2.2.0 Ok");
    else
        put("250 2.0.0 Ok");
    smtp_flush_if_idle();
}

void Session::quit_response() {
    put("221 Bye");
    flush();
    if (broken_ == Broken::no && cfg_.show_count) server_.quit_count++;
}

void Session::conn_response() {
    if (cfg_.pretend_pix)
        put("220 ********");
    else if (cfg_.disable_esmtp)
        put("220 " + cfg_.hostname);
    else
        put("220 " + cfg_.hostname + " ESMTP");
    smtp_flush_if_idle();
}

void Session::mail_cmd_reset() {
    in_mail_ = false;
    if (dump_) {
        dump_->reset();
        dump_.reset();
    }
}

// ---- Timed events -------------------------------------------------------

void Session::on_delay_response() {
    if (gone_) return;
    int index = delayed_;
    std::string args = std::move(delayed_args_);
    delayed_args_.clear();
    Cmd cmd = cfg_.commands[static_cast<std::size_t>(index)].cmd;
    respond(cmd, args);
    if (!out_.empty()) flush();
    if (check_broken()) return;
    if (cmd == Cmd::quit) {
        disconnect();
        return;
    }
    delayed_ = -1;
    watch();
    request_timer(Timer::read_timeout, cfg_.timeout, &Session::on_read_timeout);
}

void Session::delay_read(int seconds) {
    unwatch();
    cancel_timer(Timer::read_timeout);
    request_timer(Timer::delay_read, seconds, &Session::on_delay_read);
}

void Session::on_delay_read() {
    if (gone_) return;
    watch();
    request_timer(Timer::read_timeout, cfg_.timeout, &Session::on_read_timeout);
}

void Session::on_abort() {
    if (gone_) return;
    put("550 This violates SMTP");
    flush();
    disconnect();
}

void Session::on_read_timeout() {
    if (gone_) return;
    util::msg_warn("read timeout");
    disconnect();
}

}  // namespace pf::smtp_sink
