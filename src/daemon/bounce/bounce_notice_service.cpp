// The bounce daemon's notice requests; see bounce_notice_service.h.
#include "bounce_notice_service.h"

#include "bounce_post.h"

#include "config/mail_params.h"
#include "config/parameter_catalogue.h"
#include "mail/address_quote.h"
#include "mail/bounce_template_expand.h"
#include "mail/dsn_log.h"
#include "mail/dsn_notify.h"
#include "queue/record.h"
#include "util/msg.h"
#include "util/strings.h"
#include "util/utf8.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <memory>
#include <optional>

namespace pf::bounce {
namespace {

using mail::DsnLogEntry;
using Entries = std::optional<std::vector<DsnLogEntry>>;

constexpr std::size_t kMaxRecord = 1u << 30;

bool queue_name_ok(std::string_view name) {
    if (name.empty() || name.size() > 100) return false;
    for (char c : name)
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-'))
            return false;
    return true;
}

struct FileCloser {
    void operator()(std::FILE* f) const {
        if (f) std::fclose(f);
    }
};
using File = std::unique_ptr<std::FILE, FileCloser>;

// What a notice reports on: the log, the queue file, the envelope facts.
class NoticeSource {
public:
    NoticeSource(const NoticeContext& ctx, std::string_view service, const ipc::BounceNoticeRequest& request,
                 bool read_log)
        : ctx_(ctx), service_(service) {
        message_.queue_id = request.queue_id;
        message_.encoding = request.encoding;
        message_.sendopts = request.smtputf8;
        message_.dsn_envid = request.dsn_envid;
        message_.now = std::time(nullptr);
        if (read_log) load_log(request.queue_id);
        open_queue_file(request.queue_name, request.queue_id);
    }

    Entries& entries() { return entries_; }
    mail::NoticeMessage& message() { return message_; }
    bool has_log() const { return entries_.has_value(); }

    // Positions the queue file at the content; false when unavailable.
    bool seek_original() {
        if (!file_ || message_.data_offset <= 0) return false;
        return std::fseek(file_.get(), message_.data_offset, SEEK_SET) == 0;
    }
    mail::RecordSource source() {
        return [this](char& type, std::string& data) {
            auto r = queue::read_record(file_.get(), kMaxRecord);
            if (!r) return false;
            type = r->type;
            data = std::move(r->data);
            return true;
        };
    }

    // Marks the recipients of the log (or the one given) done in the
    // queue file.
    void delete_recipients(const std::vector<DsnLogEntry>& done) {
        if (!file_) return;
        for (const auto& e : done) {
            if (e.offset <= 0) continue;
            if (auto m = queue::mark_record(::fileno(file_.get()), e.offset, queue::rec::kDone); !m)
                util::msg_fatal("update queue file {}: {}", queue_path_, m.error());
        }
    }

private:
    void load_log(const std::string& id) {
        std::string path = ctx_.layout.path(service_, id, true);
        int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            if (errno != ENOENT) util::msg_fatal("open {} {}: {}", service_, id, std::strerror(errno));
            return;
        }
        std::string content;
        char buf[65536];
        for (;;) {
            ssize_t n = ::read(fd, buf, sizeof buf);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) {
                if (n < 0) util::msg_warn("{}: read bounce log {}: {}", id, id, std::strerror(errno));
                break;
            }
            content.append(buf, static_cast<std::size_t>(n));
        }
        ::close(fd);
        bool defer_log = service_ == "defer";
        entries_ = mail::parse_dsn_log(content, defer_log, path, ctx_.settings.smtputf8_enable);
    }

    void open_queue_file(const std::string& queue_name, const std::string& id) {
        queue_path_ = ctx_.layout.path(queue_name, id, true);
        int fd = ::open(queue_path_.c_str(), O_RDWR | O_CLOEXEC);
        if (fd < 0) {
            if (errno != ENOENT) util::msg_fatal("open {} {}: {}", service_, id, std::strerror(errno));
            return;
        }
        file_.reset(::fdopen(fd, "r+"));
        if (!file_) {
            ::close(fd);
            util::msg_fatal("open {} {}: {}", service_, id, std::strerror(errno));
        }
        message_.have_original = true;
        if (::flock(fd, LOCK_SH | LOCK_NB) < 0)
            util::msg_fatal("cannot get shared lock on {}: {}", queue_path_, std::strerror(errno));
        read_envelope();
    }

    // The size, arrival time and sender (and Message-ID for threaded
    // notices) from the envelope; a damaged file gives what it can.
    void read_envelope() {
        std::FILE* f = file_.get();
        bool skip_content = false;
        long size = 0;
        for (;;) {
            auto r = queue::read_record(f, kMaxRecord);
            if (!r) break;
            if (r->type == queue::rec::kEnd) break;
            if (r->type == queue::rec::kSize) {
                if (size == 0) {
                    long s = 0, off = 0;
                    if (std::sscanf(r->data.c_str(), "%ld %ld", &s, &off) >= 1) {
                        size = s;
                        message_.data_offset = off;
                    }
                }
                if (size < 0) size = 0;
                if (message_.data_offset < 0) message_.data_offset = 0;
            } else if (r->type == queue::rec::kTime) {
                if (message_.arrival_time == 0) {
                    long t = std::atol(r->data.c_str());
                    message_.arrival_time = t < 0 ? 0 : t;
                }
            } else if (r->type == queue::rec::kFrom) {
                message_.sender = mail::quote_822_local(r->data.empty() ? ctx_.mail_daemon : r->data);
            } else if (r->type == queue::rec::kMessage) {
                if (message_.sender.empty())
                    util::msg_warn("{}: no sender before message content record", message_.queue_id);
                message_.data_offset = std::ftell(f);
                skip_content = true;
            } else if (r->type == queue::rec::kAttr && ctx_.threaded && r->data.starts_with("message_id=")) {
                std::string_view v = util::trim(std::string_view(r->data).substr(11));
                if (v.starts_with('<')) {
                    if (!v.ends_with('>'))
                        util::msg_warn("{}: malformed Message-ID attribute: missing '>'", message_.queue_id);
                    else
                        message_.orig_msgid = fmt::format("<{}>", util::trim(v.substr(1, v.size() - 2)));
                } else {
                    message_.orig_msgid = fmt::format("<{}>", v);
                }
            }
            message_.message_size = size;
            if (message_.data_offset > 0 && message_.arrival_time > 0 && !message_.sender.empty() &&
                (!ctx_.threaded || !message_.orig_msgid.empty()))
                break;
            if (skip_content) {
                (void)std::fseek(f, message_.data_offset + size, SEEK_SET);
                skip_content = false;
            }
        }
        message_.message_size = size;
    }

    const NoticeContext& ctx_;
    std::string service_;
    Entries entries_;
    mail::NoticeMessage message_;
    File file_;
    std::string queue_path_;
};

// The expanded template text; a template that does not expand is fatal,
// as in the reference.
std::vector<std::string> expand_body(const NoticeContext& ctx, const mail::BounceTemplate& t) {
    mail::TemplateExpander expander(ctx.config);
    auto body = expander.expanded_body(t);
    if (!body) util::msg_fatal_text(body.error().text);
    return std::move(*body);
}

// One notice: to, from whom, which parts.
struct Report {
    std::string_view sender;
    std::string_view recipient;
    bool postmaster_copy = false;
    bool boilerplate = true;
    int filter = mail::kDsnNotifyOverride;
    int ret = mail::kDsnRetFull;
    std::string_view log_what;   // "sender non-delivery notification", ...
};

struct Posted {
    int status = 1;   // 0: posted (or nothing to post)
    int count = -1;   // recipients reported, -1: not composed
};

Posted post_report(const NoticeContext& ctx, NoticeSource& src, const mail::BounceTemplate& tmpl,
                   const Entries& entries, const Report& report) {
    Posted result;
    // A notice with nothing to report is not started (the reference
    // starts it and drops it, which its cleanup does not log).
    if (entries) {
        bool any = false;
        for (const auto& e : *entries) any = any || mail::dsn_notify_selected(e, report.filter);
        if (!any) return Posted{0, 0};
    } else if (tmpl.kind() != mail::BounceKind::failure) {
        return Posted{0, 0};
    }
    auto post = PostedNotice::open(ctx.config, report.sender, report.recipient, src.message().sendopts);
    if (!post) return result;
    // Only the boilerplate expands the template (and warns about it).
    std::vector<std::string> body;
    if (report.boilerplate) body = expand_body(ctx, tmpl);
    mail::NoticeComposer c(ctx.settings, src.message(), tmpl, std::move(body),
                           [&post](char type, std::string_view data) { post->put(type, data); });
    c.header(report.recipient, report.postmaster_copy);
    if (report.boilerplate) c.boilerplate();
    result.count = c.diagnostic_log(entries, report.filter);
    if (result.count > 0) {
        c.header_dsn();
        if (c.diagnostic_dsn(entries, report.filter) > 0) {
            if (!src.seek_original()) src.message().data_offset = 0;
            c.original(report.ret, src.source());
            result.status = static_cast<int>(post->close());
            if (result.status == 0)
                util::msg_info("{}: {}: {}", src.message().queue_id, report.log_what, post->queue_id());
            return result;
        }
    }
    // Nothing to report: the notice is dropped (cleanup sees the client
    // go away before the end of the message).
    post.reset();
    if (result.count == 0) result.status = 0;
    return result;
}

void remove_log(const NoticeContext& ctx, std::string_view service, const std::string& id) {
    std::string path = ctx.layout.path(service, id, true);
    if (::unlink(path.c_str()) < 0 && errno != ENOENT)
        util::msg_fatal("remove {} {}: {}", service, id, std::strerror(errno));
}

std::vector<DsnLogEntry> single(const ipc::BounceNoticeRequest& r) {
    DsnLogEntry e;
    e.address = r.recipient.address;
    e.orig_addr = r.recipient.orig_addr;
    e.dsn_orcpt = r.recipient.dsn_orcpt;
    e.dsn_notify = r.recipient.dsn_notify;
    e.offset = r.recipient.offset;
    e.status = r.dsn.status;
    e.action = r.dsn.action;
    e.reason = r.dsn.reason;
    e.dtype = r.dsn.dtype;
    e.dtext = r.dsn.dtext;
    e.mtype = r.dsn.mtype;
    e.mname = r.dsn.mname;
    return {e};
}

int flush_service(const NoticeContext& ctx, std::string_view service, const ipc::BounceNoticeRequest& r) {
    const auto& tmpl = ctx.templates.find(mail::BounceKind::failure);
    NoticeSource src(ctx, service, r, true);
    int mask = notify_mask(ctx.config.get("notify_classes"));
    int status = 1;
    const std::string& rcpt = r.sender;
    if (util::iequals(rcpt, ctx.double_bounce)) {
        util::msg_warn("{}: undeliverable postmaster notification discarded", r.queue_id);
        status = 0;
    } else if (rcpt.empty()) {
        if (!(mask & (mail::kNotifyBounce | mail::kNotify2Bounce))) {
            status = 0;
        } else {
            std::string pm = ctx.config.get("2bounce_notice_recipient");
            Report rep{ctx.double_bounce, pm, true, false, mail::kDsnNotifyOverride, mail::kDsnRetFull,
                       "postmaster non-delivery notification"};
            status = post_report(ctx, src, tmpl, src.entries(), rep).status;
        }
    } else {
        Report rep{"", rcpt, false, true, mail::kDsnNotifyFailure, r.dsn_ret ? r.dsn_ret : mail::kDsnRetFull,
                   "sender non-delivery notification"};
        status = post_report(ctx, src, tmpl, src.entries(), rep).status;
        if (status == 0 && (mask & mail::kNotifyBounce) && !util::iequals(rcpt, ctx.double_bounce)) {
            std::string pm = ctx.config.get("bounce_notice_recipient");
            Report prep{ctx.double_bounce, pm, true, false, mail::kDsnNotifyOverride, mail::kDsnRetHdrs,
                        "postmaster non-delivery notification"};
            if (post_report(ctx, src, tmpl, src.entries(), prep).status != 0)
                util::msg_warn("{}: postmaster notice failed while bouncing to {}", r.queue_id, rcpt);
        }
    }
    if (status == 0 && (r.flags & ipc::kBounceFlagDelrcpt) && src.entries()) src.delete_recipients(*src.entries());
    if (status == 0) remove_log(ctx, service, r.queue_id);
    return status;
}

int warn_service(const NoticeContext& ctx, std::string_view service, const ipc::BounceNoticeRequest& r) {
    const auto& tmpl = ctx.templates.find(mail::BounceKind::delay);
    NoticeSource src(ctx, service, r, true);
    int mask = notify_mask(ctx.config.get("notify_classes"));
    int status = 1;
    const std::string& rcpt = r.sender;
    std::string pm = ctx.config.get("delay_notice_recipient");
    if (util::iequals(rcpt, ctx.double_bounce)) {
        util::msg_warn("{}: undeliverable postmaster notification discarded", r.queue_id);
        status = 0;
    } else if (rcpt.empty()) {
        if (!(mask & mail::kNotifyDelay)) {
            status = 0;
        } else {
            Report rep{ctx.double_bounce, pm, true, false, mail::kDsnNotifyOverride, mail::kDsnRetFull,
                       "postmaster delay notification"};
            status = post_report(ctx, src, tmpl, src.entries(), rep).status;
        }
    } else {
        Report rep{"", rcpt, false, true, mail::kDsnNotifyDelay, mail::kDsnRetHdrs, "sender delay notification"};
        status = post_report(ctx, src, tmpl, src.entries(), rep).status;
        if (status == 0 && (mask & mail::kNotifyDelay) && !util::iequals(rcpt, ctx.double_bounce)) {
            Report prep{ctx.double_bounce, pm, true, false, mail::kDsnNotifyOverride, mail::kDsnRetHdrs,
                        "postmaster delay notification"};
            if (post_report(ctx, src, tmpl, src.entries(), prep).status != 0)
                util::msg_warn("{}: postmaster notice failed while warning {}", r.queue_id, rcpt);
        }
    }
    return status;
}

int trace_service(const NoticeContext& ctx, std::string_view service, const ipc::BounceNoticeRequest& r) {
    int mask = notify_mask(ctx.config.get("notify_classes"));
    std::string recipient = r.sender;
    std::string sender;
    if (util::iequals(recipient, ctx.double_bounce)) {
        util::msg_info("{}: not sending trace/success notification for double-bounce message", r.queue_id);
        return 0;
    }
    if (recipient.empty()) {
        if (mask & mail::kNotify2Bounce) {
            recipient = ctx.config.get("2bounce_notice_recipient");
            sender = ctx.double_bounce;
        } else {
            util::msg_info("{}: not sending trace/success notification for single-bounce message", r.queue_id);
            remove_log(ctx, service, r.queue_id);
            return 0;
        }
    }
    constexpr unsigned kNonDsn = (1u << 9) | (1u << 10);  // user verify, record
    const auto& tmpl =
        ctx.templates.find((r.flags & kNonDsn) ? mail::BounceKind::verify : mail::BounceKind::success);
    NoticeSource src(ctx, service, r, true);
    if (!src.has_log()) {
        if (util::msg_verbose) util::msg_info("{}: no trace file -- not sending a notification", r.queue_id);
        return 0;
    }
    Report rep{sender, recipient, false, true, mail::kDsnNotifyOverride, mail::kDsnRetHdrs,
               "sender delivery status notification"};
    int status = post_report(ctx, src, tmpl, src.entries(), rep).status;
    if (status == 0) remove_log(ctx, service, r.queue_id);
    return status;
}

// The sender's notice about one recipient (request "one", or each
// recipient of a VERP flush).
int one_recipient(const NoticeContext& ctx, NoticeSource& src, const ipc::BounceNoticeRequest& r,
                  const std::vector<DsnLogEntry>& entry, std::string_view to) {
    const auto& tmpl = ctx.templates.find(mail::BounceKind::failure);
    Entries entries = entry;
    Report rep{"", to, false, true, mail::kDsnNotifyOverride, r.dsn_ret ? r.dsn_ret : mail::kDsnRetFull,
               "sender non-delivery notification"};
    return post_report(ctx, src, tmpl, entries, rep).status;
}

void postmaster_one(const NoticeContext& ctx, NoticeSource& src, const ipc::BounceNoticeRequest& r,
                    const std::vector<DsnLogEntry>& entry, std::string_view warn_to) {
    const auto& tmpl = ctx.templates.find(mail::BounceKind::failure);
    Entries entries = entry;
    std::string pm = ctx.config.get("bounce_notice_recipient");
    Report prep{ctx.double_bounce, pm, true, false, mail::kDsnNotifyOverride, mail::kDsnRetHdrs,
                "postmaster non-delivery notification"};
    if (post_report(ctx, src, tmpl, entries, prep).status != 0)
        util::msg_warn("{}: postmaster notice failed while bouncing to {}", r.queue_id, warn_to);
}

int one_service(const NoticeContext& ctx, const ipc::BounceNoticeRequest& r) {
    NoticeSource src(ctx, "none", r, false);
    std::vector<DsnLogEntry> entry = single(r);
    int mask = notify_mask(ctx.config.get("notify_classes"));
    int status = 1;
    const std::string& sender = r.sender;
    if (util::iequals(sender, ctx.double_bounce)) {
        util::msg_warn("{}: undeliverable postmaster notification discarded", r.queue_id);
        status = 0;
    } else if (sender.empty()) {
        if (!(mask & (mail::kNotifyBounce | mail::kNotify2Bounce))) {
            status = 0;
        } else {
            const auto& tmpl = ctx.templates.find(mail::BounceKind::failure);
            Entries entries = entry;
            std::string pm = ctx.config.get("2bounce_notice_recipient");
            Report rep{ctx.double_bounce, pm, true, false, mail::kDsnNotifyOverride, mail::kDsnRetFull,
                       "postmaster non-delivery notification"};
            status = post_report(ctx, src, tmpl, entries, rep).status;
        }
    } else {
        const DsnLogEntry& e = entry.front();
        if (e.dsn_notify != 0 && (e.dsn_notify & mail::kDsnNotifyFailure) == 0)
            status = 0;
        else
            status = one_recipient(ctx, src, r, entry, sender);
        if (status == 0 && (mask & mail::kNotifyBounce)) postmaster_one(ctx, src, r, entry, sender);
    }
    if (status == 0 && (r.flags & ipc::kBounceFlagDelrcpt)) src.delete_recipients(entry);
    return status;
}

int verp_service(const NoticeContext& ctx, std::string_view service, const ipc::BounceNoticeRequest& r) {
    if (r.verp_delims.size() != 2) {
        util::msg_warn("malformed verp delimiter string: {}", r.verp_delims);
        return -1;
    }
    if (r.sender.empty() || util::iequals(r.sender, ctx.double_bounce)) {
        util::msg_warn("request to send VERP-style notification of bounced mail");
        return flush_service(ctx, service, r);
    }
    NoticeSource src(ctx, service, r, true);
    if (!src.has_log()) {
        ipc::BounceNoticeRequest one = r;
        one.recipient = ipc::DeliveryRecipient();
        one.recipient.address = "(recipient address unavailable)";
        one.dsn = ipc::Dsn::simple("5.0.0", "(error report unavailable)");
        one.dsn.action = "failed";
        return one_service(ctx, one);
    }
    int mask = notify_mask(ctx.config.get("notify_classes"));
    int status = 0;
    for (const auto& e : *src.entries()) {
        std::vector<DsnLogEntry> entry{e};
        if (e.dsn_notify != 0 && (e.dsn_notify & mail::kDsnNotifyFailure) == 0) {
            status = 0;
        } else {
            std::string to = mail::verp_sender(r.sender, r.verp_delims, e.orig_addr.empty() ? e.address : e.orig_addr);
            status = one_recipient(ctx, src, r, entry, to);
            if (status != 0) break;
            if (r.flags & ipc::kBounceFlagDelrcpt) src.delete_recipients(entry);
        }
        if (mask & mail::kNotifyBounce) postmaster_one(ctx, src, r, entry, r.sender);
    }
    if (status == 0) remove_log(ctx, service, r.queue_id);
    return status;
}

}  // namespace

int notify_mask(std::string_view value) {
    auto mask = mail::parse_notify_classes(value);
    if (!mask) util::msg_fatal("{}", mask.error());
    return *mask;
}

NoticeContext make_notice_context(const config::Config& config, const mail::BounceTemplates& templates) {
    NoticeContext ctx{config, queue::QueueLayout::from_config(config), templates, {}, false, {}, {}};
    ctx.layout.queue_directory.assign(1, '.');
    std::string host = config.get("myhostname");
    ctx.settings.myhostname = host;
    ctx.settings.mail_name = config.get("mail_name");
    ctx.settings.bounce_size_limit =
        static_cast<long>(config::parse_int_value(util::trim(config.get("bounce_size_limit")), INT_MAX).value_or(50000));
    const config::ParamInfo* info = config::find_builtin("maximal_queue_lifetime");
    ctx.settings.max_queue_time =
        config::parse_time_value(config.get("maximal_queue_lifetime"), info ? info->unit : 'd').value_or(5 * 86400);
    ctx.settings.smtputf8_enable = config::parse_bool_value(config.get("smtputf8_enable")).value_or(true);
    ctx.settings.standard_from = !util::iequals(util::trim(config.get("header_from_format")), "obsolete");
    ctx.threaded = config::parse_bool_value(config.get("enable_threaded_bounces")).value_or(false);
    ctx.double_bounce = fmt::format("{}@{}", config.get("double_bounce_sender"), host);
    ctx.mail_daemon = fmt::format("MAILER-DAEMON@{}", host);
    return ctx;
}

int notice_service(const NoticeContext& ctx, std::string_view service, const ipc::BounceNoticeRequest& r) {
    if (!queue_name_ok(r.queue_name)) {
        util::msg_warn("malformed queue name: {}", util::printable(r.queue_name, true));
        return -1;
    }
    if (!queue::is_queue_id(r.queue_id)) {
        util::msg_warn("malformed queue id: {}", util::printable(r.queue_id, true));
        return -1;
    }
    if (util::msg_verbose)
        util::msg_info("bounce_notify_proto: flags=0x{:x} service={} queue={} id={} encoding={} smtputf8={} sender={} "
                       "envid={} ret=0x{:x}",
                       r.flags, service, r.queue_name, r.queue_id, r.encoding, r.smtputf8, r.sender, r.dsn_envid,
                       r.dsn_ret);
    if (r.request == "flush") {
        if (!r.verp_delims.empty() &&
            !config::parse_bool_value(ctx.config.get("verp_bounce_off")).value_or(false))
            return verp_service(ctx, service, r);
        return flush_service(ctx, service, r);
    }
    if (r.request == "warn") return warn_service(ctx, service, r);
    if (r.request == "trace") return trace_service(ctx, service, r);
    if (r.request == "verp") return verp_service(ctx, service, r);
    if (r.request == "one") {
        if (service != "bounce") {
            util::msg_warn("wrong service name \"{}\" for one-recipient bouncing", service);
            return -1;
        }
        return one_service(ctx, r);
    }
    util::msg_warn("unknown request: \"{}\"", r.request);
    return -1;
}

}  // namespace pf::bounce
