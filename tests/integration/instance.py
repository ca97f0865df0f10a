#!/usr/bin/env python3
# Integration test of master(8), postlogd(8) and postfix(1) on a private
# instance in a temporary directory: `postfix start`, `postfix status`, a
# test daemon spawned on demand (UNIX and 127.0.0.1:<free port> listeners),
# restart after a crash, throttling after a fatal start-up, max_use and
# max_idle, `postfix reload` picking up a new service, `postfix stop`.
# Every wait is on a condition with a deadline; exit 77 (skip) when not root.
import argparse
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time

DEADLINE = 20.0


def wait_for(what, predicate, timeout=DEADLINE):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ask(address, line, timeout=10.0):
    """Sends one line, returns the reply ('' when the peer closed)."""
    if isinstance(address, tuple):
        s = socket.create_connection(address, timeout=timeout)
    else:
        s = socket.socket(socket.AF_UNIX)
        s.settimeout(timeout)
        s.connect(address)
    with s:
        s.sendall(line.encode() + b"\n")
        data = b""
        while True:
            chunk = s.recv(100)
            if not chunk:
                break
            data += chunk
        return data.decode().strip()


def alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split()[2] != "Z"
    except OSError:
        return False


class Instance:
    def __init__(self, build, test_daemon):
        self.top = tempfile.mkdtemp(prefix="pf-instance-")
        os.chmod(self.top, 0o755)
        self.etc = os.path.join(self.top, "etc")
        self.queue = os.path.join(self.top, "queue")
        self.data = os.path.join(self.top, "data")
        self.libexec = os.path.join(self.top, "libexec")
        self.log = os.path.join(self.top, "maillog")
        self.bin = os.path.join(build, "bin")
        for d in (self.etc, self.libexec, self.queue):
            os.makedirs(d)
        for name in ("master", "postlogd"):
            shutil.copy(os.path.join(build, "libexec", name), self.libexec)
        shutil.copy(test_daemon, os.path.join(self.libexec, "pf_test_daemon"))
        self.port = free_port()
        with open(os.path.join(self.etc, "main.cf"), "w") as f:
            f.write(f"""queue_directory = {self.queue}
data_directory = {self.data}
daemon_directory = {self.libexec}
command_directory = {self.bin}
meta_directory = {self.etc}
shlib_directory = no
maillog_file = {self.log}
maillog_file_prefixes = {self.top}
myhostname = box.example
inet_interfaces = loopback-only
inet_protocols = ipv4
compatibility_level = 3.6
service_throttle_time = 60s
""")
        self.write_master_cf("")
        os.utime(os.path.join(self.etc, "main.cf"), (1577836800, 1577836800))

    def write_master_cf(self, extra):
        with open(os.path.join(self.etc, "master.cf"), "w") as f:
            f.write(f"""postlog   unix-dgram n  -       n       -       1       postlogd
testd     unix  -       -       n       -       -       pf_test_daemon
127.0.0.1:{self.port} inet n - n   -       2       pf_test_daemon
badd      unix  -       -       n       -       -       pf_test_daemon fatal-at-start
used2     unix  -       -       n       -       1       pf_test_daemon -o max_use=2
idle1     unix  -       -       n       -       -       pf_test_daemon -o max_idle=1
sub       unix  -       -       n       -       -       pf_test_daemon -o syslog_name=postfix/$service_name
waked     unix  -       -       n       1       1       pf_test_daemon
condw     unix  -       -       n       1?      1       pf_test_daemon
jaild     unix  -       -       y       -       -       pf_test_daemon
{extra}""")

    def postfix(self, *args):
        r = subprocess.run([os.path.join(self.bin, "postfix"), "-c", self.etc, *args],
                           stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60)
        return r.returncode

    def logged(self, pattern):
        try:
            with open(self.log) as f:
                return re.search(pattern, f.read(), re.M)
        except OSError:
            return None

    def master_pid(self):
        try:
            with open(os.path.join(self.queue, "pid", "master.pid")) as f:
                return int(f.read().split()[0])
        except (OSError, ValueError, IndexError):
            return 0

    def private(self, name):
        return os.path.join(self.queue, "private", name)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", required=True)
    ap.add_argument("--test-daemon", required=True)
    a = ap.parse_args()
    if os.geteuid() != 0:
        print("skipped: needs root (master binds sockets and drops privileges)")
        return 77
    inst = Instance(os.path.abspath(a.build), os.path.abspath(a.test_daemon))
    checks = 0
    try:
        assert inst.postfix("status") == 1, "status before start"
        checks += 1
        assert inst.postfix("start") == 0, "postfix start"
        assert inst.postfix("status") == 0, "status after start"
        assert inst.postfix("start") == 1, "second start must fail"
        master = inst.master_pid()
        assert master > 0 and alive(master)
        wait_for("daemon started line", lambda: inst.logged(
            r"^\w{3} [ 0-9]\d \d\d:\d\d:\d\d box postfix/master\[%d\]: daemon started -- version 3\.7\.11, "
            r"configuration %s$" % (master, re.escape(inst.etc))))
        checks += 4
        # Directories as the reference makes them.
        st = os.stat(os.path.join(inst.queue, "private"))
        assert oct(st.st_mode & 0o7777) == "0o700", oct(st.st_mode)
        st = os.stat(os.path.join(inst.queue, "public"))
        assert oct(st.st_mode & 0o7777) == "0o710", oct(st.st_mode)
        checks += 2

        # Spawn on demand, UNIX and inet.
        pid1 = int(ask(inst.private("testd"), "pid"))
        assert alive(pid1)
        assert int(ask(inst.private("testd"), "pid")) == pid1, "an idle process is reused"
        inet_pid = int(ask(("127.0.0.1", inst.port), "pid"))
        assert inet_pid != pid1
        wait_for("test daemon log line", lambda: inst.logged(
            r"postfix/pf_test_daemon\[%d\]: test daemon testd ready" % pid1))
        checks += 4

        # A crash is logged and the next client gets a fresh process.
        assert ask(inst.private("testd"), "crash") == ""
        # The request may reach a second testd process (master spawns one
        # when the first still reports itself busy): whichever crashed is
        # named in the warning.
        crash_line = (r"postfix/master\[%d\]: warning: process %s pid (\d+) killed by signal 6$" % (
            master, re.escape(os.path.join(inst.libexec, "pf_test_daemon"))))
        wait_for("crash warning", lambda: inst.logged(crash_line))
        crashed = int(inst.logged(crash_line).group(1))
        pid2 = int(ask(inst.private("testd"), "pid"))
        assert pid2 != crashed and alive(pid2)
        checks += 2

        # A daemon that dies at start-up throttles its service.
        s = socket.socket(socket.AF_UNIX)
        s.connect(inst.private("badd"))
        s.close()
        wait_for("throttle warning", lambda: inst.logged(
            r"warning: %s: bad command startup -- throttling$" % re.escape(
                os.path.join(inst.libexec, "pf_test_daemon"))))
        wait_for("exit status warning", lambda: inst.logged(r"pid \d+ exit status 1$"))
        checks += 2

        # max_use=2: the third request goes to a new process.
        u1 = int(ask(inst.private("used2"), "pid"))
        u2 = int(ask(inst.private("used2"), "pid"))
        assert u1 == u2
        wait_for("max_use exit", lambda: not alive(u1))
        u3 = int(ask(inst.private("used2"), "pid"))
        assert u3 != u1
        checks += 2

        # max_idle=1: the process goes away by itself.
        i1 = int(ask(inst.private("idle1"), "pid"))
        wait_for("max_idle exit", lambda: not alive(i1), timeout=10)
        checks += 1

        # Privileges: unprivileged services run as mail_owner; chroot = y
        # puts the daemon in the queue, where queue_directory reads "/".
        import pwd
        owner = pwd.getpwnam("postfix").pw_uid
        assert ask(inst.private("testd"), "whoami") == f"{owner} {inst.queue} free"
        assert ask(inst.private("jaild"), "whoami") == f"{owner} / jailed"
        wait_for("log line from inside the jail", lambda: inst.logged(r"test daemon jaild ready$"))
        checks += 3

        # -o syslog_name=postfix/$service_name changes the log name.
        sp = int(ask(inst.private("sub"), "pid"))
        wait_for("submission-style log name", lambda: inst.logged(
            r"box postfix/sub/pf_test_daemon\[%d\]: test daemon sub ready$" % sp))
        checks += 1

        # Wakeups: "1" from the start, "1?" only once the service was used.
        m = wait_for("waked started by a wakeup", lambda: inst.logged(
            r"postfix/pf_test_daemon\[(\d+)\]: test daemon waked ready$"))
        wp = int(m.group(1))
        wait_for("two wakeups", lambda: len(re.findall(
            r"postfix/pf_test_daemon\[%d\]: got: W$" % wp, open(inst.log).read(), re.M)) >= 2, timeout=10)
        assert not inst.logged(r"test daemon condw ready"), "conditional wakeup before first use"
        cp = int(ask(inst.private("condw"), "pid"))
        wait_for("conditional wakeup after use", lambda: inst.logged(
            r"postfix/pf_test_daemon\[%d\]: got: W$" % cp), timeout=10)
        checks += 3

        # Reload: a new service appears, the sockets of the others stay.
        inode = os.stat(inst.private("testd")).st_ino
        inst.write_master_cf("newd      unix  -       -       n       -       -       pf_test_daemon\n")
        assert inst.postfix("reload") == 0
        wait_for("reload line", lambda: inst.logged(
            r"postfix/master\[%d\]: reload -- version 3\.7\.11, configuration %s$" % (master, re.escape(inst.etc))))
        wait_for("new socket", lambda: os.path.exists(inst.private("newd")))
        assert int(ask(inst.private("newd"), "pid")) > 0
        assert os.stat(inst.private("testd")).st_ino == inode, "unchanged service keeps its socket"
        wait_for("old process let go", lambda: not alive(pid2))
        assert int(ask(inst.private("testd"), "pid")) != pid2
        checks += 4

        # Stop.
        assert inst.postfix("stop") == 0
        wait_for("master gone", lambda: not alive(master))
        assert inst.postfix("status") == 1
        assert inst.postfix("stop") == 1
        checks += 3
        print(f"instance: {checks} checks passed")
        return 0
    except AssertionError as e:
        print(f"FAIL: {e}")
        try:
            with open(inst.log) as f:
                sys.stdout.write(f.read())
        except OSError:
            pass
        return 1
    finally:
        pid = inst.master_pid()
        if pid and alive(pid):
            subprocess.run([os.path.join(inst.bin, "postfix"), "-c", inst.etc, "abort"],
                           capture_output=True, timeout=30)
            wait_for("abort", lambda: not alive(pid), timeout=10)
        if os.environ.get("PF_KEEP_INSTANCE") is None:
            shutil.rmtree(inst.top, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
