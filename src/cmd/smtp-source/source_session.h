// smtp-source(1) sessions: the per-connection dialogue state machine and
// the client-wide bookkeeping (messages left to send, sessions alive, the
// one-at-a-time connect queue), as the reference 3.7.11 smtp-source runs
// them in one event loop.
//
// Trust: server replies are hostile (see smtp_source.cpp); each read waits
// at most the 300-second timeout.
#pragma once
#include "util/event_loop.h"

#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <sys/socket.h>
#include <vector>

namespace pf::smtp_source {

struct SourceConfig {
    int message_count = 1;         // -m (counts down as messages start)
    int recipients = 1;            // -r
    int number_rcpts = 0;          // -N: next recipient number
    bool disconnect = true;        // not -d: one message per connection
    bool count = false;            // -c
    int counter = 0;
    bool send_helo_first = true;   // not -o
    bool send_headers = true;      // not -o / -F
    int connect_count = 1;         // -C
    int random_delay = 0;          // -R
    int fixed_delay = 0;           // -w
    bool talk_lmtp = false;        // -L
    bool allow_reject = false;     // -A
    bool have_subject = false;
    std::string subject;           // -S
    bool have_sender = false;
    std::string sender;            // -f
    bool have_recipient = false;
    std::string recipient;         // -t
    std::string myhostname;        // -M
    int message_length = 0;        // -l / -F
    std::string message_data;
    int window_size = 0;           // -T
    int timeout = 300;
    std::size_t line_limit = 10240;
    sockaddr_storage addr{};
    socklen_t addr_len = 0;
};

class Client;

class Session {
public:
    Session(Client& client, int id) : client_(client), id_(id) {}
    ~Session();
    Session(const Session&) = delete;
    Session& operator=(const Session&) = delete;

    void startup();         // next message: connect or reuse the connection
    void start_connect();   // called by the connect queue

private:
    struct Reply {
        int code = 0;
        std::string text;
    };
    enum class Step { banner, helo, mail, rcpt, data, dot, rset, quit };

    void fail_connect(int err);
    void expect(Step step);
    void on_reply();
    void after_banner(const Reply& r);
    void after_helo(const Reply& r);
    void send_mail();
    void after_mail(const Reply& r);
    void send_rcpt();
    void after_rcpt(const Reply& r);
    void after_data(const Reply& r);
    void after_dot(const Reply& r);
    void send_rset();
    void after_rset(const Reply& r);
    void send_quit();
    void close_session();
    void start_another();
    bool reject(const char* what, const Reply& r);  // -A handling; true when closed

    // I/O: each step's errors are fatal with the step's wording.
    void command(const std::string& text);
    void write_raw(std::string_view data);
    void flush();
    Reply response();
    std::string get_line();
    int fill();
    [[noreturn]] void die(const char* problem);

    Client& client_;
    int id_;
    int fd_ = -1;
    Step step_ = Step::banner;
    const char* while_text_ = "";
    int connect_count_ = 0;
    int rcpt_done_ = 0;
    int rcpt_count_ = 0;
    int rcpt_accepted_ = 0;
    static constexpr std::size_t kInputSize = 16384;
    std::unique_ptr<char[]> in_;  // allocated at the first read
    std::size_t in_len_ = 0;
    std::size_t in_pos_ = 0;
    std::string out_;
    std::optional<util::EventLoop::TimerId> timer_;
    friend class Client;
};

class Client {
public:
    Client(SourceConfig& cfg, util::EventLoop& loop) : cfg_(cfg), loop_(loop) {}
    [[noreturn]] void run(int sessions);

    SourceConfig& cfg() { return cfg_; }
    util::EventLoop& loop() { return loop_; }
    void enqueue_connect(Session* s);
    void connected(Session* s);
    void session_done(Session* s);
    const std::string& date();

private:
    SourceConfig& cfg_;
    util::EventLoop& loop_;
    int session_count_ = 0;
    std::deque<Session*> connect_queue_;
    std::vector<std::unique_ptr<Session>> sessions_;
    std::vector<std::unique_ptr<Session>> finished_;
    std::string date_;
};

}  // namespace pf::smtp_source
