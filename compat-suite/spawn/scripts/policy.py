#!/usr/bin/python3
# A policy server for the spawn area (README.md), run by spawn(8) with the
# connection as stdin/stdout. The first argument says how it behaves:
#   env          answer one request with REJECT and what it was run with
#                (ids, arguments, directory, umask, descriptors, environment)
#   dunno N      answer one request with DUNNO, then exit with status N
#   loop         answer every request with DUNNO until end-of-file
#   stderr       answer one request on stderr instead of stdout
#   hang         read one request, answer nothing and exit after 8 seconds
#                (past the time limit and smtpd's policy timeout)
#   silent N     read one request and exit with status N without answering
#   signal       answer one request, then die of SIGTERM
# Trusts: nothing it reads; it only echoes the request's recipient.
import os
import signal
import stat
import sys
import time


def read_request():
    attrs = {}
    while True:
        line = sys.stdin.readline()
        if not line:
            return None
        line = line.rstrip("\n")
        if not line:
            return attrs
        name, _, value = line.partition("=")
        attrs[name] = value


def answer(text, stream=sys.stdout):
    stream.write(f"action={text}\n\n")
    stream.flush()


def describe():
    groups = ",".join(str(g) for g in sorted(os.getgroups()))
    mask = os.umask(0)
    os.umask(mask)
    fds = sorted(int(n) for n in os.listdir("/proc/self/fd"))
    kinds = []
    for fd in fds:
        try:
            mode = os.fstat(fd).st_mode
        except OSError:
            continue
        kinds.append(f"{fd}:{'sock' if stat.S_ISSOCK(mode) else 'dir' if stat.S_ISDIR(mode) else 'other'}")
    same = os.fstat(0).st_ino == os.fstat(1).st_ino == os.fstat(2).st_ino
    env = ";".join(f"{k}={v}" for k, v in sorted(os.environ.items()))
    return (f"uid={os.getuid()},{os.geteuid()} gid={os.getgid()},{os.getegid()} groups={groups} "
            f"args={'|'.join(sys.argv[1:])} cwd={os.getcwd()} umask={mask:03o} fds={' '.join(kinds)} "
            f"std-same={same} sid-is-pid={os.getsid(0) == os.getpid()} env={env}")


def main():
    mode = sys.argv[1] if len(sys.argv) > 1 else "loop"
    status = int(sys.argv[2]) if mode in ("dunno", "silent") and len(sys.argv) > 2 else 0
    if mode == "loop":
        while read_request() is not None:
            answer("DUNNO")
        return 0
    request = read_request()
    if request is None:
        return 0
    if mode == "env":
        answer("REJECT spawn-env " + describe())
    elif mode == "dunno":
        answer("DUNNO")
    elif mode == "stderr":
        answer("REJECT answered on stderr", sys.stderr)
    elif mode == "hang":
        time.sleep(8)
    elif mode == "signal":
        answer("DUNNO")
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(60)
    return status


if __name__ == "__main__":
    sys.exit(main())
