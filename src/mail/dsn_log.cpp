// Reading delivery status logs; see dsn_log.h.
#include "mail/dsn_log.h"

#include "config/main_cf.h"
#include "util/utf8.h"

#include <cctype>
#include <cstdlib>
#include <fmt/core.h>

namespace pf::mail {
namespace {

bool notify_ok(int n) {
    // NEVER alone, or any mix of SUCCESS, FAILURE and DELAY.
    return n == kDsnNotifyNever || (n > 0 && (n & ~kDsnNotifyAny) == 0);
}

void reset(DsnLogEntry& e) { e = DsnLogEntry(); }

// Fills in the reference's stand-ins for what the entry lacks.
void complete(DsnLogEntry& e, bool defer_log) {
    if (e.address.empty()) e.address = "(recipient address unavailable)";
    if (e.status.empty()) e.status = defer_log ? "4.0.0" : "5.0.0";
    if (e.action.empty()) e.action = defer_log ? "delayed" : "failed";
    if (e.reason.empty()) e.reason = "(description unavailable)";
}

}  // namespace

std::vector<DsnLogEntry> parse_dsn_log(std::string_view content, bool defer_log, std::string_view path, bool utf8,
                                       const WarningSink& warn) {
    std::vector<DsnLogEntry> entries;
    DsnLogEntry entry;
    bool found = false;
    size_t pos = 0;
    while (pos < content.size()) {
        size_t nl = content.find('\n', pos);
        std::string_view raw = nl == std::string_view::npos ? content.substr(pos) : content.substr(pos, nl - pos);
        pos = nl == std::string_view::npos ? content.size() : nl + 1;
        // A line stops at a NUL byte, as C strings do.
        if (size_t nul = raw.find('\0'); nul != std::string_view::npos) raw = raw.substr(0, nul);
        if (raw.empty()) {
            if (found) {
                complete(entry, defer_log);
                entries.push_back(std::move(entry));
                reset(entry);
            }
            found = false;
            continue;
        }
        std::string line = util::printable(raw, utf8);
        found = true;
        unsigned char first = static_cast<unsigned char>(line[0]);
        if (std::isalnum(first)) {
            std::string error;
            auto nv = config::split_name_value(line, error);
            if (!nv) {
                emit_warning(warn, fmt::format("{}: malformed record: {}", path, error));
                continue;
            }
            const std::string& name = nv->name;
            std::string& value = nv->value;
            if (name == "recipient") {
                entry.address = value.empty() ? "(MAILER-DAEMON)" : value;
            } else if (name == "original_recipient") {
                entry.orig_addr = value.empty() ? "(MAILER-DAEMON)" : value;
            } else if (name == "dsn_orig_rcpt") {
                entry.dsn_orcpt = value;
            } else if (name == "notify_flags") {
                int n = std::atoi(value.c_str());
                if (n > 0 && notify_ok(n)) entry.dsn_notify = n;
            } else if (name == "offset") {
                long n = std::atol(value.c_str());
                if (n > 0) entry.offset = n;
            } else if (name == "status") {
                entry.status = value;
            } else if (name == "action") {
                entry.action = value;
            } else if (name == "diag_type") {
                entry.dtype = value;
            } else if (name == "diag_text") {
                entry.dtext = value;
            } else if (name == "mta_type") {
                entry.mtype = value;
            } else if (name == "mta_mname") {
                entry.mname = value;
            } else if (name == "reason") {
                entry.reason = value;
            } else {
                emit_warning(warn, fmt::format("{}: unknown attribute name: {}, ignored", path, name));
            }
            continue;
        }
        if (line[0] != '<') {
            emit_warning(warn, fmt::format("{}: malformed record: {:.30}...", path, line));
            continue;
        }
        std::string_view rest = std::string_view(line).substr(1);
        size_t end = rest.find(">: ");
        if (end == std::string_view::npos) {
            emit_warning(warn, fmt::format("{}: malformed record: {:.30}...", path, line));
            continue;
        }
        std::string_view address = rest.substr(0, end);
        entry.address = address.empty() ? std::string("(MAILER-DAEMON)") : std::string(address);
        std::string_view text = rest.substr(end + 2);
        while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) text.remove_prefix(1);
        entry.reason = text;
    }
    return entries;
}

}  // namespace pf::mail
