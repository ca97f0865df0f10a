// What the smtp client's unit tests (smtp_session_test, smtp_cache_test)
// share: a scripted SMTP/LMTP peer that answers each command line by its
// verb and records everything it reads, the client settings with short
// timeouts, and one conversation between the two over a socketpair with
// the peer in a thread of its own. Either side may write after the other
// has gone: SIGPIPE is ignored, as the daemon does.
#pragma once

#include "daemon/smtp/smtp_settings.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <csignal>
#include <map>
#include <string>
#include <thread>

namespace pf::smtp_agent {

struct ScriptedPeer {
    std::string greeting = "220 test ESMTP";  // empty: none (a resumed session)
    std::string ehlo = "250-test\r\n250-PIPELINING\r\n250-SIZE 1000\r\n250-8BITMIME\r\n250 DSN";
    // By verb ("EHLO", "DATA", "RSET", ...) or "RCPT:<local-part>".
    std::map<std::string, std::string> replies;
    std::string rcpt = "250 2.1.5 Ok";   // RCPT without an entry in replies
    std::string dot = "250 2.0.0 queued";
    bool close_after_greeting = false;
    std::string received;

    void run(int fd) {
        auto say = [&](const std::string& s) { (void)!::write(fd, (s + "\r\n").data(), s.size() + 2); };
        if (!greeting.empty()) say(greeting);
        if (close_after_greeting) return;
        std::string buf;
        bool in_data = false;
        char c;
        while (::read(fd, &c, 1) == 1) {
            buf += c;
            if (c != '\n') continue;
            received += buf;
            std::string line = buf.substr(0, buf.size() - 2);
            buf.clear();
            if (in_data) {
                if (line == ".") {
                    in_data = false;
                    say(dot);
                }
                continue;
            }
            std::string verb = line.substr(0, 4);
            if (verb == "EHLO" || verb == "LHLO") say(replies.count(verb) ? replies[verb] : ehlo);
            else if (verb == "RCPT") {
                std::string local = line.substr(9, line.find('@') - 9);
                say(replies.count("RCPT:" + local) ? replies["RCPT:" + local] : rcpt);
            } else if (verb == "DATA") {
                std::string r = replies.count(verb) ? replies[verb] : "354 go";
                say(r);
                in_data = r[0] == '3';
            } else if (verb == "QUIT") {
                say("221 bye");
                return;
            } else say(replies.count(verb) ? replies[verb] : "250 Ok");
        }
    }
};

inline SmtpSettings test_settings() {
    SmtpSettings s;
    s.helo_name = "client.example";
    s.helo_timeout = s.mail_timeout = s.rcpt_timeout = s.data_init_timeout = s.data_done_timeout = 5;
    s.data_xfer_timeout = s.quit_timeout = s.rset_timeout = 5;
    return s;
}

// Runs client(fd) against peer, then closes the client's end and waits
// for the peer to finish.
template <typename Client>
void converse_with(ScriptedPeer& peer, Client client) {
    std::signal(SIGPIPE, SIG_IGN);
    int sv[2];
    EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    std::thread server([&] {
        peer.run(sv[1]);
        ::close(sv[1]);
    });
    client(sv[0]);
    ::shutdown(sv[0], SHUT_RDWR);
    server.join();
    ::close(sv[0]);
}

}  // namespace pf::smtp_agent
