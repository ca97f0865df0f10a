// smtp-source(1) sessions; see source_session.h.
#include "source_session.h"

#include "mail/mail_date.h"
#include "util/msg.h"

#include <cerrno>
#include <chrono>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fcntl.h>
#include <fmt/format.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <unistd.h>

namespace pf::smtp_source {

// ---- Client -------------------------------------------------------------

void Client::run(int sessions) {
    for (int i = 0; i < sessions; ++i) {
        sessions_.push_back(std::make_unique<Session>(*this, i));
        Session* s = sessions_.back().get();
        s->connect_count_ = cfg_.connect_count;
        session_count_++;
        s->startup();
    }
    for (;;) {
        if (session_count_ > 0 || cfg_.message_count > 0) loop_.run_once();
        finished_.clear();
        if (session_count_ <= 0 && cfg_.message_count <= 0) {
            if (cfg_.count) {
                std::putchar('\n');
                std::fflush(stdout);
            }
            std::exit(0);
        }
    }
}

void Client::enqueue_connect(Session* s) {
    connect_queue_.push_back(s);
    if (connect_queue_.size() == 1) s->start_connect();
}

// The head of the queue is connected: the next one may start.
void Client::connected(Session* s) {
    if (!connect_queue_.empty() && connect_queue_.front() == s) connect_queue_.pop_front();
    if (!connect_queue_.empty()) connect_queue_.front()->start_connect();
}

void Client::session_done(Session* s) {
    for (auto it = sessions_.begin(); it != sessions_.end(); ++it) {
        if (it->get() == s) {
            finished_.push_back(std::move(*it));
            sessions_.erase(it);
            break;
        }
    }
    session_count_--;
}

const std::string& Client::date() {
    if (date_.empty()) date_ = mail::mail_date(std::time(nullptr));
    return date_;
}

// ---- Session: connections ------------------------------------------------

Session::~Session() {
    if (timer_) client_.loop().cancel_timer(*timer_);
    if (fd_ >= 0) {
        client_.loop().unwatch_fd(fd_);
        ::close(fd_);
    }
}

void Session::startup() {
    SourceConfig& cfg = client_.cfg();
    if (cfg.message_count-- <= 0) {
        client_.session_done(this);
        return;
    }
    if (fd_ < 0)
        client_.enqueue_connect(this);
    else
        send_mail();
}

void Session::start_connect() {
    SourceConfig& cfg = client_.cfg();
    const sockaddr* sa = reinterpret_cast<const sockaddr*>(&cfg.addr);
    fd_ = ::socket(sa->sa_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) util::msg_fatal("socket: {}", std::strerror(errno));
    ::fcntl(fd_, F_SETFL, ::fcntl(fd_, F_GETFL) | O_NONBLOCK);
    linger lg{1, 0};
    if (setsockopt(fd_, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)) < 0)
        util::msg_warn("setsockopt SO_LINGER {}: {}", lg.l_linger, std::strerror(errno));
    if (util::msg_verbose)
        util::msg_info("smtp_stream_setup: maxtime={} enable_deadline=0 min_data_rate=0", cfg.timeout);
    if (cfg.window_size > 0) {
        setsockopt(fd_, SOL_SOCKET, SO_SNDBUF, &cfg.window_size, sizeof(cfg.window_size));
        setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &cfg.window_size, sizeof(cfg.window_size));
    }
    int err = 0;
    if (::connect(fd_, sa, cfg.addr_len) < 0) {
        err = errno;
        if (err == EINPROGRESS) {
            pollfd p{fd_, POLLOUT, 0};
            while (::poll(&p, 1, cfg.timeout * 1000) < 0 && errno == EINTR) {
            }
            socklen_t len = sizeof(err);
            if (getsockopt(fd_, SOL_SOCKET, SO_ERROR, &err, &len) < 0) err = errno;
            if ((p.revents & (POLLOUT | POLLERR | POLLHUP)) == 0 && err == 0) err = ETIMEDOUT;
        }
    }
    if (err != 0) {
        fail_connect(err);
        return;
    }
    // The segment size as the reference reads it, right when the connection
    // is up (before the server's greeting can change it).
    int mss = 0;
    int mss_errno = 0;
    const bool tcp = sa->sa_family == AF_INET || sa->sa_family == AF_INET6;
    if (tcp) {
        socklen_t mss_len = sizeof(mss);
        if (getsockopt(fd_, IPPROTO_TCP, TCP_MAXSEG, &mss, &mss_len) < 0) mss_errno = errno;
    }
    // Completion is seen from the event loop, as the reference's write event.
    timer_ = client_.loop().add_timer(std::chrono::milliseconds(0), [this, tcp, mss, mss_errno]() mutable {
        timer_.reset();
        expect(Step::banner);
        client_.connected(this);
        if (!tcp) return;
        if (mss_errno != 0 && mss_errno != ECONNRESET) {
            util::msg_warn("vstream_tweak_tcp: getsockopt TCP_MAXSEG: {}", std::strerror(mss_errno));
            return;
        }
        if (util::msg_verbose) util::msg_info("vstream_tweak_tcp: TCP_MAXSEG {}", mss);
        if (mss > 4096 / 4) {
            if (mss < INT_MAX / 2) mss *= 2;
            if (mss < INT_MAX / 2) mss *= 2;
            if (util::msg_verbose) util::msg_info("fd={}: stream buffer size old=0 new={}", fd_, mss);
        }
    });
}

void Session::fail_connect(int err) {
    if (connect_count_-- == 1) util::msg_fatal("connect: {}", std::strerror(err));
    util::msg_warn("connect: {}", std::strerror(err));
    ::close(fd_);
    fd_ = -1;
    ::usleep(10);
    start_connect();
}

void Session::close_session() {
    client_.loop().unwatch_fd(fd_);
    ::close(fd_);
    fd_ = -1;
    in_len_ = in_pos_ = 0;
    start_another();
}

void Session::start_another() {
    SourceConfig& cfg = client_.cfg();
    int delay = cfg.random_delay > 0 ? std::rand() % (cfg.random_delay + 1) : cfg.fixed_delay;
    if (delay > 0 || cfg.random_delay > 0) {
        timer_ = client_.loop().add_timer(std::chrono::seconds(delay), [this] {
            timer_.reset();
            startup();
        });
    } else {
        startup();
    }
}

// ---- Session: the dialogue ----------------------------------------------

void Session::expect(Step step) {
    step_ = step;
    client_.loop().watch_fd(fd_, [this] { on_reply(); });
}

void Session::on_reply() {
    bool lmtp = client_.cfg().talk_lmtp;
    switch (step_) {
    case Step::banner: while_text_ = "reading server greeting"; break;
    case Step::helo: while_text_ = lmtp ? "sending LHLO" : "sending HELO"; break;
    case Step::mail: while_text_ = "sending sender"; break;
    case Step::rcpt: while_text_ = "sending recipient"; break;
    case Step::data: while_text_ = "sending DATA command"; break;
    case Step::dot:
    case Step::rset:
    case Step::quit: while_text_ = "sending message"; break;
    }
    switch (step_) {
    case Step::banner: after_banner(response()); break;
    case Step::helo: after_helo(response()); break;
    case Step::mail: after_mail(response()); break;
    case Step::rcpt: after_rcpt(response()); break;
    case Step::data: after_data(response()); break;
    case Step::dot: after_dot(response()); break;
    case Step::rset: after_rset(response()); break;
    case Step::quit:
        response();
        close_session();
        break;
    }
}

bool Session::reject(const char* what, const Reply& r) {
    if (!client_.cfg().allow_reject) util::msg_fatal("{}: {} {}", what, r.code, r.text);
    util::msg_warn("{}: {} {}", what, r.code, r.text);
    if (r.code == 421 || r.code == 521) {
        close_session();
        return true;
    }
    return false;
}

void Session::after_banner(const Reply& r) {
    if (r.code / 100 != 2) {
        if (!client_.cfg().allow_reject) util::msg_fatal("rejected at server banner: {} {}", r.code, r.text);
        util::msg_warn("rejected at server banner: {} {}", r.code, r.text);
    }
    SourceConfig& cfg = client_.cfg();
    if (cfg.send_helo_first) {
        while_text_ = cfg.talk_lmtp ? "sending LHLO" : "sending HELO";
        command(fmt::format("{} {}", cfg.talk_lmtp ? "LHLO" : "HELO", cfg.myhostname));
        expect(Step::helo);
    } else {
        send_mail();
    }
}

void Session::after_helo(const Reply& r) {
    if (r.code / 100 != 2) {
        std::string what = fmt::format("{} rejected", client_.cfg().talk_lmtp ? "LHLO" : "HELO");
        if (reject(what.c_str(), r)) return;
    }
    send_mail();
}

void Session::send_mail() {
    while_text_ = "sending sender";
    command(fmt::format("MAIL FROM:<{}>", client_.cfg().sender));
    expect(Step::mail);
}

void Session::after_mail(const Reply& r) {
    if (r.code / 100 == 2) {
        rcpt_count_ = client_.cfg().recipients;
        rcpt_done_ = 0;
        rcpt_accepted_ = 0;
        send_rcpt();
        return;
    }
    if (reject("sender rejected", r)) return;
    send_rset();
}

void Session::send_rcpt() {
    SourceConfig& cfg = client_.cfg();
    while_text_ = "sending recipient";
    if (rcpt_count_ > 1 || cfg.number_rcpts > 0)
        command(fmt::format("RCPT TO:<{}{}>", cfg.number_rcpts ? cfg.number_rcpts++ : rcpt_count_, cfg.recipient));
    else
        command(fmt::format("RCPT TO:<{}>", cfg.recipient));
    rcpt_count_--;
    rcpt_done_++;
    expect(Step::rcpt);
}

void Session::after_rcpt(const Reply& r) {
    if (r.code / 100 == 2) {
        rcpt_accepted_++;
    } else if (reject("recipient rejected", r)) {
        return;
    }
    if (rcpt_count_ > 0) {
        send_rcpt();
    } else if (rcpt_accepted_ > 0) {
        while_text_ = "sending DATA command";
        command("DATA");
        expect(Step::data);
    } else {
        send_rset();
    }
}

void Session::after_data(const Reply& r) {
    SourceConfig& cfg = client_.cfg();
    if (r.code != 354) {
        if (!cfg.allow_reject) util::msg_fatal("data rejected: {} {}", r.code, r.text);
        util::msg_warn("data rejected: {} {}", r.code, r.text);
        if (r.code == 421 || r.code == 521) {
            close_session();
            return;
        }
        send_rset();
        return;
    }
    if (cfg.send_headers) {
        const std::string& date = client_.date();
        write_raw(fmt::format("From: <{}>\r\n", cfg.sender));
        write_raw(fmt::format("To: <{}>\r\n", cfg.recipient));
        write_raw(fmt::format("Date: {}\r\n", date));
        write_raw(fmt::format("Message-Id: <{:04x}.{:04x}.{:04x}@{}>\r\n", static_cast<unsigned>(getpid()),
                              static_cast<unsigned>(fd_), static_cast<unsigned>(cfg.message_count),
                              cfg.myhostname));
        if (cfg.have_subject) write_raw(fmt::format("Subject: {}\r\n", cfg.subject));
        write_raw("\r\n");
    }
    while_text_ = "sending message";
    if (cfg.message_length == 0) {
        for (int i = 1; i <= 4; ++i) write_raw(fmt::format("La de da de da {}.\r\n", i));
    } else {
        write_raw(cfg.message_data);
        write_raw("\r\n");
    }
    command(".");
    if (cfg.count) {
        cfg.counter++;
        std::printf("%d\r", cfg.counter);
        std::fflush(stdout);
    }
    expect(Step::dot);
}

void Session::after_dot(const Reply& first) {
    SourceConfig& cfg = client_.cfg();
    Reply r = first;
    for (bool more = true; more;) {
        if (r.code / 100 != 2 && reject("end of data rejected", r)) return;
        more = cfg.talk_lmtp && --rcpt_done_ > 0;
        if (more) r = response();
    }
    if (cfg.disconnect || cfg.message_count < 1) {
        send_quit();
    } else {
        client_.loop().unwatch_fd(fd_);
        start_another();
    }
}

void Session::send_rset() {
    command("RSET");
    expect(Step::rset);
}

void Session::after_rset(const Reply& r) {
    SourceConfig& cfg = client_.cfg();
    if (r.code / 100 != 2 && reject("rset rejected", r)) return;
    if (cfg.disconnect || cfg.message_count < 1) {
        send_quit();
    } else {
        client_.loop().unwatch_fd(fd_);
        start_another();
    }
}

void Session::send_quit() {
    command("QUIT");
    expect(Step::quit);
}

// ---- Session: I/O --------------------------------------------------------

void Session::die(const char* problem) { util::msg_fatal("{} while {}", problem, while_text_); }

void Session::command(const std::string& text) {
    if (util::msg_verbose) util::msg_info("{}", text);
    write_raw(text);
    write_raw("\r\n");
    flush();
}

void Session::write_raw(std::string_view data) {
    out_.append(data);
    if (out_.size() >= 65536) flush();
}

void Session::flush() {
    std::size_t done = 0;
    int timeout_ms = client_.cfg().timeout * 1000;
    while (done < out_.size()) {
        ssize_t n = ::write(fd_, out_.data() + done, out_.size() - done);
        if (n > 0) {
            done += static_cast<std::size_t>(n);
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            pollfd p{fd_, POLLOUT, 0};
            int r = ::poll(&p, 1, timeout_ms);
            if (r == 0) die("timeout");
            continue;
        }
        die("lost connection");
    }
    out_.clear();
}

// Refills the input buffer, waiting at most the timeout; fatal on end of
// input, error or timeout.
int Session::fill() {
    int timeout_ms = client_.cfg().timeout * 1000;
    if (!in_) in_ = std::make_unique<char[]>(kInputSize);
    in_len_ = in_pos_ = 0;
    for (;;) {
        ssize_t n = ::read(fd_, in_.get(), kInputSize);
        if (n > 0) {
            in_len_ = static_cast<std::size_t>(n);
            return static_cast<int>(n);
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            pollfd p{fd_, POLLIN, 0};
            if (::poll(&p, 1, timeout_ms) == 0) die("timeout");
            continue;
        }
        die("lost connection");
    }
}

std::string Session::get_line() {
    std::size_t limit = client_.cfg().line_limit;
    std::string line;
    bool skipping = false;
    for (;;) {
        if (in_pos_ >= in_len_) fill();
        char c = in_[in_pos_++];
        if (c == '\n') break;
        if (skipping) continue;
        line.push_back(c);
        if (line.size() >= limit) skipping = true;
    }
    while (!line.empty() && line.back() == '\r') line.pop_back();
    return line;
}

Session::Reply Session::response() {
    Reply r;
    std::size_t limit = client_.cfg().line_limit;
    for (;;) {
        std::string line = get_line();
        std::size_t nul = line.find('\0');
        if (nul != std::string::npos) line.resize(nul);
        for (char& c : line) {
            unsigned char u = static_cast<unsigned char>(c);
            if (!(u < 0x80 && (std::isprint(u) || std::isspace(u)))) c = '?';
        }
        if (util::msg_verbose) util::msg_info("<<< {}", line);
        std::size_t i = 0;
        while (i < line.size() && std::isdigit(static_cast<unsigned char>(line[i]))) ++i;
        r.code = i == 3 ? std::atoi(line.c_str()) : 0;
        bool more = i < line.size() && line[i] == '-';
        if (more) ++i;
        while (i < line.size() && std::isspace(static_cast<unsigned char>(line[i]))) ++i;
        if (r.text.size() < limit) r.text += line.substr(i);
        if (!more) break;
        if (r.text.size() < limit) r.text.push_back('\n');
    }
    return r;
}

}  // namespace pf::smtp_source
