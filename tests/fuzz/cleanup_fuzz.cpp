// Fuzz harness: one message through cleanup's session (the envelope
// checks, the header parser with its folding and size limits, the MIME
// state, the strict MIME checks, SMTPUTF8 detection, masquerading with
// exceptions, header/body checks with every action, the extracted section), as
// src/daemon/cleanup does it for a client. The first byte picks the client
// flags and the input form: either raw records (the bytes are the client's
// record stream, framed as on the socket) or a message text (a fixed
// envelope, then the bytes as content lines, long lines split into 'L'
// continuation records as sendmail and pickup do). The queue file goes to
// memory; the size record must keep its fixed width when it is rewritten.
#include "fuzz_support.h"

#include "daemon/cleanup/cleanup_session.h"
#include "ipc/services.h"
#include "queue/record.h"

// cleanup's sources, except the one with main().
#include "daemon/cleanup/cleanup_addr.cpp"
#include "daemon/cleanup/cleanup_bounce.cpp"
#include "daemon/cleanup/cleanup_envelope.cpp"
#include "daemon/cleanup/cleanup_extracted.cpp"
#include "daemon/cleanup/cleanup_message.cpp"
#include "daemon/cleanup/cleanup_out.cpp"
#include "daemon/cleanup/cleanup_settings.cpp"

#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

namespace {

namespace rec = pf::queue::rec;

struct MemorySink : pf::cleanup::QueueSink {
    long size = 0;
    std::size_t first_length = 0;
    char first_type = 0;
    bool write(char type, std::string_view data) override {
        if (size == 0) first_type = type, first_length = data.size();
        size += static_cast<long>(pf::queue::encode_record(type, data).size());
        return true;
    }
    long offset() override { return size; }
    // The size record is rewritten in place: same type, same length.
    bool rewrite_first(char type, std::string_view data) override {
        if (type != first_type || data.size() != first_length) __builtin_trap();
        return true;
    }
};

// A table file written once per process, removed at exit.
std::string table_file(const char* text) {
    char name[] = "/tmp/pf-cleanup-fuzz-XXXXXX";
    int fd = ::mkstemp(name);
    if (fd < 0) std::abort();
    std::string_view t(text);
    if (::write(fd, t.data(), t.size()) != static_cast<ssize_t>(t.size())) std::abort();
    ::close(fd);
    static std::vector<std::string> made;
    if (made.empty()) std::atexit([] {
        for (const auto& p : made) ::unlink(p.c_str());
    });
    made.emplace_back(name);
    return name;
}

pf::mail::Maps open_table(const char* title, const char* text) {
    auto maps = pf::mail::Maps::open(title, "regexp:" + table_file(text), 0);
    if (!maps) std::abort();
    return std::move(*maps);
}

const pf::cleanup::CleanupSettings& settings() {
    static std::unique_ptr<pf::cleanup::CleanupSettings> s = [] {
        auto p = std::make_unique<pf::cleanup::CleanupSettings>();
        p->myhostname = "mail.example.com";
        p->myorigin = "example.com";
        p->recipient_delimiter = "+";
        p->line_length_limit = 100;
        p->header_size_limit = 1000;
        p->message_size_limit = 20000;
        p->body_checks_size_limit = 2000;
        p->duplicate_filter_limit = 10;
        p->attribute_count_limit = 10;
        p->strict_7bit_headers = p->strict_8bitmime_body = p->strict_mime_encoding_domain = true;
        p->empty_address_recipient = "MAILER-DAEMON";
        p->masquerade.emplace("sub.example.com, !keep.example.com, example.com", nullptr);
        p->masquerade_exceptions.emplace("masquerade_exceptions", "carol, !dave, root", pf::mail::DomainList::Style::exact,
                                         false);
        p->masquerade_classes |= pf::cleanup::kEnvRcpt;
        p->header_checks = open_table("header_checks",
                                      "/^Subject:.*reject/ REJECT no thanks\n"
                                      "/^Subject:.*hold/ HOLD held\n"
                                      "/^Subject:.*discard/ DISCARD\n"
                                      "/^X-Prepend:/ PREPEND X-Added: yes\n"
                                      "/^X-Replace: (.*)/ REPLACE X-Replaced: $1\n"
                                      "/^X-Ignore:/ IGNORE\n"
                                      "/^X-Warn:/ WARN warned\n"
                                      "/^X-Redirect:/ REDIRECT carol@example.com\n"
                                      "/^X-Filter:/ FILTER record:nexthop\n"
                                      "/^X-Bcc:/ BCC dave@example.com\n");
        p->any_header_checks = true;
        p->mime_header_checks = open_table("mime_header_checks", "/^Content-Type:.*exe/ REJECT exe\n");
        p->nested_header_checks = open_table("nested_header_checks", "/^Subject:.*inner/ WARN inner\n");
        p->body_checks = open_table("body_checks",
                                    "/reject-me/ REJECT body\n"
                                    "/replace-me/ REPLACE replaced\n"
                                    "/prepend-me/ PREPEND prepended\n"
                                    "/ignore-me/ IGNORE\n");
        return p;
    }();
    return *s;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    pf::fuzz::init_once();
    if (size == 0) return 0;
    const unsigned mode = data[0];
    std::string_view text = pf::fuzz::as_text(data + 1, size - 1);

    MemorySink sink;
    pf::cleanup::CleanupSession session(
        settings(), sink, "4F00A1234B", 1700000000,
        [](std::string_view, std::string_view address) -> std::expected<std::string, std::string> {
            if (address == "fail@example.com") return std::unexpected(std::string("rewrite failed"));
            return std::string(address);
        });
    unsigned flags = pf::ipc::kCleanupBounce | pf::ipc::kCleanupBccOk | pf::ipc::kCleanupMapOk;
    if (mode & 1) flags |= pf::ipc::kCleanupFilter;
    if (mode & 2) flags |= pf::ipc::kCleanupHold;
    if (mode & 32) flags |= pf::ipc::kCleanupAutoUtf8;
    if (mode & 64) flags |= pf::ipc::kCleanupSmtputf8;
    session.set_flags(flags);

    if (mode & 4) {
        // Raw records, as a client sends them.
        std::size_t pos = 0;
        while (pos < text.size()) {
            std::size_t used = 0;
            auto r = pf::queue::decode_record(text.substr(pos), 1 << 16, used);
            if (!r || used == 0) break;
            pos += used;
            session.record(r->type, r->data);
            if (r->type == rec::kEnd) break;
        }
    } else {
        // A fixed envelope, then the bytes as the message text.
        session.record(rec::kTime, "1700000000");
        session.record(rec::kAttr, "rewrite_context=local");
        session.record(rec::kFrom, (mode & 8) ? "" : "alice@example.com");
        session.record(rec::kRcpt, "bob@example.com");
        session.record(rec::kRcpt, "BOB@example.com");
        session.record(rec::kMessage, "");
        while (!text.empty()) {
            std::size_t nl = text.find('\n');
            std::string_view line = text.substr(0, nl);
            text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
            while (line.size() > 200) {
                session.record(rec::kCont, line.substr(0, 200));
                line.remove_prefix(200);
            }
            session.record(nl == std::string_view::npos ? rec::kCont : rec::kNorm, line);
        }
        session.record(rec::kExtracted, "");
        if (mode & 16) session.record(rec::kRcpt, "extracted@example.com");
        session.record(rec::kEnd, "");
    }
    (void)session.finish();
    return 0;
}
