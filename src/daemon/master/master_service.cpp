// master.cf (and master.cf.d/*.cf) to services, and their listeners, as the
// reference's master opens them: unix and unix-dgram sockets mode 0666 and
// fifos mode 0622 in queue_directory/private (private = y or -) or
// queue_directory/public, owned by mail_owner; inet sockets on
// "[host:]port" for each address of inet_interfaces when no host is given.
// The wakeup field accepts "N" and "N?"; maxproc "-" is
// default_process_limit, 0 no limit. A service the reference would refuse
// (bad field) is fatal, in master_cf.h's words.
//
// Trust: master.cf and main.cf are admin-written.
#include "daemon/master/master.h"

#include "config/mail_params.h"
#include "config/master_cf.h"
#include "util/listen_socket.h"
#include "util/msg.h"
#include "util/strings.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <cctype>
#include <dirent.h>
#include <netdb.h>
#include <netinet/in.h>
#include <unistd.h>

#include <fmt/core.h>

namespace pf::master {

namespace {

bool yes_or_default(const std::string& field, bool fallback) {
    if (field == "-" || field.empty()) return fallback;
    return field == "y";
}

// master.cf.d/*.cf in name order, when the folder exists.
std::vector<std::string> fragment_files(const std::string& dir) {
    std::vector<std::string> files;
    DIR* d = ::opendir(dir.c_str());
    if (d == nullptr) return files;
    while (dirent* e = ::readdir(d)) {
        std::string name = e->d_name;
        if (name.size() > 3 && name.ends_with(".cf") && name[0] != '.') files.push_back(dir + "/" + name);
    }
    ::closedir(d);
    std::sort(files.begin(), files.end());
    return files;
}

// inet_interfaces to the host part of inet listeners ("" = every address).
std::vector<std::string> interface_hosts(const config::Config& cfg) {
    std::string value = cfg.get("inet_interfaces");
    std::string protocols = cfg.get("inet_protocols");
    bool v4 = protocols.find("ipv4") != std::string::npos || protocols.find("all") != std::string::npos;
    bool v6 = protocols.find("ipv6") != std::string::npos || protocols.find("all") != std::string::npos;
    std::vector<std::string> hosts;
    for (auto word : util::split_tokens(value, ", \t\r\n")) {
        std::string w(word);
        if (w == "all") return {""};
        if (w == "loopback-only" || w == "localhost") {
            if (v4) hosts.push_back("127.0.0.1");
            if (v6) hosts.push_back("::1");
            continue;
        }
        if (w.size() > 2 && w.front() == '[' && w.back() == ']') w = w.substr(1, w.size() - 2);
        hosts.push_back(w);
    }
    if (hosts.empty()) hosts.push_back("");
    return hosts;
}

}  // namespace

std::vector<ServicePtr> Master::load_services() {
    entries_ = config::load_master_cf(config_->master_cf_path(), true);
    for (const auto& file : fragment_files(config_directory_ + "/master.cf.d")) {
        auto more = config::load_master_cf(file, true);
        entries_.insert(entries_.end(), more.begin(), more.end());
    }
    int default_limit = 100;
    if (auto v = config::parse_int_value(config_->get("default_process_limit"), 1 << 30))
        default_limit = static_cast<int>(*v);
    std::string disabled = config_->get("master_service_disable");

    std::vector<ServicePtr> services;
    for (const auto& e : entries_) {
        // master_service_disable: "type" or "name/type" words.
        bool off = false;
        for (auto word : util::split_tokens(disabled, ", \t\r\n"))
            if (word == e.type || word == e.name + "/" + e.type) off = true;
        if (off) continue;
        for (const auto& other : services)
            if (other->name == e.name && other->type == e.type)
                util::msg_fatal("{}: line {}: duplicate service name: {}/{}", config_->master_cf_path(),
                                e.first_line, e.name, e.type);
        auto s = std::make_shared<Service>();
        s->name = e.name;
        s->type = e.type;
        s->private_ = yes_or_default(e.private_, true);
        s->unpriv = yes_or_default(e.unpriv, true);
        s->chroot = yes_or_default(e.chroot, true);
        if (e.wakeup != "-" && !e.wakeup.empty()) {
            std::string w = e.wakeup;
            if (w.back() == '?') {
                s->wakeup_conditional = true;
                w.pop_back();
            }
            s->wakeup = std::atoi(w.c_str());
        }
        s->max_proc = e.maxproc == "-" || e.maxproc.empty() ? default_limit : std::atoi(e.maxproc.c_str());
        s->path = e.command.starts_with('/') ? e.command : daemon_directory_ + "/" + e.command;
        s->argv = {e.command, "-n", e.name, "-t", e.type};
        if (s->chroot) s->argv.push_back("-c");
        if (s->unpriv) s->argv.push_back("-u");
        if (s->max_proc == 1) s->argv.push_back("-l");
        if (s->max_proc == 0) s->argv.push_back("-z");
        for (int i = 0; i < verbose_; ++i) s->argv.push_back("-v");
        s->argv.insert(s->argv.end(), e.args.begin(), e.args.end());
        s->listen_key = fmt::format("{}/{}/{}", e.name, e.type, s->private_ ? "private" : "public");
        if (e.type == "inet")
            for (const auto& h : interface_hosts(*config_)) s->listen_key += "|" + h;
        if (e.type == "inet") {
            std::string host, port;
            util::split_inet_endpoint(e.name, host, port);
            if (!port.empty() && !std::isdigit(static_cast<unsigned char>(port[0])))
                if (const servent* se = ::getservbyname(port.c_str(), "tcp")) port = std::to_string(ntohs(se->s_port));
            s->limit_name = host.empty() ? port : host + ":" + port;
            bool all_loopback = true;
            for (const auto& h : host.empty() ? interface_hosts(*config_) : std::vector<std::string>{host})
                if (!(h.starts_with("127.") || h == "::1")) all_loopback = false;
            s->local_only = all_loopback;
        } else {
            // Local IPC: master.cf limits there are by design (qmgr, pickup).
            s->local_only = true;
            s->limit_name = std::string(s->private_ ? "private/" : "public/") + e.name;
        }
        s->spawn_key = s->listen_key + "|" + s->path;
        for (const auto& a : s->argv) s->spawn_key += "\x1f" + a;
        s->spawn_key += fmt::format("|{}|{}|{}", s->max_proc, s->wakeup, s->wakeup_conditional);
        services.push_back(std::move(s));
    }
    return services;
}

bool Master::open_listeners(Service& s) {
    if (s.type == "inet") {
        std::string host, port;
        if (!util::split_inet_endpoint(s.name, host, port)) {
            util::msg_warn("{}: bad inet service name: {}", config_->master_cf_path(), s.name);
            return false;
        }
        std::vector<std::string> hosts = host.empty() ? interface_hosts(*config_) : std::vector<std::string>{host};
        // The listen backlog is the larger of the service's process limit
        // and default_process_limit, as the reference's (a burst of
        // clients must wait for a process, not be dropped).
        int backlog = static_cast<int>(
            config::parse_int_value(config_->get("default_process_limit"), 1 << 30).value_or(100));
        if (s.max_proc > backlog) backlog = s.max_proc;
        for (const auto& h : hosts) {
            auto fd = util::listen_inet(h, port, backlog);
            if (!fd) {
                // IPv6 loopback missing in a container is not worth dying for
                // when another address works.
                if (hosts.size() > 1) {
                    util::msg_warn("{}", fd.error());
                    continue;
                }
                util::msg_fatal("{}", fd.error());
            }
            s.listen_fds.push_back(*fd);
        }
        return !s.listen_fds.empty();
    }
    std::string path = queue_directory_ + (s.private_ ? "/private/" : "/public/") + s.name;
    std::expected<int, std::string> fd;
    if (s.type == "unix" || s.type == "pass") fd = util::listen_unix_stream(path, 100, 0666);
    else if (s.type == "unix-dgram") fd = util::listen_unix_dgram(path, 0666);
    else if (s.type == "fifo") fd = util::listen_fifo(path, 0622);
    else util::msg_fatal("unknown service type: {}", s.type);
    if (!fd) util::msg_fatal("{}", fd.error());
    if (::chown(path.c_str(), owner_uid_, owner_gid_) < 0)
        util::msg_warn("chown {}: {}", path, std::strerror(errno));
    s.listen_fds.push_back(*fd);
    s.socket_paths.push_back(path);
    return true;
}

void Master::close_listeners(Service& s) {
    for (int fd : s.listen_fds) {
        loop_.unwatch_fd(fd);
        ::close(fd);
    }
    s.listen_fds.clear();
    s.listening = false;
}

}  // namespace pf::master
