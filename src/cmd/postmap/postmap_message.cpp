// postmap(1) -q - with -h and/or -b (and -m): standard input is a message;
// each header (-h) and each body line (-b) is one lookup key, as
// header_checks and body_checks would see them (mail/mime_state.h). Without
// -m the message is not taken apart at MIME boundaries and only the primary
// headers are headers; with -h alone reading stops after them. Found keys
// print as "key<TAB>value" (a header spanning lines prints them all); exit
// 0 when one was found. The UTF-8 checks are off in this mode unless -U.
//
// Trust: the message is arbitrary bytes; keys end at a NUL byte.
#include "cmd/postmap/postmap.h"

#include "mail/mime_state.h"
#include "util/msg.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <vector>

namespace pf::postmap {
namespace {

std::string_view c_string(std::string_view s) {
    auto nul = s.find('\0');
    return nul == std::string_view::npos ? s : s.substr(0, nul);
}

}  // namespace

int query_message(char** maps, int count, const Options& opts) {
    std::vector<dict::DictPtr> dicts(static_cast<size_t>(count));
    bool found_any = false;
    bool stop = false;
    auto query = [&](std::string_view text) {
        std::string_view key = c_string(text);
        for (int i = 0; i < count; ++i) {
            auto& d = dicts[static_cast<size_t>(i)];
            if (!d) d = open_or_die(split_map(maps[i], opts.default_type), O_RDONLY, opts.dict_flags | dict::kLock);
            dict::LookupResult r = d->lookup(key);
            if (r.is_found()) {
                if (r.value().empty()) {
                    util::msg_warn("table {}: key {}: empty string result is not allowed", d->type_name(), key);
                    util::msg_warn("table {} should return NO RESULT in case of NOT FOUND", d->type_name());
                }
                print_output(key);
                print_output("\t");
                print_output(c_string(r.value()));
                print_output("\n");
                found_any = true;
                return;
            }
            if (r.is_error()) {
                const dict::Error& e = r.error();
                util::msg_fatal("table {}: query error: {}", d->type_name(),
                                e.kind == dict::Error::Kind::retry && !e.text.empty() ? e.text : "Success");
            }
        }
    };
    mail::MimeState::Callbacks cb;
    if (opts.header_mode) cb.header = [&](mail::HeaderClass, std::string_view h) { query(h); };
    if (opts.body_mode) cb.body = [&](std::string_view line) { query(line); };
    if (!opts.body_mode && !opts.mime_mode) cb.primary_header_end = [&] { stop = true; };
    mail::MimeState mime(opts.mime_mode, opts.header_size_limit, cb);

    std::string line;
    int c = 0;
    while (!stop && c != EOF) {
        line.clear();
        bool any = false;
        while ((c = std::getchar()) != EOF) {
            any = true;
            if (c == '\n') break;
            line += static_cast<char>(c);
        }
        if (!any) break;
        mime.line(line);
    }
    mime.end();
    flush_output();
    for (auto& d : dicts)
        if (d) (void)d->close();
    return found_any ? 0 : 1;
}

}  // namespace pf::postmap
