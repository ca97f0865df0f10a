// postconf(1) master.cf display: -M (entries), -F (fields), -P (-o
// parameters), with -f, -h, -H, -x and service patterns as arguments, and the
// "unused parameter" warnings for master.cf "-o" settings.
//
// Reproduces the reference's observed layout: the seven first fields start at
// columns 0, 11, 17, 25, 33, 41, 49 and the command at 57 (one blank at least
// between fields); with -f each "-o value" of the leading options gets its own
// line, other words are folded before column 80 onto lines indented by four
// blanks; an argument holding white space is shown in braces (except the word
// that ends the leading options). -P lists a service's settings sorted by
// name; services with the same name/type share one set of settings.
//
// Trust: master.cf and main.cf are admin-written; every value printed comes
// from them or from the command line.
#include "postconf.h"
#include "postconf_dbms.h"
#include "postconf_master_format.h"

#include "util/msg.h"
#include "util/strings.h"

#include <fmt/format.h>

#include <cstdio>
#include <cstdlib>
#include <map>
#include <set>

namespace pf::postconf {
namespace {

bool explicit_config_directory(const State& st) {
    if (st.opts.have_config_dir) return true;
    const char* env = std::getenv("MAIL_CONFIG");
    return env && *env;
}

struct Pattern {
    std::string arg;
    std::vector<std::string> parts;  // name, type, leaf; missing parts match all
    bool matched = false;
};

bool part_matches(const std::vector<std::string>& parts, size_t i, std::string_view value) {
    return i >= parts.size() || parts[i] == "*" || parts[i] == value;
}

std::vector<Pattern> parse_patterns(const State& st, size_t max_parts, std::string_view usage) {
    std::vector<Pattern> out;
    for (const auto& arg : st.opts.args) {
        auto parts = split_service_pattern(arg);
        if (parts.empty() || parts.size() > max_parts || parts[0].empty())
            util::msg_fatal("{}", usage);
        if (st.opts.has(kFields) && parts.size() == 3 && parts[2] != "*" && !config::master_field_index(parts[2]))
            util::msg_fatal("invalid service attribute name: \"{}\"", parts[2]);
        out.push_back(Pattern{arg, std::move(parts), false});
    }
    return out;
}

void print_text(const std::string& s) { std::fwrite(s.data(), 1, s.size(), stdout); }

}  // namespace

std::vector<std::string> split_service_pattern(std::string_view arg) {
    while (!arg.empty() && arg.back() == '/') arg.remove_suffix(1);
    std::vector<std::string> parts;
    if (arg.empty()) return parts;
    size_t start = 0;
    for (;;) {
        size_t slash = arg.find('/', start);
        parts.emplace_back(arg.substr(start, slash == std::string_view::npos ? arg.npos : slash - start));
        if (slash == std::string_view::npos) break;
        start = slash + 1;
    }
    return parts;
}

MasterDicts build_master_dicts(const std::vector<config::MasterEntry>& entries) {
    MasterDicts dicts;
    for (const auto& e : entries) {
        std::string key = e.name + "/" + e.type;
        auto it = dicts.by_key.find(key);
        if (it == dicts.by_key.end()) {
            if (e.params.empty()) continue;
            it = dicts.by_key.emplace(key, MasterDicts::Dict{}).first;
        }
        for (const auto& p : e.params) it->second[p.name] = p.value;
        dicts.of_entry[&e] = &it->second;
    }
    return dicts;
}

std::string expand_in_service(const State& st, const MasterDicts& dicts, const config::MasterEntry& e,
                              std::string_view text) {
    const auto* dict = dicts.find(e);
    config::ExpandHooks hooks;
    hooks.lookup = [&](std::string_view n) -> std::optional<std::string> {
        if (dict) {
            if (auto it = dict->find(n); it != dict->end()) return it->second;
        }
        if (n == "service_name") return e.name;
        if (n == "process_name") return e.command;
        return st.config.raw_value(n);
    };
    auto r = config::expand(text, hooks);
    if (r.status != config::ExpandStatus::ok) util::msg_fatal("macro processing error");
    return r.text;
}

std::vector<ShownArg> display_args(const State* st, const MasterDicts* dicts, const config::MasterEntry& e) {
    std::vector<ShownArg> out;
    out.reserve(e.args.size());
    for (size_t i = 0; i < e.args.size(); ++i) {
        std::string a = e.args[i];
        if (st && dicts && is_option_value(e, i)) a = expand_in_service(*st, *dicts, e, a);
        size_t width = a.size();
        // Braces come back around a value taken by "-o" (or "-") and around
        // words after the one that ended the options.
        bool blank = a.find_first_of(" \t\r\n") != std::string::npos;
        if (blank && (i > e.options_end || (i < e.options_end && is_taken_value(e, i)))) a = "{" + a + "}";
        out.push_back(ShownArg{std::move(a), width});
    }
    return out;
}

namespace {

// Whether an option word takes the next word along ("-o...", or a lone "-").
bool takes_value(std::string_view a) { return !a.empty() && a[0] == '-' && (a.size() == 1 || a[1] == 'o'); }

}  // namespace

// The index of the option word whose value args[index] is, or npos.
size_t value_owner(const config::MasterEntry& e, size_t index) {
    size_t i = 0;
    while (i < e.options_end && i < e.args.size()) {
        if (takes_value(e.args[i]) && i + 1 < e.args.size()) {
            if (i + 1 == index) return i;
            i += 2;
            continue;
        }
        ++i;
    }
    return std::string::npos;
}

bool is_option_value(const config::MasterEntry& e, size_t index) {
    size_t owner = value_owner(e, index);
    return owner != std::string::npos && e.args[owner] == "-o";
}

bool is_taken_value(const config::MasterEntry& e, size_t index) {
    return value_owner(e, index) != std::string::npos;
}

std::string format_arguments(std::string line, const config::MasterEntry& e, const std::vector<ShownArg>& shown,
                             bool fold) {
    // A word follows a blank only when the line holds more than the
    // continuation indent (so "postconf -Fh" joins "smtp" and "x": "smtpx").
    constexpr size_t kIndent = 4;
    std::string out;
    const size_t n = shown.size();
    // "-o" starts a line of its own; so does a lone "-" that has a word to take.
    auto is_pair = [&](size_t i) {
        if (i >= e.options_end || value_owner(e, i) != std::string::npos) return false;
        const std::string& a = e.args[i];
        return a.size() > 1 ? a[1] == 'o' : (a == "-" && i + 1 < n);
    };
    if (!fold) {
        for (size_t i = 0; i < n; ++i) {
            if (is_pair(i)) {
                line += ' ';
                line += shown[i].text;
                if (i + 1 < n) {
                    line += ' ';
                    line += shown[++i].text;
                }
                continue;
            }
            if (line.size() > kIndent) line += ' ';
            line += shown[i].text;
        }
        return line + "\n";
    }
    bool pending_break = false;
    auto flush = [&](std::string next) {
        out += line;
        out += '\n';
        line = std::move(next);
    };
    for (size_t i = 0; i < n; ++i) {
        const std::string& a = shown[i].text;
        if (is_pair(i)) {
            std::string l = "    " + a;
            if (i + 1 < n) {
                l += ' ';
                l += shown[++i].text;
            }
            flush(std::move(l));
            pending_break = true;
            continue;
        }
        if (pending_break) {
            flush("    " + a);
            pending_break = false;
        } else if (line.size() > kIndent && line.size() + 1 + shown[i].width > kFoldLimit) {
            // The reference measures a word without the braces it adds.
            flush("    " + a);
        } else {
            if (line.size() > kIndent) line += ' ';
            line += a;
        }
    }
    out += line;
    out += '\n';
    return out;
}

std::string format_master_entry(const config::MasterEntry& e, const std::vector<ShownArg>& shown, bool fold) {
    static constexpr size_t kColumns[config::kMasterFields] = {0, 11, 17, 25, 33, 41, 49, 57};
    std::string line;
    for (int i = 0; i < config::kMasterFields; ++i) {
        size_t stop = kColumns[i];
        if (i > 0) line += ' ';
        if (line.size() < stop) line.append(stop - line.size(), ' ');
        line += e.field(i);
    }
    return format_arguments(std::move(line), e, shown, fold);
}

void load_master_for_display(State& st) {
    if (!st.master_loaded) {
        st.master = config::load_master_cf(st.config.master_cf_path(), true);
        st.master_loaded = true;
    }
    std::vector<std::pair<std::string, std::string>> services;
    for (const auto& e : st.master) services.emplace_back(e.name, e.command);
    st.config.register_services(services);
}

void warn_unused_master_parameters(const State& st) {
    // Names main.cf values refer to are used in every service.
    std::set<std::string, std::less<>> main_refs;
    config::ExpandHooks scan;
    scan.scan_only = true;
    scan.on_reference = [&](std::string_view n) { main_refs.insert(std::string(n)); };
    for (const auto& a : st.config.main_cf().entries())
        if (st.config.type_of(a.name) != config::ParamType::Raw) config::expand(a.value, scan);
    for (const auto& p : config::builtin_parameters())
        if (p.type != config::ParamType::Raw && p.type != config::ParamType::Host) config::expand(p.default_value(), scan);
    if (const std::string* classes = st.config.main_cf().find("smtpd_restriction_classes"))
        for (auto c : util::split_tokens(*classes, util::kListSeparators)) main_refs.insert(std::string(c));

    const MasterDicts dicts = build_master_dicts(st.master);
    const std::string origin = st.config.master_cf_path();
    for (size_t k = 0; k < st.master.size(); ++k) {
        const auto& e = st.master[k];
        const auto* found = dicts.find(e);
        if (!found) continue;
        const auto& dict = *found;
        std::set<std::string, std::less<>> local_refs;
        config::ExpandHooks local;
        local.scan_only = true;
        local.on_reference = [&](std::string_view n) { local_refs.insert(std::string(n)); };
        // Syntax errors were reported when the values were first scanned.
        util::msg_set_quiet(true);
        for (const auto& [name, value] : dict)
            if (st.config.type_of(name) != config::ParamType::Raw) config::expand(value, local);
        if (auto it = dict.find("smtpd_restriction_classes"); it != dict.end())
            for (auto c : util::split_tokens(it->second, util::kListSeparators)) local_refs.insert(std::string(c));
        util::msg_set_quiet(false);
        for (const auto& [name, value] : dict) {
            if (st.config.is_builtin_or_service(name) || main_refs.count(name) || local_refs.count(name)) continue;
            if (is_dbms_service_parameter(k, name)) continue;
            util::msg_warn("{}: unused parameter: {}={}", origin, name, value);
        }
    }
}

void check_master_options(const Options& o) {
    if (!o.overrides.empty() && o.has(kDefaults | kEdit | kExclude | kCommentOut)) {
        std::string names;
        struct Named {
            unsigned flag;
            const char* name;
        };
        for (auto [flag, name] : {Named{kDefaults, "-d"}, Named{kEdit, "-e"}, Named{0u, "-o"}, Named{kExclude, "-X"},
                                  Named{kCommentOut, "-#"}}) {
            if (flag != 0 && !o.has(flag)) continue;
            names += names.empty() ? "" : " ";
            names += name;
        }
        util::msg_fatal("specify one of {}", names);
    }
    const char* mode = nullptr;
    unsigned forbidden = 0;
    if (o.has(kMaster)) {
        mode = "-M";
        forbidden = kDefaults | kNoNames | kNoValues | kNonDefault;
    } else if (o.has(kFields)) {
        mode = "-F";
        forbidden = kDefaults | kNonDefault | kExclude | kCommentOut;
    } else if (o.has(kMasterParams)) {
        mode = "-P";
        forbidden = kDefaults | kNonDefault | kCommentOut;
    } else {
        return;
    }
    if (o.flags & forbidden) {
        std::string names;
        struct Named {
            unsigned flag;
            const char* name;
        };
        for (auto [flag, name] : {Named{kDefaults, "-d"}, Named{kNoNames, "-h"}, Named{kNoValues, "-H"},
                                  Named{kNonDefault, "-n"}, Named{kExclude, "-X"}, Named{kCommentOut, "-#"}}) {
            if (!(o.flags & forbidden & flag)) continue;
            names += ' ';
            names += name;
        }
        util::msg_fatal("with option {}, do not specify{}", mode, names);
    }
    if (o.has(kEdit) && o.args.empty()) util::msg_fatal("-e requires name=value argument");
    if (o.has(kExclude | kCommentOut) && o.args.empty()) util::msg_fatal("missing service argument");
}

int show_master(State& st) {
    const Options& o = st.opts;
    const bool entries = o.has(kMaster);
    const bool fields = o.has(kFields);
    std::vector<Pattern> patterns;
    if (entries) patterns = parse_patterns(st, 2, "-M option requires service_name[/type]");
    else if (fields) patterns = parse_patterns(st, 3, "-F option requires service_name[/type[/field]]");
    else patterns = parse_patterns(st, 3, "-P option requires service_name[/type[/parameter]]");

    // The reference reads master.cf before main.cf here (its errors come first).
    if (!st.master_loaded) {
        st.master = config::load_master_cf(st.config.master_cf_path(), true);
        st.master_loaded = true;
    }
    st.config.load_main_cf(explicit_config_directory(st));
    for (const auto& [k, v] : o.overrides) st.config.main_cf().set(k, v);
    load_master_for_display(st);
    if (st.config.raw_value("compatibility_level")) {
        auto r = st.config.expand_text("${{$compatibility_level} <level {0} ? {} : {}}");
        if (r.status != config::ExpandStatus::ok) util::msg_fatal("macro processing error");
    }
    analyse_user_parameters(st);
    check_database_tables(st);

    const MasterDicts dicts = build_master_dicts(st.master);
    const bool expand = o.has(kExpand);
    const bool fold = o.has(kFold);

    auto show_entry = [&](const config::MasterEntry& e) {
        print_text(format_master_entry(e, display_args(expand ? &st : nullptr, &dicts, e), fold));
    };
    auto show_field = [&](const config::MasterEntry& e, int f) {
        std::string name = fmt::format("{}/{}/{}", e.name, e.type, config::master_field_name(f));
        if (f != config::kMasterFields - 1 || o.has(kNoValues)) {
            print_parameter(o, name, e.field(f));
            return;
        }
        std::string line = o.has(kNoNames) ? e.command : name + " = " + e.command;
        print_text(format_arguments(std::move(line), e, display_args(expand ? &st : nullptr, &dicts, e), fold));
    };
    auto show_params = [&](const config::MasterEntry& e, const Pattern* p) {
        const auto* dict = dicts.find(e);
        if (!dict) return false;
        bool any = false;
        for (const auto& [name, value] : *dict) {
            if (p && !part_matches(p->parts, 2, name)) continue;
            any = true;
            std::string v = expand ? expand_in_service(st, dicts, e, value) : value;
            print_parameter(o, fmt::format("{}/{}/{}", e.name, e.type, name), v);
        }
        return any;
    };

    if (patterns.empty()) {
        for (const auto& e : st.master) {
            if (entries) show_entry(e);
            else if (fields)
                for (int f = 0; f < config::kMasterFields; ++f) show_field(e, f);
            else show_params(e, nullptr);
        }
    } else {
        // Entries in file order, each shown for every pattern it matches.
        for (const auto& e : st.master) {
            for (auto& p : patterns) {
                if (!part_matches(p.parts, 0, e.name) || !part_matches(p.parts, 1, e.type)) continue;
                if (entries) {
                    show_entry(e);
                    p.matched = true;
                } else if (fields) {
                    for (int f = 0; f < config::kMasterFields; ++f) {
                        if (!part_matches(p.parts, 2, config::master_field_name(f))) continue;
                        show_field(e, f);
                        p.matched = true;
                    }
                } else if (show_params(e, &p)) {
                    p.matched = true;
                }
            }
        }
        for (const auto& p : patterns)
            if (!p.matched) util::msg_warn("unmatched request: \"{}\"", p.arg);
    }
    warn_unused_master_parameters(st);
    std::fflush(stdout);
    return 0;
}

}  // namespace pf::postconf
