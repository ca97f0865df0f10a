// One message passing through cleanup: the records a client sends (the
// envelope, M, the content, X, the extracted envelope, E) go in one at a
// time; a queue file in the reference's record layout comes out:
//   C  size record, fixed-width fields, filled in by finish()
//   T  arrival time, A create_time=<now>, F, S (rewritten sender),
//   A  attributes, [A dsn_notify, A dsn_orig_rcpt,] O, R per recipient
//      (canonical, masquerading, virtual alias expansion, duplicates
//      dropped), M, the content with headers added/rewritten/dropped and
//      header/body checks applied, X, A encoding, FILTER/REDIRECT records,
//      extracted recipients, automatic BCC recipients, E.
// The header/body part is cleanup_message.cpp, addresses cleanup_addr.cpp.
//
// Trust: the records come from a local client (pickup, smtpd...), whose
// content is outside input: every record type, attribute and header is
// checked, memory is bounded by header_size_limit per header.
#pragma once

#include "daemon/cleanup/cleanup_settings.h"
#include "ipc/bounce_client.h"
#include "ipc/deliver_completion.h"
#include "ipc/delivery_request.h"

#include <cstdint>
#include <ctime>
#include <expected>
#include <functional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace pf::cleanup {

// Where the queue file goes (the queue writer, or a buffer in tests).
class QueueSink {
public:
    virtual ~QueueSink() = default;
    virtual bool write(char type, std::string_view data) = 0;
    virtual long offset() = 0;
    // Writes over the first record (the size record, same length).
    virtual bool rewrite_first(char type, std::string_view data) = 0;
};

// trivial-rewrite's "rewrite" request, internal form in and out; an error
// (service unreachable) makes the message deferred.
using Rewriter = std::function<std::expected<std::string, std::string>(std::string_view context,
                                                                         std::string_view internal)>;

class CleanupSession {
public:
    CleanupSession(const CleanupSettings& settings, QueueSink& sink, std::string queue_id, std::time_t create_time,
                   Rewriter rewriter);

    // The client's flags (ipc::CleanupFlags).
    void set_flags(unsigned flags);
    // One input record. Returns false once the session has stopped
    // accepting records (E seen, or a fatal error).
    void record(char type, std::string_view data);
    bool end_seen() const { return end_seen_; }
    // Whether output is still being written (no fatal error so far, not
    // discarded: after DISCARD the reference processes no more records).
    bool out_ok() const { return (errs_ & err_mask_) == 0 && (flags_ & kDiscard) == 0; }

    // Completes the queue file (the size record); returns the status bits
    // to send back (0: accept and commit).
    unsigned finish();
    const std::string& reason() const { return reason_; }
    bool hold() const { return (flags_ & kHold) != 0; }
    bool discard() const { return (flags_ & kDiscard) != 0; }
    const std::string& queue_id() const { return queue_id_; }
    unsigned errors() const { return errs_; }

    // cleanup_bounce.cpp: after finish() reported errors, whether the
    // client asked cleanup to bounce bad mail itself and this error
    // allows it (the reference's CAN_BOUNCE: not after a protocol, write
    // or temporary error, and only with a sender).
    bool can_bounce() const;
    // Bounces every recipient written so far (or "unknown" when there is
    // none): each goes through recorder.bounce() (bounce log and the
    // "status=bounced" line, relay=none), then notice() asks the bounce
    // service for the non-delivery notice. On success the errors are
    // cleared and the message is discarded (status 0 to the client);
    // otherwise the write error bit stays so that the client keeps its
    // copy. Returns the new status.
    using NoticeCall = std::function<int(const ipc::BounceNoticeRequest&)>;
    unsigned bounce(ipc::DeliveryRecorder& recorder, const NoticeCall& notice);
    long arrival_time() const { return arrival_seconds_; }
    // Whether the queue file went past message_size_limit: the reference's
    // file stops at the limit (the caller truncates ours to match before
    // the bounce service reads it).
    bool size_cut() const { return size_cut_; }
    // The trace service append (the "expanded" record written when
    // virtual aliasing rewrites a recipient that asked NOTIFY=SUCCESS;
    // qmgr mails the report later); returns success. traced(): whether
    // this session wrote such a record (a cancelled message takes its
    // trace log with it).
    using TraceCall = std::function<bool(const ipc::DeliveryRecipient&, const ipc::Dsn&)>;
    void set_trace_call(TraceCall call) { trace_ = std::move(call); }
    bool traced() const { return traced_; }
    // An address probe by the MTA (trace_flags with the MTA probe bit)
    // whose recipient virtual aliasing turns into several addresses is not
    // probed further: cleanup itself records it as deliverable with the
    // verify service and logs the result, as the reference does; arrival
    // is the message's T record. Returns success.
    using VerifyCall =
        std::function<bool(const ipc::DeliveryRecipient&, const ipc::Dsn&, const ipc::TimeStamp& arrival)>;
    void set_verify_call(VerifyCall call) { verify_ = std::move(call); }

private:
    // flags_ holds the client's ipc::CleanupFlags bits plus these.
    static constexpr unsigned kHold = 1u << 2;       // same as ipc::kCleanupHold
    static constexpr unsigned kDiscard = 1u << 3;    // same as ipc::kCleanupDiscard
    static constexpr unsigned kInRcpt = 1u << 16;
    static constexpr unsigned kWarnSeen = 1u << 17;
    // The size record's SMTPUTF8 bits (the reference's SMTPUTF8_FLAG_*).
    static constexpr int kUtf8Requested = 1 << 0;
    static constexpr int kUtf8Header = 1 << 1;
    static constexpr int kUtf8Sender = 1 << 2;
    // SMTPUTF8 autodetection: a non-ASCII header (kUtf8Header) or a
    // UTF-8 sender (kUtf8Sender) or recipient (no bit of its own) asks for
    // SMTPUTF8 when the client's class is autodetected.
    void detect_utf8(std::string_view text, int what);

    enum class Stage { envelope, content, extracted, done };
    enum class Section { primary, multipart, nested, body };

    // cleanup_envelope.cpp
    void envelope_record(char type, std::string_view data);
    // An 'f' record (initial or extracted envelope): the client's extra
    // request flags, HOLD and DISCARD.
    void extra_flags_record(std::string_view data);
    bool split_attribute(std::string_view data, std::string& name, std::string& value);
    // cleanup_message.cpp
    void content_record(char type, std::string_view data);
    void header_line(std::string_view text);
    void flush_header();
    void process_header(Section section, std::string header);
    void headers_done();
    void body_record(char type, std::string_view data);
    void end_of_content();
    void content_type(std::string_view value);
    void content_encoding(std::string_view value);
    // The strict MIME checks (strict_7bit_headers, strict_8bitmime,
    // strict_8bitmime_body, strict_mime_encoding_domain): each kind of
    // error is logged once ("reject: mime-error ..."); the first kind, in
    // the reference's order, rejects the message at the end of the content
    // unless a header/body check already gave a reason.
    enum MimeError : unsigned {
        kMime8bitHeader = 1u << 2,
        kMime8bitBody = 1u << 3,
        kMimeEncodingDomain = 1u << 4,
    };
    void mime_error(unsigned error, std::string_view text);
    void mime_end_of_headers();
    void mime_reset_encoding() { curr_encoding_ = curr_domain_ = Encoding::e7bit; }
    void out_header(std::string_view header);
    std::string rewrite_header(const mail::HeaderOpts& opts, std::string_view header, bool& changed);
    // The reference's cleanup_act(): returns false to drop the input.
    bool act(std::string_view context, std::string& text, std::string_view value, std::string_view map_title);
    void act_log(std::string_view action, std::string_view context, std::string_view content, std::string_view text);
    // cleanup_extracted.cpp
    void extracted_record(char type, std::string_view data);
    void extracted_finish();
    // cleanup_addr.cpp
    void addr_sender(std::string_view address);
    void addr_recipient(std::string_view address);
    void addr_bcc(std::string_view address);
    void out_recipient(std::string_view dsn_orcpt, int dsn_notify, std::string_view orcpt, std::string_view recip);
    std::string rewrite_internal(std::string_view context, std::string_view address);
    bool map11(std::string& address, const mail::Maps& maps, bool propagate);
    std::vector<std::string> map1n(const std::string& address);
    bool apply_maps(std::string& address, unsigned address_class);
    bool masquerade_excluded(const std::string& address);
    // cleanup_out.cpp
    void out(char type, std::string_view data);
    bool write_record(char type, std::string_view data);
    void out_text(char type, std::string_view data);
    void set_reason(std::string text);

    const CleanupSettings& s_;
    QueueSink& sink_;
    std::string queue_id_;
    std::time_t create_time_;
    Rewriter rewriter_;

    unsigned flags_ = 0;
    unsigned errs_ = 0;
    unsigned err_mask_ = ~0u;
    Stage stage_ = Stage::envelope;
    bool end_seen_ = false;

    // Envelope.
    long arrival_seconds_ = 0;
    std::string arrival_text_;
    bool have_sender_ = false;
    std::string sender_;
    bool have_fullname_ = false;
    std::string fullname_;
    bool have_recip_ = false;
    std::string recip_;          // last recipient, for logging
    bool have_orig_rcpt_ = false;
    std::string orig_rcpt_;
    bool have_dsn_orcpt_ = false;
    std::string dsn_orcpt_;
    int dsn_notify_ = 0;
    long rcpt_count_ = 0;
    long qmgr_opts_ = 0;
    int smtputf8_ = 0;
    long attr_count_ = 0;
    std::vector<std::pair<std::string, std::string>> attrs_;
    const char* hdr_rewrite_context_ = "local";  // nullptr: no header rewriting
    std::set<std::string> dups_;

    // Content.
    long data_offset_ = 0;
    long xtra_offset_ = 0;
    long cont_length_ = 0;
    Section section_ = Section::primary;
    std::string header_;          // the header being collected
    bool header_truncated_ = false;
    bool line_continues_ = false; // the previous content record was L
    bool header_line_open_ = false;
    long hop_count_ = 0;
    std::uint64_t headers_seen_ = 0;
    const char* resent_ = "";
    bool primary_done_ = false;
    // MIME state.
    enum class MimeType { text, multipart, message, other };
    MimeType mime_type_ = MimeType::text;
    // message/* subtypes the encoding domain check tells apart (none:
    // the current type is not message/*).
    enum class MessageSub { none, rfc822, global, partial, external_body, other };
    MessageSub message_sub_ = MessageSub::none;
    // Content-Transfer-Encoding: the encoding, and its domain (7bit for
    // base64 and quoted-printable).
    enum class Encoding { e7bit, e8bit, binary, base64, qp };
    Encoding curr_encoding_ = Encoding::e7bit;
    Encoding curr_domain_ = Encoding::e7bit;
    unsigned mime_opts_ = 0;   // which MimeError kinds are checked
    unsigned mime_errs_ = 0;   // which were found
    struct Boundary {
        std::string text;
        MimeType part_default;
    };
    std::vector<Boundary> boundaries_;
    long body_offset_ = 0;        // bytes of body seen (body_checks_size_limit)
    bool body_line_start_ = true;

    // What cleanup's own bounce needs (cleanup_bounce.cpp).
    struct WrittenRecipient {
        ipc::DeliveryRecipient rcpt;
        long end = 0;             // offset after its R record
    };
    std::vector<WrittenRecipient> written_rcpts_;
    TraceCall trace_;
    bool traced_ = false;
    VerifyCall verify_;
    // The size limit: the file stops at message_size_limit; the record cut
    // there (a warning when cleanup's bounce reads the file).
    bool size_cut_ = false;
    char cut_type_ = 0;
    long cut_length_ = 0;
    bool cut_in_length_ = false;
    std::string dsn_envid_;
    int dsn_ret_ = 0;
    std::string verp_delims_;

    // Actions from header/body checks.
    std::string filter_;
    std::string redirect_;
    std::vector<std::string> hbc_rcpt_;
    std::string encoding_;
    std::string reason_;
};

}  // namespace pf::cleanup
