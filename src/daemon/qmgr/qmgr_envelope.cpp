// The queue manager's envelope reader; see qmgr_envelope.h.
#include "daemon/qmgr/qmgr_envelope.h"

#include "mail/address_quote.h"
#include "queue/record.h"
#include "util/msg.h"

#include <charconv>
#include <cstring>
#include <optional>
#include <string_view>

namespace pf::qmgr {

namespace {

using util::msg_warn;

constexpr std::size_t kMaxRecord = 1 << 20;
constexpr std::string_view kEnvelopeTypes = "MCTcFILSDRO/WVA>K<ion";
constexpr std::string_view kExtractTypes = "EDRO/PreAFIL>Kon";
// Outside the content, either segment's types may follow.
constexpr std::string_view kAnyTypes = "MCTcFILSDRO/WVA>K<ionEDRO/PreAFIL>Kon";
static_assert(kAnyTypes.size() == kEnvelopeTypes.size() + kExtractTypes.size());
// The DSN NOTIFY bits (shifted) and bit 0, "recipient records mixed with
// other records" (cleanup sets it when local(8) forwards to several addresses).
constexpr int kReadFlagUser = 1 | ((1 | 2 | 4 | 8) << 1);
constexpr int kDsnNotifyMask = 1 | 2 | 4 | 8;

bool all_digits(std::string_view s) {
    if (s.empty()) return false;
    for (char c : s)
        if (c < '0' || c > '9') return false;
    return true;
}

// atol(): leading blanks, optional sign, digits; 0 when none.
long to_long(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    long value = 0;
    auto [p, ec] = std::from_chars(s.data() + (!s.empty() && s.front() == '+' ? 1 : 0), s.data() + s.size(), value);
    (void)p;
    if (ec != std::errc()) return 0;
    return value;
}

// sscanf("%ld %ld %d %d %ld %d")-like: how many leading numbers parse.
int scan_numbers(std::string_view s, long* out, int max) {
    int count = 0;
    while (count < max) {
        while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\n')) s.remove_prefix(1);
        if (s.empty()) break;
        std::size_t skip = (s.front() == '+') ? 1 : 0;
        long value = 0;
        auto [p, ec] = std::from_chars(s.data() + skip, s.data() + s.size(), value);
        if (ec != std::errc()) break;
        out[count++] = value;
        s.remove_prefix(static_cast<std::size_t>(p - s.data()));
    }
    return count;
}

// The reference's mapping of some named attributes onto record types.
char attr_record_type(std::string_view name) {
    if (name == "dsn_orig_rcpt") return queue::rec::kDsnOrcpt;
    if (name == "notify_flags") return queue::rec::kDsnNotify;
    if (name == "envelope_id") return queue::rec::kDsnEnvid;
    if (name == "ret_flags") return queue::rec::kDsnRet;
    if (name == "create_time") return queue::rec::kCreateTime;
    return 0;
}

void set_once(std::string& field, bool& have, std::string_view value) {
    field.assign(value);
    have = true;
}

// Moves the stream n bytes on. A short distance is read into a scratch
// buffer: glibc's fseek() makes an lseek() system call even when the
// target is in the stream's buffer, and a typical message's content is.
bool skip_forward(std::FILE* fp, long n) {
    constexpr long kByRead = 16384;
    if (n < 0 || n > kByRead) return std::fseek(fp, n, SEEK_CUR) == 0;
    static char scratch[kByRead];
    return std::fread(scratch, 1, static_cast<std::size_t>(n), fp) == static_cast<std::size_t>(n);
}

}  // namespace

bool read_envelope(std::FILE* fp, const std::string& id, Envelope& env, int recipient_limit, bool at_start) {
    namespace rec = queue::rec;
    long saved_offset = env.rcpt_offset;
    int saved_unread = env.rcpt_unread;
    env.recipients.clear();
    if (recipient_limit <= 0) recipient_limit = 1;
    // The read offset is followed here (record sizes, seeks) rather than
    // asked of the stream: ftell is a system call per record.
    long next = 0;
    if (env.rcpt_offset > 0) {
        if (std::fseek(fp, env.rcpt_offset, SEEK_SET) < 0) return false;
        next = env.rcpt_offset;
        env.rcpt_offset = 0;
    } else if (!at_start && std::fseek(fp, 0, SEEK_SET) < 0) {
        return false;
    }
    std::optional<std::string> orig_rcpt;
    std::optional<std::string> dsn_orcpt;
    int dsn_notify = 0;
    bool have_log_client = false;
    bool ok = false;     // an end record was seen
    bool error = false;  // already warned

    for (;;) {
        std::string_view expected = kAnyTypes;
        long curr = next;
        if (curr == env.data_offset && curr > 0) {
            if (!skip_forward(fp, env.data_size)) {
                msg_warn("{}: message rejected: missing end record", id);
                error = true;
                break;
            }
            curr += env.data_size;
            expected = "X";
        }
        std::size_t consumed = 0;
        auto record = queue::read_record(fp, kMaxRecord, &consumed);
        if (!record) {
            msg_warn("{}: message rejected: missing end record", id);
            error = true;
            break;
        }
        next = curr + static_cast<long>(consumed);
        char type = record->type;
        std::string_view start = record->data;
        if (type == rec::kPointer) {
            long target = to_long(start);
            if (target <= 0 || std::fseek(fp, target, SEEK_SET) < 0) {
                msg_warn("{}: bad pointer record: {:.100}", id, start);
                error = true;
                break;
            }
            next = target;
            continue;
        }
        if (type == 0 || expected.find(type) == std::string_view::npos) {
            msg_warn("Unexpected record type '{}' at offset {}", type, curr);
            error = true;
            break;
        }
        if (type == rec::kEnd) {
            env.seen_all_non_rcpt = true;
            ok = true;
            break;
        }
        std::string_view attr_name, attr_value;
        if (type == rec::kAttr) {
            auto eq = start.find('=');
            if (eq == std::string_view::npos || eq == 0) {
                msg_warn("{}: bad attribute record: {}: {:.200}", id,
                         eq == std::string_view::npos ? "missing '=' after attribute name" : "missing attribute name",
                         start);
                error = true;
                break;
            }
            attr_name = start.substr(0, eq);
            attr_value = start.substr(eq + 1);
            if (char mapped = attr_record_type(attr_name)) {
                type = mapped;
                start = attr_value;
            }
        }
        if (type == rec::kRcpt) {
            if (env.rcpt_offset == 0) {
                env.rcpt_unread--;
                env.recipients.push_back(EnvelopeRecipient{std::string(start), orig_rcpt.value_or(""),
                                                           dsn_orcpt.value_or(""), dsn_notify, curr});
                orig_rcpt.reset();
                dsn_orcpt.reset();
                dsn_notify = 0;
                if (static_cast<int>(env.recipients.size()) >= recipient_limit) {
                    env.rcpt_offset = next;
                    if (env.seen_all_non_rcpt) {
                        ok = true;
                        break;
                    }
                }
            }
            continue;
        }
        if (type == rec::kDone || type == rec::kDropped) {
            if (env.rcpt_offset == 0) {
                env.rcpt_unread--;
                orig_rcpt.reset();
                dsn_orcpt.reset();
                dsn_notify = 0;
            }
            continue;
        }
        if (type == rec::kDsnOrcpt) {
            if (dsn_orcpt) {
                msg_warn("{}: ignoring out-of-order DSN original recipient address <{:.200}>", id, *dsn_orcpt);
                dsn_orcpt.reset();
            }
            if (env.rcpt_offset == 0) dsn_orcpt = std::string(start);
            continue;
        }
        if (type == rec::kDsnNotify) {
            if (dsn_notify != 0) {
                msg_warn("{}: ignoring out-of-order DSN notify flags <{}>", id, dsn_notify);
                dsn_notify = 0;
            }
            if (env.rcpt_offset == 0) {
                long n = all_digits(start) ? to_long(start) : 0;
                if (n == 0 || (n & ~kDsnNotifyMask) != 0 || ((n & 1) && (n & ~1)))
                    msg_warn("{}: ignoring malformed DSN notify flags <{:.200}>", id, start);
                else
                    dsn_notify = static_cast<int>(n);
                continue;
            }
        }
        if (type == rec::kOrigRcpt) {
            if (orig_rcpt) {
                msg_warn("{}: ignoring out-of-order original recipient <{:.200}>", id, *orig_rcpt);
                orig_rcpt.reset();
            }
            if (env.rcpt_offset == 0) orig_rcpt = std::string(start);
            continue;
        }
        if (env.seen_all_non_rcpt) continue;
        if (type == rec::kSize) {
            if (env.data_offset == 0) {
                long v[6] = {0, 0, 0, 0, 0, 0};
                int count = scan_numbers(start, v, 6);
                if (count >= 3) {
                    env.data_size = v[0];
                    env.data_offset = v[1];
                    env.rcpt_unread = static_cast<int>(v[2]);
                    env.rflags = static_cast<int>(v[3]);
                    env.cont_length = v[4];
                    env.sendopts = static_cast<int>(v[5]);
                    if (env.data_offset <= 0 || env.data_size <= 0) {
                        msg_warn("{}: invalid size record: {:.100}", id, start);
                        error = true;
                        break;
                    }
                    if (env.rflags & ~kReadFlagUser) {
                        msg_warn("{}: invalid flags in size record: {:.100}", id, start);
                        error = true;
                        break;
                    }
                } else {
                    msg_warn("{}: message rejected: weird size record", id);
                    error = true;
                    break;
                }
            }
            if (env.cont_length == 0) {
                env.cont_length = env.data_size;
            } else if (env.cont_length < 0) {
                msg_warn("{}: invalid size record: {:.100}", id, start);
                error = true;
                break;
            }
            continue;
        }
        if (type == rec::kTime) {
            if (env.arrival_sec == 0) {
                long v[2] = {0, 0};
                scan_numbers(start, v, 2);
                env.arrival_sec = v[0];
                env.arrival_usec = (v[1] >= 0 && v[1] < 1000000) ? v[1] : 0;
            }
            continue;
        }
        if (type == rec::kCreateTime) {
            if (env.create_time == 0) env.create_time = to_long(start);
            continue;
        }
        if (type == rec::kFilter) {
            set_once(env.filter, env.have_filter, start);
            continue;
        }
        if (type == rec::kInspect) {
            set_once(env.inspect, env.have_inspect, start);
            continue;
        }
        if (type == rec::kRedirect) {
            set_once(env.redirect, env.have_redirect, start);
            continue;
        }
        if (type == rec::kFrom) {
            if (!env.have_sender) {
                env.have_sender = true;
                env.sender.assign(start);
                // The reference logs "opened" as soon as the sender is known.
                util::msg_info("{}: from=<{}>, size={}, nrcpt={} (queue active)", id,
                               mail::address_for_log(env.sender), env.cont_length,
                               env.rcpt_unread);
            }
            continue;
        }
        if (type == rec::kDsnEnvid) env.dsn_envid.assign(start);
        if (type == rec::kDsnRet) {
            long n = all_digits(start) ? to_long(start) : 0;
            if (n != 1 && n != 2)
                msg_warn("{}: ignoring malformed DSN RET flags in queue file record:{:.100}", id, start);
            else
                env.dsn_ret = static_cast<int>(n);
        }
        if (type == rec::kAttr) {
            auto keep_first = [&](std::string& field, std::string_view name) {
                if (field.empty())
                    field.assign(attr_value);
                else
                    msg_warn("{}: ignoring multiple {} attribute: {}", id, name, attr_value);
            };
            if (attr_name == "encoding") {
                env.encoding.assign(attr_value);
            } else if (attr_name == "client_name" || attr_name == "client_address" || attr_name == "client_port" ||
                       attr_name == "protocol_name" || attr_name == "helo_name") {
                if (!have_log_client) {
                    std::string& field = attr_name == "client_name"      ? env.client_name
                                         : attr_name == "client_address" ? env.client_addr
                                         : attr_name == "client_port"    ? env.client_port
                                         : attr_name == "protocol_name"  ? env.client_proto
                                                                         : env.client_helo;
                    if (field.empty()) field.assign(attr_value);
                }
            } else if (attr_name == "log_client_name") {
                env.client_name.assign(attr_value), have_log_client = true;
            } else if (attr_name == "log_client_address") {
                env.client_addr.assign(attr_value), have_log_client = true;
            } else if (attr_name == "log_client_port") {
                env.client_port.assign(attr_value), have_log_client = true;
            } else if (attr_name == "log_protocol_name") {
                env.client_proto.assign(attr_value), have_log_client = true;
            } else if (attr_name == "log_helo_name") {
                env.client_helo.assign(attr_value), have_log_client = true;
            } else if (attr_name == "sasl_method") {
                keep_first(env.sasl_method, attr_name);
            } else if (attr_name == "sasl_username") {
                keep_first(env.sasl_username, attr_name);
            } else if (attr_name == "sasl_sender") {
                keep_first(env.sasl_sender, attr_name);
            } else if (attr_name == "log_ident") {
                keep_first(env.log_ident, attr_name);
            } else if (attr_name == "rewrite_context") {
                keep_first(env.rewrite_context, attr_name);
            } else if (attr_name == "trace_flags") {
                if (env.tflags == 0) {
                    env.tflags = static_cast<int>(to_long(attr_value)) & kTraceFlagsMask;
                    env.tflags_offset = env.tflags == (1 << 10) ? curr : 0;
                }
            }
            continue;
        }
        if (type == rec::kWarn) {
            if (env.warn_offset == 0) {
                env.warn_offset = curr;
                env.warn_time = to_long(start);
            }
            continue;
        }
        if (type == rec::kVerp) {
            if (env.verp_delims.empty()) {
                if (!env.have_sender || env.sender.empty())
                    msg_warn("{}: ignoring VERP request for null sender", id);
                else if (start.size() != 2)
                    msg_warn("{}: ignoring bad VERP request: \"{:.100}\"", id, start);
                else
                    env.verp_delims.assign(start);
            }
            continue;
        }
    }
    if (dsn_orcpt && !error)
        msg_warn("{}: ignoring out-of-order DSN original recipient <{:.200}>", id, *dsn_orcpt);
    if (orig_rcpt && !error) msg_warn("{}: ignoring out-of-order original recipient <{:.200}>", id, *orig_rcpt);
    if (env.rewrite_context.empty()) env.rewrite_context = "local";
    if (env.create_time == 0) env.create_time = static_cast<long>(env.arrival_sec);
    if (env.rcpt_unread < 0 || (env.rcpt_offset == 0 && env.rcpt_unread != 0)) {
        msg_warn("{}: rcpt count mismatch ({})", id, env.rcpt_unread);
        env.rcpt_unread = 0;
    }
    if (error || !ok) {
        // already warned
    } else if (env.arrival_sec == 0) {
        msg_warn("{}: message rejected: missing arrival time record", id);
    } else if (!env.have_sender) {
        msg_warn("{}: message rejected: missing sender record", id);
    } else if (env.data_offset == 0) {
        msg_warn("{}: message rejected: missing size record", id);
    } else {
        return true;
    }
    env.rcpt_offset = saved_offset;
    env.rcpt_unread = saved_unread;
    env.recipients.clear();
    return false;
}

}  // namespace pf::qmgr
