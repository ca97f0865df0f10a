// postconf(1) main.cf editing: -e (also implied by a first argument with
// "="), -X (remove) and -# (comment out). Reproduces the reference's edits
// byte for byte: an edited entry's continuation lines go with it, comment and
// blank lines stay where they are, new entries are appended as "name = value".
//
// Trust: main.cf is admin-written; command-line values are taken verbatim.
#include "postconf.h"

#include "config/logical_lines.h"
#include "config/main_cf.h"
#include "util/msg.h"
#include "util/strings.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <map>

namespace pf::postconf {
namespace {

// The parameter name at the start of a main.cf line.
std::string_view line_name(std::string_view line) {
    size_t end = 0;
    while (end < line.size() && !util::is_space(line[end]) && line[end] != '=') ++end;
    return line.substr(0, end);
}

// Replaces path with content, keeping the file's mode; fatal on failure.
void replace_file(const std::string& path, const std::string& content, mode_t mode) {
    std::string tmp = path + ".tmp";
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode & 07777);
    if (fd < 0) util::msg_fatal("open {}: {}", tmp, std::strerror(errno));
    size_t done = 0;
    while (done < content.size()) {
        ssize_t n = ::write(fd, content.data() + done, content.size() - done);
        if (n < 0) {
            if (errno == EINTR) continue;
            int saved = errno;
            ::close(fd);
            ::unlink(tmp.c_str());
            util::msg_fatal("write {}: {}", tmp, std::strerror(saved));
        }
        done += static_cast<size_t>(n);
    }
    if (::fsync(fd) != 0 || ::close(fd) != 0) {
        int saved = errno;
        ::unlink(tmp.c_str());
        util::msg_fatal("close {}: {}", tmp, std::strerror(saved));
    }
    if (::rename(tmp.c_str(), path.c_str()) != 0) {
        int saved = errno;
        ::unlink(tmp.c_str());
        util::msg_fatal("rename {} to {}: {}", tmp, path, std::strerror(saved));
    }
}

}  // namespace

int edit_main_cf(State& st) {
    const Options& o = st.opts;
    enum class Mode { set, remove, comment } mode =
        o.has(kEdit) ? Mode::set : (o.has(kExclude) ? Mode::remove : Mode::comment);

    // What to change, validated before anything is touched.
    std::map<std::string, std::string, std::less<>> wanted;  // name -> new value
    std::vector<std::string> order;
    for (const auto& arg : o.args) {
        if (arg.find('\n') != std::string::npos) util::msg_fatal("-e, -X, or -# accepts no multi-line input");
        std::string name, value;
        if (mode == Mode::set) {
            std::string error;
            auto nv = config::split_name_value(arg, error);
            if (!nv) util::msg_fatal("{}: \"{}\"", error, util::trim_left(arg));
            name = std::move(nv->name);
            value = std::move(nv->value);
        } else {
            name = std::string(util::trim(arg));
        }
        if (auto it = wanted.find(name); it == wanted.end()) order.push_back(name);
        else if (mode == Mode::set) util::msg_warn("ignoring earlier request: '{} = {}'", name, it->second);
        wanted[name] = value;
    }

    const std::string path = st.config.main_cf_path();
    std::string content;
    if (!util::read_file(path, content)) util::msg_fatal("open {} for reading: {}", path, std::strerror(errno));
    struct stat sb{};
    mode_t file_mode = ::stat(path.c_str(), &sb) == 0 ? sb.st_mode : 0644;

    std::string out;
    std::map<std::string, int, std::less<>> seen;
    bool in_edited = false;  // continuation lines belong to an edited entry
    const auto lines = config::physical_lines(content);
    const bool unterminated = !content.empty() && content.back() != '\n';
    for (size_t idx = 0; idx < lines.size(); ++idx) {
        std::string_view line = lines[idx];
        std::string_view body = util::trim_left(line);
        bool keep_newline = true;
        if (body.empty() || body.front() == '#') {
            out.append(line);
        } else if (util::is_space(line.front())) {
            if (!in_edited) out.append(line);
            else if (mode == Mode::comment) out.append("#").append(line);
            else keep_newline = false;
        } else {
            auto name = line_name(line);
            auto it = wanted.find(name);
            in_edited = it != wanted.end();
            if (!in_edited) {
                out.append(line);
            } else {
                if (++seen[it->first] == 2) util::msg_warn("{}: multiple entries for \"{}\"", path, it->first);
                if (mode == Mode::set) {
                    // A rewritten line always ends in a newline.
                    out.append(it->first).append(" = ").append(it->second).append("\n");
                    keep_newline = false;
                }
                else if (mode == Mode::comment) out.append("#").append(line);
                else keep_newline = false;
            }
        }
        // The reference leaves an unterminated last line unterminated, even
        // when it then appends new entries right after it.
        if (keep_newline && !(unterminated && idx + 1 == lines.size())) out += '\n';
    }
    if (mode == Mode::set) {
        for (const auto& name : order) {
            if (seen.count(name)) continue;
            out.append(name).append(" = ").append(wanted[name]).append("\n");
        }
    }
    if (out != content) replace_file(path, out, file_mode);
    return 0;
}

}  // namespace pf::postconf
