// The message sinks of smtpd: see smtpd_sink.h.
#include "daemon/smtpd/smtpd_sink.h"

#include "ipc/postdrop_protocol.h"
#include "ipc/services.h"
#include "queue/record.h"
#include "util/msg.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <utility>

namespace pf::smtpd {

namespace {

// waitpid, retried after EINTR; the exit status the reference's pclose
// reports (the exit code, or 1 for a signal), -1 when there is no child.
int wait_child(pid_t pid) {
    if (pid < 0) return -1;
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) return -1;
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}

}  // namespace

std::expected<PostdropClient, std::string> PostdropClient::open(const std::vector<std::string>& argv,
                                                                const std::vector<std::string>& env) {
    PostdropClient client;
    for (const auto& a : argv) client.command_ += (client.command_.empty() ? "" : " ") + a;
    int to_child[2], from_child[2];
    if (::pipe2(to_child, O_CLOEXEC) < 0) return std::unexpected(std::string("pipe: ") + std::strerror(errno));
    if (::pipe2(from_child, O_CLOEXEC) < 0) {
        int e = errno;
        ::close(to_child[0]);
        ::close(to_child[1]);
        return std::unexpected(std::string("pipe: ") + std::strerror(e));
    }
    pid_t pid;
    while ((pid = ::fork()) < 0) {
        util::msg_warn("fork: {}", std::strerror(errno));
        ::sleep(10);
    }
    if (pid == 0) {
        // dup2 clears close-on-exec on the copies.
        if (::dup2(to_child[0], 0) < 0 || ::dup2(from_child[1], 1) < 0) util::msg_fatal("dup2: {}", std::strerror(errno));
        std::vector<char*> args, envp;
        for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
        args.push_back(nullptr);
        for (const auto& e : env) envp.push_back(const_cast<char*>(e.c_str()));
        envp.push_back(nullptr);
        ::execve(args[0], args.data(), envp.data());
        util::msg_fatal_throws(false);   // a forked child never returns to the caller
        util::msg_fatal("exec_command: execvp {}: {}", argv.front(), std::strerror(errno));
    }
    ::close(to_child[0]);
    ::close(from_child[1]);
    client.pid_ = pid;
    client.to_ = ::fdopen(to_child[1], "w");
    client.from_ = ::fdopen(from_child[0], "r");
    if (client.to_ == nullptr || client.from_ == nullptr) {
        if (client.to_ == nullptr) ::close(to_child[1]);
        if (client.from_ == nullptr) ::close(from_child[0]);
        return std::unexpected(std::string("fdopen: ") + std::strerror(errno));
    }
    auto hello = ipc::postdrop::read_attrs0(client.from_, 1024);
    auto proto = hello ? ipc::postdrop::find_attr(*hello, "protocol") : std::nullopt;
    auto id = hello ? ipc::postdrop::find_attr(*hello, "queue_id") : std::nullopt;
    if (!proto || *proto != ipc::postdrop::kProtocolName || !id || id->empty()) {
        std::fclose(client.to_);
        client.to_ = nullptr;
        std::fclose(client.from_);
        client.from_ = nullptr;
        int status = wait_child(client.pid_);
        client.pid_ = -1;
        if (status != 0) util::msg_warn("command \"{}\" exited with status {}", client.command_, status);
        return std::unexpected("no queue ID from " + client.command_);
    }
    client.queue_id_ = std::string(*id);
    return client;
}

PostdropClient::PostdropClient(PostdropClient&& other) noexcept
    : pid_(std::exchange(other.pid_, -1)),
      to_(std::exchange(other.to_, nullptr)),
      from_(std::exchange(other.from_, nullptr)),
      command_(std::move(other.command_)),
      queue_id_(std::move(other.queue_id_)),
      failed_(other.failed_) {}

PostdropClient& PostdropClient::operator=(PostdropClient&& other) noexcept {
    if (this != &other) {
        close_and_wait();
        pid_ = std::exchange(other.pid_, -1);
        to_ = std::exchange(other.to_, nullptr);
        from_ = std::exchange(other.from_, nullptr);
        command_ = std::move(other.command_);
        queue_id_ = std::move(other.queue_id_);
        failed_ = other.failed_;
    }
    return *this;
}

PostdropClient::~PostdropClient() { close_and_wait(); }

// The reference's mail_stream_cleanup(): close both pipes (postdrop reads
// the end of its input; without E it removes its file), wait, and warn
// when it did not exit with 0.
void PostdropClient::close_and_wait() noexcept {
    if (to_) std::fclose(to_);
    to_ = nullptr;
    if (from_) std::fclose(from_);
    from_ = nullptr;
    if (pid_ >= 0) {
        int status = wait_child(pid_);
        pid_ = -1;
        if (status != 0) util::msg_warn("mail_stream_cleanup: close error");
    }
}

std::expected<void, std::string> PostdropClient::write(char type, std::string_view data) {
    if (failed_ || to_ == nullptr) return std::unexpected(std::string("postdrop write error"));
    if (!queue::write_record(to_, type, data)) {
        failed_ = true;
        return std::unexpected(std::string("postdrop write error: ") + std::strerror(errno));
    }
    return {};
}

std::expected<void, std::string> PostdropClient::write_attr(std::string_view name, std::string_view value) {
    std::string text;
    text.reserve(name.size() + 1 + value.size());
    text.append(name).append("=").append(value);
    return write(queue::rec::kAttr, text);
}

std::expected<ipc::CleanupReply, std::string> PostdropClient::finish() {
    ipc::CleanupReply reply{ipc::kCleanupStatWrite, {}};
    if (!failed_ && to_ != nullptr && std::fflush(to_) == 0) {
        if (auto done = ipc::postdrop::read_attrs0(from_, 4096)) {
            auto status = ipc::postdrop::find_attr(*done, "status");
            auto reason = ipc::postdrop::find_attr(*done, "reason");
            if (status && reason && !status->empty() &&
                status->find_first_not_of("0123456789") == std::string_view::npos && status->size() < 10) {
                reply.status = static_cast<unsigned>(std::strtoul(std::string(*status).c_str(), nullptr, 10));
                reply.reason = std::string(*reason);
            }
        }
    }
    close_and_wait();
    return reply;
}

const std::string& MessageSink::queue_id() const {
    return std::visit([](const auto& sink) -> const std::string& { return sink.queue_id(); }, impl_);
}

std::expected<void, std::string> MessageSink::write(char type, std::string_view data) {
    return std::visit([&](auto& sink) { return sink.write(type, data); }, impl_);
}

std::expected<void, std::string> MessageSink::write_attr(std::string_view name, std::string_view value) {
    return std::visit([&](auto& sink) { return sink.write_attr(name, value); }, impl_);
}

std::expected<ipc::CleanupReply, std::string> MessageSink::finish() {
    return std::visit([](auto& sink) { return sink.finish(); }, impl_);
}

}  // namespace pf::smtpd
