"""Pieces every harness that runs whole private instances shares: the two
sides (the unpacked reference and our build), config files written with an
old mtime (the reference re-reads a young main.cf), waiting for a
condition with a bound, a free loopback port, the set-gid bits of
postdrop/postqueue, stopping a master for sure, and the area's lines of
compat-suite/known-differences.

Used by compat-suite/pipeline, swap, rewrite, tests/integration/proxymap.py
and tests/crash; new harnesses should import it too
(sys.path.insert(0, <repo>/compat-suite/lib); import pfinstance).
"""

import grp
import os
import signal
import socket
import subprocess
import time

LIB = os.path.dirname(os.path.abspath(__file__))
COMPAT = os.path.dirname(LIB)
REPO = os.path.dirname(COMPAT)
DEFAULT_REFERENCE = os.path.join(COMPAT, ".cache", "reference")
KNOWN_DIFFERENCES = os.path.join(COMPAT, "known-differences")
OLD_MTIME = 1577836800  # 2020-01-01


class Side:
    """One implementation: where its commands and daemons are, the main.cf
    lines it needs (meta/shlib directories) and its environment."""

    def __init__(self, label, command_dir, daemon_dir, extra_main, env):
        self.label = label
        self.command_dir = command_dir
        self.daemon_dir = daemon_dir
        self.extra_main = extra_main
        self.env = env


def reference_side(cache, meta_directory=None):
    """The unpacked reference; meta_directory defaults to its own etc/postfix
    ("{etc}" in a line is left for the caller to fill in)."""
    lib = os.path.join(cache, "usr/lib/postfix")
    meta = meta_directory or f"{cache}/etc/postfix"
    return Side("reference", os.path.join(cache, "usr/sbin"), os.path.join(lib, "sbin"),
                [f"meta_directory = {meta}", f"shlib_directory = {lib}"], {"LD_LIBRARY_PATH": lib})


def ours_side(build):
    return Side("ours", os.path.join(build, "bin"), os.path.join(build, "libexec"),
                [f"meta_directory = {os.path.join(REPO, 'master.cf.d')}", f"shlib_directory = {build}"], {})


def write_config(path, text):
    """Writes a configuration file with an old mtime."""
    with open(path, "w") as f:
        f.write(text)
    os.utime(path, (OLD_MTIME, OLD_MTIME))


def wait_for(predicate, timeout, step=0.02):
    """Polls predicate until it holds or timeout seconds pass; its last value."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return predicate()


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def make_setgid(side):
    """postdrop and postqueue are set-gid postdrop in a real installation;
    without that, postfix check warns, on both sides alike."""
    gid = grp.getgrnam("postdrop").gr_gid
    for prog in ("postdrop", "postqueue"):
        path = os.path.join(side.command_dir, prog)
        if os.path.exists(path):
            os.chown(path, 0, gid)
            os.chmod(path, 0o2755)


def run_command(side, etc, program, args, stdin=b"", timeout=30, cwd=None, lang="C"):
    """Runs one of side's commands with MAIL_CONFIG=etc; (status, stdout,
    stderr), status "timeout" or "not found" when it did not run."""
    env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": lang, "TZ": "UTC", "MAIL_CONFIG": etc, **side.env}
    if lang == "C":
        env["LC_ALL"] = "C"
    argv = [os.path.join(side.command_dir, program), *args]
    try:
        p = subprocess.run(argv, input=stdin, capture_output=True, env=env, timeout=timeout, cwd=cwd)
        return p.returncode, p.stdout, p.stderr
    except subprocess.TimeoutExpired:
        return "timeout", b"", b""
    except OSError as e:
        return "not found", b"", str(e).encode()


def wait_master_gone(queue_directory, timeout=20):
    """After "postfix stop": waits for the master of queue_directory to
    exit, and kills it when it does not within timeout seconds."""
    pidfile = os.path.join(queue_directory, "pid", "master.pid")
    deadline = time.monotonic() + timeout
    pid = None
    while time.monotonic() < deadline:
        try:
            pid = int(open(pidfile).read().split()[0])
            os.kill(pid, 0)
        except (OSError, ValueError, IndexError):
            return
        time.sleep(0.05)
    if pid:
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass


def read_known(area):
    """{case: reason} from compat-suite/known-differences for one area."""
    known = {}
    if os.path.exists(KNOWN_DIFFERENCES):
        with open(KNOWN_DIFFERENCES, encoding="utf-8", errors="surrogateescape") as f:
            for line in f:
                line = line.rstrip("\n")
                if line.startswith(area + "/") and "\t" in line:
                    name, reason = line.split("\t", 1)
                    known[name[len(area) + 1:]] = reason
    return known


def stop_process(proc, timeout=15):
    """Stops a child started in its own session (start_new_session=True):
    SIGTERM to it, then SIGKILL to its whole process group after timeout
    seconds. Returns once it has been waited for."""
    if proc.poll() is None:
        try:
            os.kill(proc.pid, signal.SIGTERM)
        except OSError:
            pass
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except OSError:
                pass
            proc.wait(5)


def can_connect(path_or_port):
    """Whether a listener accepts a connection: a TCP port on 127.0.0.1
    (an int) or a UNIX-domain socket (a path)."""
    if isinstance(path_or_port, int):
        s = socket.socket()
        addr = ("127.0.0.1", path_or_port)
    else:
        s = socket.socket(socket.AF_UNIX)
        addr = path_or_port
    s.settimeout(1)
    try:
        s.connect(addr)
        return True
    except OSError:
        return False
    finally:
        s.close()
