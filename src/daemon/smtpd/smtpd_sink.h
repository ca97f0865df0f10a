// Where smtpd puts a message it receives: the cleanup service (the normal
// case, under master), or, for the stand-alone server that sendmail -bs
// runs for an ordinary user (no master, no right to talk to cleanup), the
// postdrop(1) command, which writes the maildrop file that pickup later
// reads. This reproduces the reference's smtpd, which pipes the records of
// a stand-alone session through "$command_directory/postdrop [-v]".
//
// The postdrop conversation is the one sendmail(1) has with it
// (ipc/postdrop_protocol.h): postdrop announces {protocol, queue_id}, takes
// the record stream (E last) on its stdin, answers {status, reason} and
// exits. Closing its stdin without an E record makes it remove the file.
// postdrop is started with execve (no shell), with the export_environment
// variables only, and inherits smtpd's stderr (where its own warnings go,
// as with the reference).
//
// Trust: postdrop is our own set-gid program; its answers are still read
// with bounded lengths, and anything malformed counts as a write error.
#pragma once

#include "ipc/cleanup_client.h"

#include <sys/types.h>

#include <cstdio>
#include <expected>
#include <memory>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace pf::smtpd {

class PostdropClient {
public:
    // Starts argv[0] (an absolute path) with env as its environment and
    // reads its greeting. Error: why it could not be started (the command
    // has then been waited for; a non-zero exit is logged as the
    // reference logs it).
    static std::expected<PostdropClient, std::string> open(const std::vector<std::string>& argv,
                                                           const std::vector<std::string>& env);

    PostdropClient(PostdropClient&& other) noexcept;
    PostdropClient& operator=(PostdropClient&& other) noexcept;
    PostdropClient(const PostdropClient&) = delete;
    PostdropClient& operator=(const PostdropClient&) = delete;
    // Without finish(): postdrop's stdin is closed before E (it removes
    // its file) and the process is waited for.
    ~PostdropClient();

    const std::string& queue_id() const { return queue_id_; }
    std::expected<void, std::string> write(char type, std::string_view data);
    std::expected<void, std::string> write_attr(std::string_view name, std::string_view value);
    // After E: postdrop's verdict (a malformed or missing one is a write
    // error, as the reference counts it).
    std::expected<ipc::CleanupReply, std::string> finish();

private:
    PostdropClient() = default;
    void close_and_wait() noexcept;

    pid_t pid_ = -1;
    std::FILE* to_ = nullptr;     // postdrop's stdin
    std::FILE* from_ = nullptr;   // postdrop's stdout
    std::string command_;         // for the log
    std::string queue_id_;
    bool failed_ = false;         // a write failed: sticky
};

// The message stream of one transaction, whichever the destination.
class MessageSink {
public:
    explicit MessageSink(ipc::CleanupClient client) : impl_(std::move(client)) {}
    explicit MessageSink(PostdropClient client) : impl_(std::move(client)) {}

    const std::string& queue_id() const;
    std::expected<void, std::string> write(char type, std::string_view data);
    std::expected<void, std::string> write_attr(std::string_view name, std::string_view value);
    std::expected<ipc::CleanupReply, std::string> finish();
    // The cleanup connection, or nullptr for postdrop.
    ipc::CleanupClient* cleanup() { return std::get_if<ipc::CleanupClient>(&impl_); }

private:
    std::variant<ipc::CleanupClient, PostdropClient> impl_;
};

}  // namespace pf::smtpd
