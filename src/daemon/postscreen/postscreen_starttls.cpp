// postscreen(8)'s STARTTLS: puts tlsproxy(8) between the built-in SMTP
// engine and the remote client, as the reference does. The request (see
// ipc/tlsproxy_protocol.h) goes out at once; when tlsproxy
// says TLS is available the client's descriptor follows, the client gets
// "220 2.0.0 Ready to start TLS", and the session's descriptor becomes
// the plaintext end of the tlsproxy connection (the direct one is
// closed): the dummy dialogue goes on over it. Every failure before that
// point is answered "454 4.7.0 TLS not available due to local problem"
// with the reference's warning ("connect to private/tlsproxy service:
// ...", "timeout receiving status from private/tlsproxy service", "problem
// sending file handle to ..."), and the dialogue goes on in plaintext.
// The engine's command reading is suspended meanwhile (Session::suspended).
//
// Trust: tlsproxy is ours; its status message is still parsed as
// ipc/attr.h does, with its size limits. Nothing from the client is read here.
#include "daemon/postscreen/postscreen_state.h"
#include "ipc/tlsproxy_protocol.h"

#include "ipc/attr.h"
#include "ipc/fd_passing.h"
#include "ipc/service_client.h"
#include "util/msg.h"

#include <fcntl.h>
#include <unistd.h>

namespace pf::postscreen {

namespace {

constexpr const char kNotAvailable[] = "454 4.7.0 TLS not available due to local problem\r\n";

// One resume callback per session in progress, by session id (a plain
// function pointer cannot carry it through the timer callbacks).
std::map<int, void (*)(Session&)>& resumers() {
    static std::map<int, void (*)(Session&)> m;
    return m;
}

void finish(Session& s) {
    s.suspended = false;
    if (s.tlsproxy_fd >= 0) {
        loop().unwatch_fd(s.tlsproxy_fd);
        ::close(s.tlsproxy_fd);
        s.tlsproxy_fd = -1;
    }
    s.tlsproxy_buf.clear();
    auto it = resumers().find(s.id);
    if (it == resumers().end()) return;
    void (*resume)(Session&) = it->second;
    resumers().erase(it);
    resume(s);
}

void fail(Session& s) {
    clear_events(s);
    // A client gone meanwhile is noticed when the engine reads again.
    (void)send_reply(s, kNotAvailable);
    finish(s);
}

void status_timeout(Session& s) {
    util::msg_warn("timeout receiving status from {} service", settings().tlsproxy_service);
    fail(s);
}

// The fail path of the first step, once the current command is over.
void deferred_fail(Session& s) { fail(s); }

void status_event(Session& s) {
    clear_events(s);
    loop().unwatch_fd(s.tlsproxy_fd);
    auto reply = ipc::receive_attrs(s.tlsproxy_fd, s.tlsproxy_buf, 1);
    auto status = reply ? reply->get_number(tlsproxy::kAttrStatus) : std::nullopt;
    if (!status || *status != 1) {
        util::msg_warn("problem receiving status from {} service", settings().tlsproxy_service);
        fail(s);
        return;
    }
    if (!ipc::send_fd(s.tlsproxy_fd, s.fd, 1)) {
        util::msg_warn("problem sending file handle to {} service", settings().tlsproxy_service);
        fail(s);
        return;
    }
    (void)send_reply(s, "220 2.0.0 Ready to start TLS\r\n");
    // From here on tlsproxy talks to the client; we talk plaintext to it.
    ::close(s.fd);
    s.fd = s.tlsproxy_fd;
    s.tlsproxy_fd = -1;
    int fl = ::fcntl(s.fd, F_GETFL);
    if (fl >= 0) (void)::fcntl(s.fd, F_SETFL, fl | O_NONBLOCK);
    s.send_buf.clear();
    s.inbuf.clear();
    s.flags |= kUsingTls;
    finish(s);
}

}  // namespace

void starttls_open(Session& s, void (*resume)(Session&)) {
    const Settings& st = settings();
    clear_events(s);
    s.suspended = true;
    resumers()[s.id] = resume;
    auto conn = ipc::connect_unix(st.tlsproxy_service, 1, false);
    if (!conn) {
        util::msg_warn("connect to {} service: {}", st.tlsproxy_service, conn.error());
        set_timer_ms(s, 0, deferred_fail);
        return;
    }
    s.tlsproxy_fd = ::fcntl(conn->fd(), F_DUPFD_CLOEXEC, 3);
    if (s.tlsproxy_fd < 0) {
        util::msg_warn("connect to {} service: cannot duplicate descriptor", st.tlsproxy_service);
        set_timer_ms(s, 0, deferred_fail);
        return;
    }
    tlsproxy::Request request;
    request.endpoint = "[" + s.addr + "]:" + s.port;
    request.flags = tlsproxy::kRoleServer;
    request.handshake_timeout = st.command_time_limit;
    request.session_timeout = st.command_time_limit;
    request.server_id = "smtpd";
    if (!ipc::send_attrs(s.tlsproxy_fd, tlsproxy::encode_request(request), 1)) {
        util::msg_warn("error sending request to {} service", st.tlsproxy_service);
        set_timer_ms(s, 0, deferred_fail);
        return;
    }
    loop().watch_fd(s.tlsproxy_fd, [id = s.id] {
        if (Session* p = find_session(id)) status_event(*p);
    });
    set_timer(s, tlsproxy::kInitTimeout, status_timeout);
}

void starttls_forget(Session& s) {
    if (s.tlsproxy_fd >= 0) {
        loop().unwatch_fd(s.tlsproxy_fd);
        ::close(s.tlsproxy_fd);
        s.tlsproxy_fd = -1;
    }
    resumers().erase(s.id);
}

}  // namespace pf::postscreen
