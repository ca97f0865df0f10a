// smtp-sink(1) capture files; see sink_dump.h.
#include "sink_dump.h"

#include "sink_config.h"

#include "mail/mail_date.h"
#include "util/msg.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

namespace pf::smtp_sink {

std::string expand_template(const std::string& tmpl, std::time_t when) {
    std::tm lt{};
    localtime_r(&when, &lt);
    std::vector<char> buf(100);
    for (;;) {
        std::size_t n = std::strftime(buf.data(), buf.size(), tmpl.c_str(), &lt);
        if (n > 0 || tmpl.empty() || buf.size() > (1u << 20)) return std::string(buf.data(), n);
        buf.resize(buf.size() + 100);
    }
}

bool make_dirs(const std::string& path, mode_t mode) {
    std::string part;
    std::size_t pos = 0;
    while (pos <= path.size()) {
        std::size_t slash = path.find('/', pos);
        if (slash == std::string::npos) slash = path.size();
        part = path.substr(0, slash);
        pos = slash + 1;
        if (part.empty() || part.back() == '/') continue;
        struct stat st{};
        if (::stat(part.c_str(), &st) == 0) {
            if (!S_ISDIR(st.st_mode)) {
                errno = ENOTDIR;
                return false;
            }
            continue;
        }
        if (errno != ENOENT) return false;
        if (::mkdir(part.c_str(), mode) < 0 && errno != EEXIST) return false;
    }
    return true;
}

namespace {

std::string parent_of(const std::string& path) {
    std::size_t slash = path.find_last_of('/');
    if (slash == std::string::npos) return ".";
    while (slash > 0 && path[slash - 1] == '/') --slash;
    if (slash == 0) return "/";
    return path.substr(0, slash);
}

void make_parent_dir(const std::string& path) {
    std::string parent = parent_of(path);
    if (!make_dirs(parent, 0755)) util::msg_fatal("mkdir {}: {}", parent, std::strerror(errno));
}

}  // namespace

DumpFile::DumpFile(const SinkConfig& cfg, const Client& client)
    : cfg_(cfg), client_(client), start_(std::time(nullptr)) {
    std::string base = expand_template(cfg.single_template, start_);
    for (int tries = 1;; ++tries) {
        if (tries > 100) util::msg_fatal("mail_file_open: something is looping");
        id_ = static_cast<unsigned>(std::rand());
        path_ = base + fmt::format("{:08x}", id_);
        int fd = ::open(path_.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        if (fd >= 0) {
            fp_ = ::fdopen(fd, "w+");
            if (fp_ == nullptr) util::msg_fatal("open {}: {}", path_, std::strerror(errno));
            break;
        }
        if (errno == EEXIST) continue;
        if (errno == ENOENT) {
            make_parent_dir(path_);
            continue;
        }
        util::msg_fatal("open {}: {}", path_, std::strerror(errno));
    }
    if (cfg.shared && ::unlink(path_.c_str()) < 0) util::msg_fatal("unlink {}: {}", path_, std::strerror(errno));
    if (cfg.have_start_string) std::fputs(cfg.start_string.c_str(), fp_);  // stops at a NUL, as "%s"
    header("X-Client-Addr", client_.addr);
    header("X-Client-Proto", client_.proto);
    if (client_.helo) header("X-Helo-Args", *client_.helo);
}

DumpFile::~DumpFile() {
    if (fp_ != nullptr) std::fclose(fp_);
}

void DumpFile::header(std::string_view name, std::string_view value) {
    fmt::print(fp_, "{}: {}\n", name, value);
}

void DumpFile::finish_header(const std::string& hostname) {
    if (client_.helo)
        fmt::print(fp_, "Received: from {} ([{}])\n", *client_.helo, client_.addr);
    else
        fmt::print(fp_, "Received: from [{}] ([{}])\n", client_.addr, client_.addr);
    fmt::print(fp_, "\tby {} (smtp-sink) with {} id {:08x};\n", hostname, client_.proto, id_);
    fmt::print(fp_, "\t{}\n", mail::mail_date(start_));
}

void DumpFile::fail_append() { util::msg_fatal("append file {}: {}", path_, std::strerror(errno)); }

void DumpFile::finish() {
    if (cfg_.shared) {
        std::string out_path = expand_template(cfg_.single_template, start_);
        int out = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        if (out < 0 && errno == ENOENT) {
            make_parent_dir(out_path);
            out = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        }
        if (out < 0) util::msg_fatal("open {}: {}", out_path, std::strerror(errno));
        if (std::fflush(fp_) != 0) fail_append();
        if (std::fseek(fp_, 0L, SEEK_SET) < 0) util::msg_fatal("seek file {}: {}", path_, std::strerror(errno));
        char buf[8192];
        std::size_t n;
        while ((n = std::fread(buf, 1, sizeof(buf), fp_)) > 0) {
            std::size_t done = 0;
            while (done < n) {
                ssize_t w = ::write(out, buf + done, n - done);
                if (w < 0 && errno == EINTR) continue;
                if (w <= 0) util::msg_fatal("append file {}: {}", out_path, std::strerror(errno));
                done += static_cast<std::size_t>(w);
            }
        }
        if (std::ferror(fp_)) util::msg_fatal("read file {}: {}", path_, std::strerror(errno));
        if (::close(out) < 0) util::msg_fatal("append file {}: {}", out_path, std::strerror(errno));
    }
    std::fclose(fp_);
    fp_ = nullptr;
}

void DumpFile::reset() {
    if (!cfg_.shared && ::unlink(path_.c_str()) < 0 && errno != ENOENT)
        util::msg_fatal("unlink {}: {}", path_, std::strerror(errno));
    if (fp_ != nullptr) std::fclose(fp_);
    fp_ = nullptr;
}

}  // namespace pf::smtp_sink
