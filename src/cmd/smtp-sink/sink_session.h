// One smtp-sink(1) client session and the server state the sessions share
// (counters, the listener, the event loop): the reference 3.7.11 sink's
// byte-at-a-time command and DATA readers, its replies, delays, aborts and
// per-transaction dump files, one event loop for every session.
//
// Trust: everything a client sends is hostile: command lines are bounded
// (2048 bytes, then the session ends), unprintable bytes in arguments show
// as '?', message content only goes to the dump file the operator asked for.
#pragma once
#include "sink_config.h"
#include "sink_dump.h"
#include "sink_scan.h"

#include "util/event_loop.h"

#include <ctime>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace pf::smtp_sink {

class Session;

// What the sessions share: settings, counters, the listener.
struct Server {
    Server(SinkConfig& c, util::EventLoop& l) : cfg(c), loop(l) {}
    SinkConfig& cfg;
    util::EventLoop& loop;
    int listen_fd = -1;
    int client_count = 0;
    int sess_count = 0;
    int quit_count = 0;
    int mesg_count = 0;
    std::unordered_map<Session*, std::unique_ptr<Session>> sessions;
    std::vector<std::unique_ptr<Session>> finished;  // freed between events

    void accept_one();
    void watch_listener();
    void show_stats();
};

class Session {
public:
    Session(Server& server, int fd, std::string client_addr, bool ipv6);
    ~Session();
    Session(const Session&) = delete;
    Session& operator=(const Session&) = delete;

    // Sends the greeting (or what -f/-r/-q/-Q/-W say for "connect").
    void start();

private:
    enum class Reader { command, data };
    enum class Broken { no, eof, timeout };
    enum class Timer { read_timeout, delay_response, delay_read, abort, count };

    void on_readable();
    int next_char();
    int command_read();
    int data_read();
    int command_resp(std::size_t index, const std::string& command, const std::string& args);
    void respond(Cmd cmd, const std::string& args);
    void hard_response(Cmd cmd);
    void soft_response(Cmd cmd);
    void ehlo_response(const std::string& args);
    void helo_response(const std::string& args);
    void mail_response(const std::string& args);
    void rcpt_response(const std::string& args);
    void data_response();
    void dot_response();
    void quit_response();
    void conn_response();
    void mail_cmd_reset();
    void on_delay_response();
    void on_delay_read();
    void on_abort();
    void on_read_timeout();
    void delay_read(int seconds);
    void request_timer(Timer which, int seconds, void (Session::*handler)());
    void cancel_timer(Timer which);
    void watch();
    void unwatch();
    void disconnect();
    bool check_broken();

    void put(std::string_view line);  // queues a reply line (CR LF added)
    void smtp_flush_if_idle();          // the reference's SMTP_FLUSH
    void flush();                       // writes queued replies now
    bool input_pending() const { return pb_pos_ < pushback_.size() || in_pos_ < in_len_; }

    Server& server_;
    SinkConfig& cfg_;
    int fd_;
    bool gone_ = false;
    Broken broken_ = Broken::no;
    static constexpr std::size_t kInputSize = 65536;
    std::unique_ptr<char[]> in_;  // allocated at the first read
    std::size_t in_len_ = 0;
    std::size_t in_pos_ = 0;
    std::string pushback_;
    std::size_t pb_pos_ = 0;
    bool eof_ = false;
    std::string line_;
    std::string out_;
    DataState data_state_ = DataState::any;
    Reader reader_ = Reader::command;
    bool in_mail_ = false;
    int rcpts_ = 0;
    std::string client_addr_;
    std::string addr_prefix_;
    std::optional<std::string> helo_args_;
    const char* client_proto_;
    std::unique_ptr<DumpFile> dump_;
    int delayed_ = -1;  // command table index of a delayed reply
    std::string delayed_args_;
    std::optional<util::EventLoop::TimerId> timers_[static_cast<int>(Timer::count)];
};

}  // namespace pf::smtp_sink
