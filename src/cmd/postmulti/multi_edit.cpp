// postmulti(1) -e actions, done in process with the effects and messages
// the reference's postmulti-script has (see multi_edit.h).
#include "cmd/postmulti/multi_edit.h"

#include "ipc/maillog_client.h"
#include "util/msg.h"
#include "util/strings.h"

#include <cerrno>
#include <dirent.h>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <utility>
#include <vector>

extern char** environ;

namespace pf::postmulti {

namespace {

using util::msg_fatal;
using util::msg_warn;

constexpr std::array<std::pair<std::string_view, EditAction>, 8> kActions = {{
    {"create", EditAction::create},
    {"import", EditAction::import},
    {"destroy", EditAction::destroy},
    {"deport", EditAction::deport},
    {"enable", EditAction::enable},
    {"disable", EditAction::disable},
    {"assign", EditAction::assign},
    {"init", EditAction::init},
}};

// The install parameters a new instance copies from the primary when the
// primary sets them explicitly (else they are commented out).
constexpr std::array<const char*, 13> kSharedParameters = {
    "command_directory", "daemon_directory", "meta_directory",    "mail_owner",        "setgid_group",
    "sendmail_path",     "mailq_path",       "newaliases_path",   "html_directory",    "manpage_directory",
    "sample_directory",  "readme_directory", "shlib_directory",
};

// The queue subdirectories destroy removes (when empty).
constexpr std::array<const char*, 15> kQueueSubdirs = {"active", "bounce",   "corrupt", "defer",   "deferred",
                                                       "flush",  "hold",     "incoming", "maildrop", "pid",
                                                       "private", "public", "saved",   "trace",   nullptr};

struct Runner {
    std::string command_directory;

    // Runs a program, stdout captured when out is given, stdout/stderr
    // discarded when quiet; its exit status (127: could not run).
    int run(std::vector<std::string> args, std::string* out = nullptr, bool quiet = false) const {
        int fds[2] = {-1, -1};
        if (out && ::pipe2(fds, O_CLOEXEC) < 0) return 127;
        pid_t pid = ::fork();
        if (pid < 0) return 127;
        if (pid == 0) {
            if (out) ::dup2(fds[1], 1);
            if (quiet) {
                int null = ::open("/dev/null", O_WRONLY);
                if (null >= 0) {
                    ::dup2(null, 1);
                    ::dup2(null, 2);
                }
            }
            std::vector<char*> argv;
            for (auto& a : args) argv.push_back(a.data());
            argv.push_back(nullptr);
            ::execvp(argv[0], argv.data());
            ::_exit(127);
        }
        if (out) {
            ::close(fds[1]);
            char buf[4096];
            for (;;) {
                ssize_t n = ::read(fds[0], buf, sizeof(buf));
                if (n < 0 && errno == EINTR) continue;
                if (n <= 0) break;
                out->append(buf, static_cast<std::size_t>(n));
            }
            ::close(fds[0]);
        }
        int status = 0;
        while (::waitpid(pid, &status, 0) < 0)
            if (errno != EINTR) return 127;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
    std::string postconf() const { return command_directory + "/postconf"; }
    std::string postfix() const { return command_directory + "/postfix"; }
};

// As the shell's command substitution: trailing newlines dropped.
std::string chomp(std::string s) {
    while (!s.empty() && s.back() == '\n') s.pop_back();
    return s;
}

bool is_dir(const std::string& path) {
    struct stat st{};
    return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}
bool is_file(const std::string& path) {
    struct stat st{};
    return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

// mkdir -p under the current umask; false (with mkdir's message) on failure.
bool make_dirs(const std::string& path) {
    std::string partial;
    std::size_t pos = 0;
    while (pos <= path.size()) {
        std::size_t slash = path.find('/', pos);
        partial = path.substr(0, slash == std::string::npos ? path.size() : slash);
        pos = slash == std::string::npos ? path.size() + 1 : slash + 1;
        if (partial.empty() || is_dir(partial)) continue;
        if (::mkdir(partial.c_str(), 0777) < 0 && errno != EEXIST) {
            std::fprintf(stderr, "mkdir: cannot create directory '%s': %s\n", partial.c_str(), std::strerror(errno));
            return false;
        }
    }
    return true;
}

// cp -p: contents, mode and times.
bool copy_preserve(const std::string& from, const std::string& to) {
    int in = ::open(from.c_str(), O_RDONLY | O_CLOEXEC);
    if (in < 0) {
        std::fprintf(stderr, "cp: cannot stat '%s': %s\n", from.c_str(), std::strerror(errno));
        return false;
    }
    struct stat st{};
    ::fstat(in, &st);
    int out = ::open(to.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, st.st_mode & 07777);
    if (out < 0) {
        std::fprintf(stderr, "cp: cannot create regular file '%s': %s\n", to.c_str(), std::strerror(errno));
        ::close(in);
        return false;
    }
    char buf[65536];
    bool ok = true;
    for (;;) {
        ssize_t n = ::read(in, buf, sizeof(buf));
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) ok = false;
        if (n <= 0) break;
        if (::write(out, buf, static_cast<std::size_t>(n)) != n) {
            ok = false;
            break;
        }
    }
    ::fchmod(out, st.st_mode & 07777);
    if (::fchown(out, st.st_uid, st.st_gid) < 0) {
        // As cp -p: ownership is kept when allowed.
    }
    struct timespec times[2] = {st.st_atim, st.st_mtim};
    ::futimens(out, times);
    ::close(in);
    if (::close(out) < 0) ok = false;
    return ok;
}

class Editor {
public:
    explicit Editor(const EditRequest& req) : req_(req) {
        run_.command_directory = req.primary.get("command_directory");
    }

    int run();

private:
    [[noreturn]] void fatal(const std::string& text) { msg_fatal("{}", text); }
    int postconf_edit(std::vector<std::string> settings, const std::string* config_dir = nullptr);
    int assign_names();
    int update_cfdirs(bool add, const std::string& dir);
    int create_or_import();
    int deport();
    int destroy();

    const EditRequest& req_;
    Runner run_;
};

int Editor::postconf_edit(std::vector<std::string> settings, const std::string* config_dir) {
    std::vector<std::string> args = {run_.postconf()};
    if (config_dir) args.insert(args.end(), {"-c", *config_dir});
    args.push_back("-e");
    for (auto& s : settings) args.push_back(std::move(s));
    return run_.run(std::move(args));
}

int Editor::assign_names() {
    std::vector<std::string> settings;
    auto clear_dash = [](const std::string& v) { return v == "-" ? std::string() : v; };
    if (req_.new_name && !req_.new_name->empty())
        settings.push_back("multi_instance_name = " + clear_dash(*req_.new_name));
    if (req_.new_group && !req_.new_group->empty())
        settings.push_back("multi_instance_group = " + clear_dash(*req_.new_group));
    if (settings.empty()) return 0;
    return postconf_edit(std::move(settings), &req_.target.config_dir) == 0 ? 0 : 1;
}

// Keeps multi_instance_directories and alternate_config_directories of
// the primary in step: a managed instance is not an "alternate" one.
int Editor::update_cfdirs(bool add, const std::string& dir) {
    std::string alt;
    if (run_.run({run_.postconf(), "-h", "alternate_config_directories"}, &alt) != 0) return 1;
    alt = chomp(alt);
    std::string keep;
    bool found = false;
    for (auto word : util::split_tokens(alt, " \t\n,")) {
        if (word == dir)
            found = true;
        else
            keep += " " + std::string(word);
    }
    std::vector<std::string> settings = {"multi_instance_directories = " + req_.multi_dirs.value_or("")};
    if (add && !found) settings.push_back("alternate_config_directories =" + keep + " " + dir);
    if (!add && found) settings.push_back("alternate_config_directories =" + keep);
    return postconf_edit(std::move(settings)) == 0 ? 0 : 1;
}

int Editor::create_or_import() {
    const Instance& t = req_.target;
    const std::string& cfdir = t.config_dir;
    if (!(is_file(cfdir + "/main.cf") && is_file(cfdir + "/master.cf"))) {
        if (req_.action != EditAction::create) {
            if (!is_file(cfdir + "/main.cf")) fatal("'" + cfdir + "' lacks a main.cf file");
            fatal("'" + cfdir + "' lacks a master.cf file");
        }
        std::string meta = req_.primary.get("meta_directory");
        if (!is_file(meta + "/main.cf.proto")) fatal("Missing main.cf prototype: " + meta + "/main.cf.proto");
        if (!is_file(meta + "/master.cf.proto")) fatal("Missing master.cf prototype: " + meta + "/master.cf.proto");
        if (!is_dir(cfdir) && !make_dirs(cfdir)) return 1;
        if (!is_dir(t.queue_dir) && !make_dirs(t.queue_dir)) return 1;
        if (!is_dir(t.data_dir)) {
            mode_t old = ::umask(077);
            bool ok = make_dirs(t.data_dir);
            ::umask(old);
            if (!ok) return 1;
        }
        std::string tmpdir = cfdir + "/.tmp";
        mode_t old = ::umask(077);
        bool ok = make_dirs(tmpdir);
        ::umask(old);
        if (!ok) return 1;
        if (!copy_preserve(meta + "/main.cf.proto", tmpdir + "/main.cf")) return 1;
        // Install parameters set explicitly in the primary are copied; the
        // others are commented out in the new main.cf.
        std::vector<std::string> copied;
        std::vector<std::string> comment_out;
        for (const char* p : kSharedParameters) {
            std::string val;
            if (run_.run({run_.postconf(), "-nh", p}, &val) != 0) return 1;
            val = chomp(val);
            if (!val.empty())
                copied.push_back(std::string(p) + " = " + val);
            else
                comment_out.emplace_back(p);
        }
        if (!comment_out.empty()) {
            std::vector<std::string> args = {run_.postconf(), "-c", tmpdir, "-#"};
            args.insert(args.end(), comment_out.begin(), comment_out.end());
            if (run_.run(std::move(args)) != 0) return 1;
        }
        std::vector<std::string> settings = {"queue_directory = " + t.queue_dir, "data_directory = " + t.data_dir,
                                             "authorized_submit_users =", "master_service_disable = inet"};
        settings.insert(settings.end(), copied.begin(), copied.end());
        if (postconf_edit(std::move(settings), &tmpdir) != 0) return 1;
        if (!copy_preserve(meta + "/master.cf.proto", tmpdir + "/master.cf")) return 1;
        // master.cf goes last: once it is there, the instance is complete.
        for (const char* f : {"/main.cf", "/master.cf"}) {
            if (::rename((tmpdir + f).c_str(), (cfdir + f).c_str()) < 0) {
                std::fprintf(stderr, "mv: cannot move '%s' to '%s': %s\n", (tmpdir + f).c_str(), (cfdir + f).c_str(),
                             std::strerror(errno));
                return 1;
            }
        }
        ::rmdir(tmpdir.c_str());
    }
    if (assign_names() != 0) return 1;
    // Before set-permissions: until it is listed, postfix(1) would treat
    // the new instance as an independent one.
    if (update_cfdirs(false, cfdir) != 0) return 1;
    return run_.run({run_.postfix(), "-c", cfdir, "set-permissions"}) == 0 ? 0 : 1;
}

int Editor::deport() {
    const std::string& cfdir = req_.target.config_dir;
    if (!is_file(cfdir + "/main.cf")) return update_cfdirs(false, cfdir);
    if (run_.run({run_.postfix(), "-c", cfdir, "status"}, nullptr, true) == 0)
        fatal("Instance '" + cfdir + "' is not stopped");
    return update_cfdirs(true, cfdir);
}

int Editor::destroy() {
    const Instance& t = req_.target;
    const std::string& cfdir = t.config_dir;
    if (!is_file(cfdir + "/main.cf")) fatal(cfdir + "/main.cf file not found");
    if (run_.run({run_.postfix(), "-c", cfdir, "status"}, nullptr, true) == 0)
        fatal("Instance '" + cfdir + "' is not stopped");
    if (update_cfdirs(false, cfdir) != 0) return 1;
    // Only known names, only when empty: anything else stays for the admin.
    auto remove_dir = [](const std::string& path, const std::string& shown, const std::string& warn_path) {
        if (::rmdir(path.c_str()) == 0) return;
        std::fprintf(stderr, "rmdir: failed to remove '%s': %s\n", shown.c_str(), std::strerror(errno));
        std::fflush(stderr);
        msg_warn("{}: please verify contents and remove by hand", warn_path);
    };
    if (is_dir(t.queue_dir)) {
        // Our queue-file pool (queue/queue_file_pool.h) holds only emptied
        // files, never mail: it goes with the instance.
        std::string pool = t.queue_dir + "/recycle";
        if (DIR* d = ::opendir(pool.c_str())) {
            while (struct dirent* e = ::readdir(d)) {
                std::string path = pool + "/" + e->d_name;
                struct stat st{};
                if (::lstat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode)) ::unlink(path.c_str());
            }
            ::closedir(d);
            ::rmdir(pool.c_str());
        }
        for (const char* q : kQueueSubdirs) {
            if (!q) break;
            remove_dir(t.queue_dir + "/" + q, q, t.queue_dir + "/" + q);
        }
    }
    for (const std::string* dir : {&t.data_dir, &t.queue_dir}) remove_dir(*dir, *dir, *dir);
    ::unlink((cfdir + "/master.cf").c_str());
    ::unlink((cfdir + "/main.cf").c_str());
    remove_dir(cfdir, cfdir, cfdir);
    return 0;
}

int Editor::run() {
    if (req_.action == EditAction::init)
        return postconf_edit({"multi_instance_wrapper = ${command_directory}/postmulti -p --",
                              "multi_instance_enable = yes"});
    std::string wrapper, enable;
    if (run_.run({run_.postconf(), "-hx", "multi_instance_wrapper"}, &wrapper) != 0) return 1;
    if (run_.run({run_.postconf(), "-hx", "multi_instance_enable"}, &enable) != 0) return 1;
    if (chomp(wrapper).empty()) fatal("multi_instance_wrapper is empty, run 'postmulti -e init' first.");
    if (chomp(enable) != "yes") fatal("multi_instance_enable!=yes, run 'postmulti -e init' first.");
    switch (req_.action) {
    case EditAction::create:
    case EditAction::import: return create_or_import();
    case EditAction::deport: return deport();
    case EditAction::destroy: return destroy();
    case EditAction::enable:
        return postconf_edit({"multi_instance_enable = yes"}, &req_.target.config_dir) == 0 ? 0 : 1;
    case EditAction::disable:
        return postconf_edit({"multi_instance_enable = no"}, &req_.target.config_dir) == 0 ? 0 : 1;
    case EditAction::assign: return assign_names();
    case EditAction::init: break;
    }
    return 0;
}

// Keeps only the environment import_environment names (and sets its
// name=value entries), as the reference does before its helper runs.
void clean_environment(const config::Config& cfg) {
    const std::string setting = cfg.get("import_environment");
    std::vector<std::pair<std::string, std::string>> keep;
    for (auto word : util::split_tokens(setting, util::kListSeparators)) {
        auto eq = word.find('=');
        if (eq != std::string_view::npos) {
            keep.emplace_back(std::string(word.substr(0, eq)), std::string(word.substr(eq + 1)));
        } else if (const char* v = std::getenv(std::string(word).c_str())) {
            keep.emplace_back(std::string(word), v);
        }
    }
    ::clearenv();
    for (const auto& [name, value] : keep)
        if (!name.empty()) ::setenv(name.c_str(), value.c_str(), 1);
}

}  // namespace

std::optional<EditAction> parse_edit_action(std::string_view word) {
    for (const auto& [name, action] : kActions)
        if (name == word) return action;
    return std::nullopt;
}

const char* edit_action_name(EditAction action) {
    for (const auto& [name, a] : kActions)
        if (a == action) return name.data();
    return "";
}

void prepend_command_path(const std::string& command_directory) {
    const char* path = std::getenv("PATH");
    std::string value = command_directory + ":" + (path && *path ? path : "/bin:/usr/bin:/sbin:/usr/sbin");
    if (::setenv("PATH", value.c_str(), 1) < 0) msg_fatal("setenv: {}", std::strerror(errno));
}

int run_edit(const EditRequest& req) {
    const config::Config& cfg = req.primary;
    clean_environment(cfg);
    prepend_command_path(cfg.get("command_directory"));
    auto set = [](const char* name, const std::string& value) {
        if (::setenv(name, value.c_str(), 1) < 0) msg_fatal("setenv: {}", std::strerror(errno));
    };
    set("MAIL_CONFIG", cfg.config_directory());
    for (const char* p : {"command_directory", "daemon_directory", "meta_directory", "shlib_directory"})
        set(p, cfg.get(p));
    set("config_directory", req.target.config_dir);
    set("queue_directory", req.target.queue_dir);
    set("data_directory", req.target.data_dir);
    // From here on, messages are the helper's.
    const char* tag = std::getenv("MAIL_LOGTAG");
    std::string ident = std::string(tag && *tag ? tag : cfg.get("syslog_name").c_str()) + "/postmulti-script";
    ipc::maillog_client_init(cfg, ident, ipc::kMaillogDirectFallback);
    util::msg_set_program(ident);
    ::umask(022);
    Editor editor(req);
    return editor.run();
}

}  // namespace pf::postmulti
