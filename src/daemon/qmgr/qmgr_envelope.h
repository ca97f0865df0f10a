// Reading a queue file's envelope for the queue manager, as the reference's
// qmgr reads it: the size record (content size and offset, recipient count,
// flags), arrival and creation times, the sender, the content filter
// ('L' outside the content), inspection transport ('I'), redirect ('>'),
// DSN envelope ID and RET, named attributes (client, SASL, log ID, rewrite
// context, trace flags, encoding, and the DSN attributes mapped onto their
// records), the delay-warning time ('W') with its offset, VERP delimiters,
// and the recipients still to deliver ('R' with the 'O', 'o', 'n' records
// before it; 'D' and '/' are done). Pointer records ('p') are followed and
// the content is skipped. Recipients are read in batches of at most a given
// limit; a later call continues after the last batch.
//
// Trust: none. A queue file may be damaged; every malformed or misplaced
// record ends the read with the reference's warning, and the caller moves
// the file to corrupt/.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

namespace pf::qmgr {

struct EnvelopeRecipient {
    std::string address;
    std::string orig_addr;
    std::string dsn_orcpt;
    int dsn_notify = 0;
    long offset = 0;  // of the R record
};

struct Envelope {
    // From the size record.
    long data_size = 0;
    long data_offset = 0;
    int rcpt_unread = 0;
    int rflags = 0;
    long cont_length = 0;
    int sendopts = 0;

    std::int64_t arrival_sec = 0;
    std::int64_t arrival_usec = 0;
    long create_time = 0;
    bool have_sender = false;
    std::string sender;
    bool have_filter = false;
    std::string filter;        // content_filter override, "transport:nexthop"
    bool have_inspect = false;
    std::string inspect;
    bool have_redirect = false;
    std::string redirect;
    std::string dsn_envid;
    int dsn_ret = 0;
    std::string encoding;
    std::string client_name, client_addr, client_port, client_proto, client_helo;
    std::string sasl_method, sasl_username, sasl_sender;
    std::string log_ident;
    std::string rewrite_context;  // "local" when the file has none
    int tflags = 0;
    long tflags_offset = 0;
    long warn_offset = 0;
    long warn_time = 0;        // 0 none, -1 already warned
    std::string verp_delims;
    bool seen_all_non_rcpt = false;

    std::vector<EnvelopeRecipient> recipients;  // the current batch
    long rcpt_offset = 0;  // where the next batch starts; 0: all read
};

// Reads the envelope (first call: rcpt_offset == 0) or the next batch of
// recipients (rcpt_offset > 0) from a queue file positioned anywhere, or,
// with at_start, at offset 0 (a first read of a stream just opened: no
// seek). Returns false on a damaged file (after the reference's warning).
bool read_envelope(std::FILE* fp, const std::string& queue_id, Envelope& env, int recipient_limit,
                   bool at_start = false);

// Trace flags kept from the trace_flags attribute.
inline constexpr int kTraceFlagsMask = (1 << 8) | (1 << 9) | (1 << 10) | (1 << 13);

}  // namespace pf::qmgr
