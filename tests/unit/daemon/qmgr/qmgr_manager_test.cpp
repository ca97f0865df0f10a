// End-to-end tests of the queue manager on a private queue directory: queue
// files in incoming/ and deferred/, a fake trivial-rewrite (a function), a
// fake delivery agent on a socket pair served from the same event loop, and
// fake bounce/defer services; the tests check the files' moves and removal
// and the log lines.
#include "daemon/qmgr/qmgr_manager.h"

#include "ipc/attr.h"
#include "ipc/delivery_request.h"
#include "queue/queue_file.h"
#include "util/event_loop.h"

#include "qmgr_test_util.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <map>
#include <string>

namespace pf::qmgr {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

struct AgentBehaviour {
    int status = 0;            // the reply's status
    bool mark_done = true;     // mark the recipients done in the queue file
    std::string dsn_status;    // hop problem
    std::string reason;
    // Recipients starting "nosuch" get a line in the bounce log (as an
    // agent records a non-delivery) before the reply.
    bool bounce_nosuch = false;
};

class Harness {
public:
    test::TempDir dir;
    util::EventLoop loop;
    LoopEvents events{loop};
    QueuePaths paths;
    std::map<std::string, std::string, std::less<>> params;
    std::unique_ptr<QueueManager> manager;
    std::map<std::string, AgentBehaviour> agents;  // transports with an agent
    std::vector<ipc::DeliveryRequest> requests;
    std::vector<std::pair<std::string, std::string>> defer_appends;  // id, address
    std::vector<std::string> notices;                                 // "service request id"
    int trace_status = 0;                                             // the trace service's answer
    // Runs inside the fake bounce/defer/trace service, before it answers.
    std::function<void(std::string_view service, std::string_view request, const Message&)> on_notice;
    std::map<int, std::string> agent_fds;                             // our end -> transport
    std::map<int, std::string> agent_buffers;

    Harness() {
        paths.layout.queue_directory = dir.path.string();
        paths.layout.hashed = {"deferred", "defer"};
        paths.layout.hash_depth = 1;
        for (const char* q : {"incoming", "active", "deferred", "corrupt", "hold", "defer", "bounce"})
            fs::create_directories(dir.path / q);
        params["queue_directory"] = dir.path.string();
    }
    ~Harness() {
        manager.reset();
        for (auto& [fd, t] : agent_fds) {
            loop.unwatch_fd(fd);
            close(fd);
        }
    }

    void start() {
        ParamLookup lookup = [this](std::string_view name) -> std::optional<std::string> {
            auto it = params.find(name);
            if (it == params.end()) return std::nullopt;
            return it->second;
        };
        auto settings = QmgrSettings::from_lookup(lookup);
        ManagerHooks hooks;
        hooks.resolve = [](std::string_view, std::string_view address) -> std::expected<ipc::ResolveReply, std::string> {
            ipc::ResolveReply r;
            std::string a(address);
            auto at = a.rfind('@');
            std::string domain = at == std::string::npos ? "localhost" : a.substr(at + 1);
            r.transport = domain.starts_with("missing") ? "missing" : "fake";
            r.nexthop = domain;
            r.recipient = a;
            return r;
        };
        hooks.connect_agent = [this](std::string_view transport) -> std::expected<ipc::ServiceConnection, std::string> {
            if (!agents.contains(std::string(transport))) return std::unexpected(std::string("No such file or directory"));
            int sv[2];
            if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) return std::unexpected(std::string("socketpair"));
            int agent_fd = sv[1];
            agent_fds[agent_fd] = std::string(transport);
            (void)ipc::send_attrs(agent_fd, ipc::delivery_greeting(), 5);
            loop.watch_fd(agent_fd, [this, agent_fd] { serve_agent(agent_fd); });
            return ipc::ServiceConnection(sv[0]);
        };
        hooks.defer_append = [this](const std::string& id, const EnvelopeRecipient& r,
                                    const Dsn&) -> std::expected<void, std::string> {
            defer_appends.emplace_back(id, r.address);
            return {};
        };
        hooks.notice = [this](std::string_view service, std::string_view request, const Message& m) {
            notices.push_back(fmt::format("{} {} {}", service, request, m.queue_id));
            if (on_notice) on_notice(service, request, m);
            return request == "trace" ? trace_status : 0;
        };
        manager = std::make_unique<QueueManager>(settings, lookup, paths, events, std::move(hooks));
        manager->start();
    }

    void serve_agent(int fd) {
        char buf[8192];
        ssize_t n = read(fd, buf, sizeof buf);
        if (n <= 0) {
            loop.unwatch_fd(fd);
            close(fd);
            agent_fds.erase(fd);
            return;
        }
        std::string& buffer = agent_buffers[fd];
        buffer.append(buf, static_cast<std::size_t>(n));
        std::size_t used = 0;
        auto attrs = ipc::decode_attrs(buffer, used);
        if (!attrs) return;
        buffer.erase(0, used);
        auto request = ipc::delivery_request_from_attrs(*attrs);
        ASSERT_TRUE(request.has_value()) << request.error();
        requests.push_back(*request);
        const AgentBehaviour& b = agents[agent_fds[fd]];
        if (b.mark_done) {
            std::string path = paths.path(request->queue_name, request->queue_id);
            int qfd = ::open(path.c_str(), O_RDWR);
            ASSERT_GE(qfd, 0) << path;
            for (const auto& r : request->recipients) ASSERT_TRUE(queue::mark_record(qfd, r.offset, 'D', false));
            close(qfd);
        }
        if (b.bounce_nosuch) {
            for (const auto& r : request->recipients) {
                if (!r.address.starts_with("nosuch")) continue;
                std::ofstream log(paths.path("bounce", request->queue_id), std::ios::app);
                log << "recipient=" << r.address << "\nstatus=5.1.1\n\n";
            }
        }
        ipc::DeliveryReply reply;
        reply.status = b.status;
        reply.dsn_status = b.dsn_status;
        reply.reason = b.reason;
        (void)ipc::send_attrs(fd, ipc::to_attrs(reply), 5);
    }

    template <typename Pred>
    bool run_until(Pred pred, std::chrono::milliseconds limit = 5000ms) {
        auto deadline = std::chrono::steady_clock::now() + limit;
        while (!pred()) {
            if (std::chrono::steady_clock::now() > deadline) return false;
            loop.run_once(20ms);
        }
        return true;
    }

    fs::path queue_path(std::string_view queue, std::string_view id) { return paths.path(queue, id); }

    std::string put(std::string_view queue, std::string id, const test::QueueFileSpec& spec,
                    fs::perms mode = fs::perms::owner_all) {
        test::write_file(queue_path(queue, id), test::build_queue_file(spec), mode);
        return id;
    }
};

test::QueueFileSpec message(std::initializer_list<const char*> rcpts) {
    test::QueueFileSpec spec;
    for (const char* r : rcpts) spec.rcpts.emplace_back(r);
    return spec;
}

TEST(QmgrManager, DeliversAndRemoves) {
    test::LogCapture log;
    Harness h;
    h.agents["fake"] = {};
    auto id = h.put("incoming", "4A1B2C3D4E", message({"a@example.com", "b@example.com"}));
    h.start();
    ASSERT_TRUE(h.run_until([&] { return log.has(id + ": removed"); })) << log.all();
    EXPECT_FALSE(fs::exists(h.queue_path("incoming", id)));
    EXPECT_FALSE(fs::exists(h.queue_path("active", id)));
    ASSERT_EQ(h.requests.size(), 1u);
    const auto& r = h.requests[0];
    EXPECT_EQ(r.queue_name, "active");
    EXPECT_EQ(r.queue_id, id);
    EXPECT_EQ(r.sender, "sender@example.com");
    EXPECT_EQ(r.nexthop, "example.com");
    ASSERT_EQ(r.recipients.size(), 2u);
    EXPECT_EQ(r.recipients[0].address, "a@example.com");
    EXPECT_GT(r.data_offset, 0);
    EXPECT_TRUE(r.times.active_arrival.is_set());
    EXPECT_TRUE(log.has(id + ": from=<sender@example.com>, size=")) << log.all();
    EXPECT_TRUE(log.has(", nrcpt=2 (queue active)")) << log.all();
    EXPECT_EQ(h.manager->message_count(), 0u);
}

// With the pool directory (queue/queue_file_pool.h), a delivered message's
// file goes there emptied instead of being removed; the log is the same.
TEST(QmgrManager, DeliveredFileGoesIntoThePoolEmptied) {
    test::LogCapture log;
    Harness h;
    fs::create_directories(h.dir.path / "recycle");
    h.agents["fake"] = {};
    auto id = h.put("incoming", "4A1B2C3D4F", message({"a@example.com"}));
    h.start();
    ASSERT_TRUE(h.run_until([&] { return log.has(id + ": removed"); })) << log.all();
    EXPECT_FALSE(fs::exists(h.queue_path("active", id)));
    const fs::path pooled = h.dir.path / "recycle" / id;
    ASSERT_TRUE(fs::exists(pooled));
    // Never ready again; its content zeros (blocks kept) or nothing.
    EXPECT_EQ(fs::status(pooled).permissions(), fs::perms::owner_read | fs::perms::owner_write);
    std::ifstream in(pooled, std::ios::binary);
    std::string left((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    EXPECT_EQ(left.find_first_not_of('\0'), std::string::npos);
}

TEST(QmgrManager, QueueFileWriterFileIsDelivered) {
    test::LogCapture log;
    Harness h;
    h.agents["fake"] = {};
    auto writer = queue::QueueFileWriter::create(h.paths.layout, "incoming");
    ASSERT_TRUE(writer.has_value()) << writer.error();
    std::string data = test::build_queue_file(message({"x@example.net"}));
    std::fwrite(data.data(), 1, data.size(), writer->stream());
    ASSERT_TRUE(writer->commit());
    std::string id = writer->id();
    h.start();
    ASSERT_TRUE(h.run_until([&] { return log.has(id + ": removed"); })) << log.all();
}

TEST(QmgrManager, AgentDeferralMovesToDeferredWithBackoff) {
    test::LogCapture log;
    Harness h;
    h.agents["fake"] = AgentBehaviour{1, false, "", ""};
    h.params["minimal_backoff_time"] = "300s";
    auto id = h.put("incoming", "5B1B2C3D4E", message({"a@example.com"}));
    h.start();
    auto deferred = h.queue_path("deferred", id);
    ASSERT_TRUE(h.run_until([&] { return fs::exists(deferred); })) << log.all();
    struct stat st;
    ASSERT_EQ(stat(deferred.c_str(), &st), 0);
    long delay = static_cast<long>(st.st_mtime - std::time(nullptr));
    EXPECT_GE(delay, 298);
    EXPECT_LE(delay, 301);
    EXPECT_FALSE(log.has(": removed"));
    EXPECT_EQ(deferred.parent_path().filename(), "5");  // hashed
}

TEST(QmgrManager, UnreachableTransportDefersWithReferenceLog) {
    test::LogCapture log;
    Harness h;  // no agent for "missing", nor for "retry"
    auto id = h.put("incoming", "6C1B2C3D4E", message({"u@missing.example"}));
    h.start();
    ASSERT_TRUE(h.run_until([&] { return fs::exists(h.queue_path("deferred", id)); })) << log.all();
    EXPECT_TRUE(log.has("warning: connect to transport private/missing: No such file or directory")) << log.all();
    EXPECT_TRUE(log.has("warning: connect to transport private/retry: No such file or directory")) << log.all();
    bool found = false;
    for (const auto& line : log.lines) {
        if (line.starts_with(id + ": to=<u@missing.example>, relay=none, delay=") &&
            line.find(", delays=") != std::string::npos &&
            line.ends_with(", dsn=4.3.0, status=deferred (mail transport unavailable)"))
            found = true;
    }
    EXPECT_TRUE(found) << log.all();
    ASSERT_EQ(h.defer_appends.size(), 1u);
    EXPECT_EQ(h.defer_appends[0].second, "u@missing.example");
}

TEST(QmgrManager, UnreachableTransportGoesThroughRetryAgent) {
    test::LogCapture log;
    Harness h;
    h.agents["retry"] = AgentBehaviour{1, false, "", ""};
    auto id = h.put("incoming", "6D1B2C3D4E", message({"u@missing.example"}));
    h.start();
    ASSERT_TRUE(h.run_until([&] { return fs::exists(h.queue_path("deferred", id)); })) << log.all();
    ASSERT_EQ(h.requests.size(), 1u);
    EXPECT_EQ(h.requests[0].nexthop, "4.3.0 mail transport unavailable");
    EXPECT_TRUE(h.defer_appends.empty());
}

TEST(QmgrManager, CorruptFileIsSaved) {
    test::LogCapture log;
    Harness h;
    h.agents["fake"] = {};
    auto spec = message({"a@example.com"});
    spec.omit_end = true;
    auto id = h.put("incoming", "7D1B2C3D4E", spec);
    h.start();
    ASSERT_TRUE(h.run_until([&] { return fs::exists(h.queue_path("corrupt", id)); })) << log.all();
    EXPECT_TRUE(log.has("warning: " + id + ": message rejected: missing end record")) << log.all();
    EXPECT_TRUE(log.has("warning: saving corrupt file \"" + id + "\" from queue \"active\" to queue \"corrupt\""))
        << log.all();
}

TEST(QmgrManager, SkipsUnreadyBadNamesAndHold) {
    test::LogCapture log;
    Harness h;
    h.agents["fake"] = {};
    auto writing = h.put("incoming", "8E1B2C3D4E", message({"a@example.com"}), fs::perms::owner_read | fs::perms::owner_write);
    test::write_file(h.dir.path / "incoming" / "bad.name", test::build_queue_file(message({"a@example.com"})));
    auto held = h.put("hold", "8F1B2C3D4E", message({"a@example.com"}));
    auto good = h.put("incoming", "8A1B2C3D4E", message({"a@example.com"}));
    h.start();
    ASSERT_TRUE(h.run_until([&] { return log.has(good + ": removed"); })) << log.all();
    h.manager->trigger("I");
    h.run_until([] { return false; }, 200ms);
    EXPECT_TRUE(fs::exists(h.queue_path("incoming", writing)));
    EXPECT_TRUE(fs::exists(h.dir.path / "incoming" / "bad.name"));
    EXPECT_TRUE(fs::exists(h.queue_path("hold", held)));
    EXPECT_EQ(h.requests.size(), 1u);
}

TEST(QmgrManager, DeferredScanHonoursTimeStampsUnlessFlushed) {
    test::LogCapture log;
    Harness h;
    h.agents["fake"] = {};
    auto later = h.put("deferred", "9A1B2C3D4E", message({"a@example.com"}));
    auto due = h.put("deferred", "9B1B2C3D4E", message({"b@example.com"}));
    auto future = std::chrono::system_clock::now() + std::chrono::hours(1);
    auto later_path = h.queue_path("deferred", later);
    struct timespec ts[2];
    ts[0].tv_sec = ts[1].tv_sec = std::chrono::system_clock::to_time_t(future);
    ts[0].tv_nsec = ts[1].tv_nsec = 0;
    ASSERT_EQ(utimensat(AT_FDCWD, later_path.c_str(), ts, 0), 0);
    h.start();
    ASSERT_TRUE(h.run_until([&] { return log.has(due + ": removed"); })) << log.all();
    h.run_until([] { return false; }, 200ms);
    EXPECT_TRUE(fs::exists(later_path));
    h.manager->trigger("FAD");  // postqueue -f
    ASSERT_TRUE(h.run_until([&] { return log.has(later + ": removed"); })) << log.all();
}

TEST(QmgrManager, ExpiredMessageIsReturned) {
    test::LogCapture log;
    Harness h;
    h.agents["fake"] = AgentBehaviour{1, false, "", ""};
    h.params["maximal_queue_lifetime"] = "1d";
    auto spec = message({"a@example.com"});
    spec.arrival = static_cast<long>(std::time(nullptr)) - 2 * 86400;
    auto id = h.put("incoming", "AA1B2C3D4E", spec);
    h.start();
    ASSERT_TRUE(h.run_until([&] { return log.has(id + ": removed"); })) << log.all();
    EXPECT_TRUE(log.has(id + ": from=<sender@example.com>, status=expired, returned to sender")) << log.all();
    ASSERT_EQ(h.notices.size(), 1u);
    EXPECT_EQ(h.notices[0], "defer flush " + id);
}

TEST(QmgrManager, DelayWarningMarksRecord) {
    test::LogCapture log;
    Harness h;
    h.agents["fake"] = AgentBehaviour{1, false, "", ""};
    auto spec = message({"a@example.com"});
    spec.warn_time = static_cast<long>(std::time(nullptr)) - 10;
    auto id = h.put("incoming", "AB1B2C3D4E", spec);
    h.start();
    auto deferred = h.queue_path("deferred", id);
    ASSERT_TRUE(h.run_until([&] { return fs::exists(deferred); })) << log.all();
    ASSERT_EQ(h.notices.size(), 1u);
    EXPECT_EQ(h.notices[0], "defer warn " + id);
    std::ifstream in(deferred, std::ios::binary);
    std::string data((std::istreambuf_iterator<char>(in)), {});
    EXPECT_NE(data.find(std::string("W\x0f") + fmt::format("{:15}", -1)), std::string::npos);
}

TEST(QmgrManager, LeftoversInActiveAreRequeued) {
    test::LogCapture log;
    Harness h;
    h.agents["fake"] = {};
    auto id = h.put("active", "AC1B2C3D4E", message({"a@example.com"}));
    h.start();
    ASSERT_TRUE(h.run_until([&] { return log.has(id + ": removed"); })) << log.all();
}

TEST(QmgrManager, RecipientLimitSplitsRequests) {
    test::LogCapture log;
    Harness h;
    h.agents["fake"] = {};
    h.params["fake_destination_recipient_limit"] = "2";
    auto id = h.put("incoming", "AD1B2C3D4E", message({"a@x.com", "b@x.com", "c@x.com", "d@y.com"}));
    h.start();
    ASSERT_TRUE(h.run_until([&] { return log.has(id + ": removed"); })) << log.all();
    EXPECT_EQ(h.requests.size(), 3u);
}

TEST(QmgrManager, AgentSayingOkWithoutMarkingIsNotTrusted) {
    // Safety net beyond the reference: recipients left undone keep the file.
    test::LogCapture log;
    Harness h;
    h.agents["fake"] = AgentBehaviour{0, false, "", ""};
    auto id = h.put("incoming", "AE1B2C3D4E", message({"a@example.com"}));
    h.start();
    ASSERT_TRUE(h.run_until([&] { return fs::exists(h.queue_path("deferred", id)); })) << log.all();
}

TEST(QmgrManager, SendmailVerboseAsksForTraceReportAndKillsFlag) {
    // sendmail -v: after the delivery attempt the trace service mails the
    // report; the trace_flags record is then killed so that a retry of a
    // deferred message does not report again.
    test::LogCapture log;
    Harness h;
    h.agents["fake"] = AgentBehaviour{1, false, "", ""};
    auto spec = message({"a@example.com"});
    spec.attrs.push_back("trace_flags=1024");
    auto id = h.put("incoming", "AF1B2C3D4E", spec);
    h.start();
    auto deferred = h.queue_path("deferred", id);
    ASSERT_TRUE(h.run_until([&] { return fs::exists(deferred); })) << log.all();
    ASSERT_EQ(h.notices.size(), 1u);
    EXPECT_EQ(h.notices[0], "trace trace " + id);
    ASSERT_EQ(h.requests.size(), 1u);
    EXPECT_EQ(h.requests[0].flags & ipc::kDeliveryRecord, ipc::kDeliveryRecord);
    std::ifstream in(deferred, std::ios::binary);
    std::string data((std::istreambuf_iterator<char>(in)), {});
    EXPECT_NE(data.find(std::string("K\x10trace_flags=1024")), std::string::npos);
    EXPECT_EQ(data.find(std::string("A\x10trace_flags=1024")), std::string::npos);
}

TEST(QmgrManager, AddressProbeAsksForTraceReportAndKeepsFlag) {
    // sendmail -bv: the agents only record; the report is asked for and the
    // message removed. The trace_flags record is not killed (not -v).
    test::LogCapture log;
    Harness h;
    h.agents["fake"] = {};
    auto spec = message({"a@example.com", "b@example.com"});
    spec.attrs.push_back("trace_flags=512");
    auto id = h.put("incoming", "B01B2C3D4E", spec);
    h.start();
    ASSERT_TRUE(h.run_until([&] { return log.has(id + ": removed"); })) << log.all();
    ASSERT_EQ(h.notices.size(), 1u);
    EXPECT_EQ(h.notices[0], "trace trace " + id);
    ASSERT_EQ(h.requests.size(), 1u);
    EXPECT_EQ(h.requests[0].flags & ipc::kDeliveryUserVerify, ipc::kDeliveryUserVerify);
}

TEST(QmgrManager, FailedTraceReportDefersMessage) {
    test::LogCapture log;
    Harness h;
    h.agents["fake"] = {};
    h.trace_status = -1;
    auto spec = message({"a@example.com"});
    spec.attrs.push_back("trace_flags=1024");
    auto id = h.put("incoming", "B11B2C3D4E", spec);
    h.start();
    ASSERT_TRUE(h.run_until([&] { return fs::exists(h.queue_path("deferred", id)); })) << log.all();
    EXPECT_FALSE(log.has(id + ": removed"));
}

TEST(QmgrManager, NoTraceReportWithoutTraceFlags) {
    test::LogCapture log;
    Harness h;
    h.agents["fake"] = {};
    auto id = h.put("incoming", "B21B2C3D4E", message({"a@example.com"}));
    h.start();
    ASSERT_TRUE(h.run_until([&] { return log.has(id + ": removed"); })) << log.all();
    EXPECT_TRUE(h.notices.empty());
}

TEST(QmgrManager, NonDeliveryNoticeIsActiveBeforeTraceReportIsAskedFor) {
    // One message gives both a non-delivery notice (its bounce log) and a
    // sendmail -v report. The reference asks for the report only once the
    // bounce service has answered, and by then the notice (queued by
    // cleanup) is in its active queue: the sender gets the notice first.
    test::LogCapture log;
    Harness h;
    h.agents["fake"] = {};
    h.agents["fake"].bounce_nosuch = true;
    auto spec = message({"a@example.com", "nosuch@example.com"});
    spec.attrs.push_back("trace_flags=1024");
    auto id = h.put("incoming", "B31B2C3D4E", spec);
    test::QueueFileSpec notice_spec = message({"sender@example.com"});
    notice_spec.sender = "";
    const std::string notice_id = "B41B2C3D4E", report_id = "B51B2C3D4E";
    bool notice_active_at_trace = false;
    h.on_notice = [&](std::string_view service, std::string_view request, const Message& m) {
        if (m.queue_id != id) return;
        // What cleanup has queued by the time each service answers.
        if (service == "bounce" && request == "flush") h.put("incoming", notice_id, notice_spec);
        if (request == "trace") {
            notice_active_at_trace = fs::exists(h.queue_path("active", notice_id));
            h.put("incoming", report_id, notice_spec);
        }
    };
    h.start();
    ASSERT_TRUE(h.run_until([&] { return log.has(id + ": removed"); })) << log.all();
    h.manager->trigger("I");  // cleanup's wakeup after it queued the report
    ASSERT_TRUE(h.run_until([&] { return log.has(notice_id + ": removed") && log.has(report_id + ": removed"); }))
        << log.all();
    std::vector<std::string> for_message;
    for (const auto& n : h.notices)
        if (n.ends_with(id)) for_message.push_back(n);
    EXPECT_EQ(for_message, (std::vector<std::string>{"bounce flush " + id, "trace trace " + id}));
    EXPECT_TRUE(notice_active_at_trace);
    // Delivered in that order too (one destination: first come, first served).
    std::vector<std::string> order;
    for (const auto& r : h.requests)
        if (r.queue_id == notice_id || r.queue_id == report_id) order.push_back(r.queue_id);
    EXPECT_EQ(order, (std::vector<std::string>{notice_id, report_id}));
    EXPECT_LT(log.all().find(notice_id + ": from=<>"), log.all().find(report_id + ": from=<>"));
}

}  // namespace
}  // namespace pf::qmgr
