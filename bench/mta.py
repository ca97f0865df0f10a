#!/usr/bin/env python3
"""Whole-MTA workloads of issue 9, ours and the reference side by side.

Each workload runs on a fresh private instance per side (the pipeline
harness's Instance: master as root, its own queue and maillog_file),
interleaved ours/reference, RUNS times each; the medians and the ratio
ours/reference are printed. Workloads:

  relay     smtp-source -> smtpd -> qmgr -> smtp -> smtp-sink (the
            reference's test tools), 4 KB messages, 20 sessions:
            messages/s and CPU ms per message of all MTA processes.
  accept    the same with every message put on hold when accepted, then
            the time to deliver the queue once "postsuper -H ALL" releases it
            and "postqueue -f" flushes it.
  local     smtp-source -> smtpd -> virtual(8) into 100 Maildirs.
  sendmail  sendmail invocations in 4 lanes delivering to a pipe sink:
            invocations/s and client CPU per message.
  memory    200 idle SMTP sessions after EHLO: proportional set size of
            the smtpd processes per session.
  disk      the queue filesystem's own limit (create + 4 KB + fsync per
            second), and fsync calls per relayed message (strace -f -c).

Usage: bench/mta.py [--build DIR] [--quick] [--runs N] [--dir DIR] [workload ...]
Needs root. Not a test: it asserts only that every message arrived.
"""
import argparse
import os
import re
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(TOP, "compat-suite", "pipeline"))
sys.path.insert(0, os.path.join(TOP, "compat-suite", "lib"))
import run_pipeline as rp  # noqa: E402
import pfinstance  # noqa: E402

REMOVED = re.compile(rb"postfix/qmgr\[\d+\]: \S+: removed")


class Bench:
    def __init__(self, build, ref, work, quick):
        self.build, self.ref, self.work, self.quick = build, ref, work, quick
        self.sides = [pfinstance.ours_side(build), pfinstance.reference_side(ref)]
        self.tools_env = dict(os.environ, LD_LIBRARY_PATH=os.path.join(ref, "usr/lib/postfix"))
        self.serial = 0

    def tool(self, name):
        return os.path.join(self.ref, "usr/sbin", name)

    def instance(self, side, cfg):
        self.serial += 1
        pfinstance.make_setgid(side)
        inst = rp.Instance(os.path.join(self.work, f"{self.serial}"), side, self.ref, cfg)
        port = pfinstance.free_port()
        inst.set_port(port)
        inst.port = port
        return inst

    def start(self, inst):
        status, out, err = inst.start()
        if status != 0:
            sys.exit(f"{inst.side.label}: postfix start: {out + err}")
        if not pfinstance.wait_for(lambda: os.path.exists(os.path.join(inst.spool, "public", "pickup")), 20):
            sys.exit(f"{inst.side.label}: the instance did not come up")

    def stop(self, inst):
        inst.stop()
        pfinstance.wait_master_gone(inst.spool)
        shutil.rmtree(inst.dir, ignore_errors=True)


def mta_cpu(inst):
    """CPU seconds of master and its daemons so far: every process of
    master's process group, with the children each has reaped."""
    master = int(open(os.path.join(inst.spool, "pid", "master.pid")).read().split()[0])
    ticks = 0
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            fields = open(f"/proc/{name}/stat").read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == master:
            ticks += sum(int(x) for x in fields[11:15])
    return ticks / os.sysconf("SC_CLK_TCK")


def wait_removed(inst, count, timeout):
    """Waits until the maillog holds count qmgr "removed" lines; False on timeout."""
    seen, offset = 0, 0
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with open(inst.log, "rb") as f:
            f.seek(offset)
            chunk = f.read()
        cut = chunk.rfind(b"\n") + 1
        offset += cut
        seen += len(REMOVED.findall(chunk[:cut]))
        if seen >= count:
            return True
        time.sleep(0.02)
    return False


def smtp_source(b, port, count, sessions, extra=()):
    args = [b.tool("smtp-source"), "-s", str(sessions), "-m", str(count), "-l", "4096",
            "-f", "bench@example.com", *extra, f"127.0.0.1:{port}"]
    p = subprocess.run(args, env=b.tools_env, capture_output=True, timeout=1800)
    if p.returncode != 0:
        sys.exit(f"smtp-source: {p.returncode} {p.stderr.decode(errors='replace')[-300:]}")


def relay_config(sink_port, extra_main=""):
    return {"main": ("default_transport = smtp\nrelay_transport = smtp\n"
                     f"relayhost = [127.0.0.1]:{sink_port}\n"
                     "smtpd_client_connection_count_limit = 0\n"
                     "default_process_limit = 100\n" + extra_main),
            "master": "", "files": {}}


def start_sink(b):
    port = pfinstance.free_port()
    p = subprocess.Popen([b.tool("smtp-sink"), "-u", "nobody", f"127.0.0.1:{port}", "256"], env=b.tools_env,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if not pfinstance.wait_for(lambda: _connects(port), 10):
        sys.exit("smtp-sink did not start")
    return p, port


def _connects(port):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return True
    except OSError:
        return False


def run_relay(b, side, n):
    sink, sink_port = start_sink(b)
    inst = b.instance(side, relay_config(sink_port))
    try:
        b.start(inst)
        cpu0 = mta_cpu(inst)
        t0 = time.perf_counter()
        smtp_source(b, inst.port, n, 20, ["-t", "user@remote.example"])
        if not wait_removed(inst, n, 600):
            sys.exit(f"{side.label}: relay: not every message left the queue")
        elapsed = time.perf_counter() - t0
        cpu = mta_cpu(inst) - cpu0
    finally:
        b.stop(inst)
        sink.kill()
        sink.wait()
    return {"messages/s": n / elapsed, "CPU ms/message": 1000 * cpu / n}


def run_accept(b, side, n):
    sink, sink_port = start_sink(b)
    # Every message goes on hold when accepted; "postsuper -H ALL" releases.
    inst = b.instance(side, relay_config(sink_port, "smtpd_end_of_data_restrictions = "
                                                    "check_client_access static:HOLD\n"))
    try:
        b.start(inst)
        t0 = time.perf_counter()
        smtp_source(b, inst.port, n, 20, ["-t", "user@remote.example"])
        accept = time.perf_counter() - t0
        held = sum(len(fs) for _d, _s, fs in os.walk(os.path.join(inst.spool, "hold")))
        if held != n:  # then the flush time measures deliveries already under way
            print(f"accept: {side.label}: {held} of {n} messages on hold after acceptance", file=sys.stderr)
        t1 = time.perf_counter()
        inst.run("postsuper", ["-c", inst.etc, "-H", "ALL"])  # to deferred/
        inst.run("postqueue", ["-c", inst.etc, "-f"])
        if not wait_removed(inst, n, 900):
            sys.exit(f"{side.label}: accept: the queue did not drain")
        flush = time.perf_counter() - t1
    finally:
        b.stop(inst)
        sink.kill()
        sink.wait()
    return {"accepted messages/s": n / accept, "flush messages/s": n / flush}


def local_config(b):
    """The local workload's Maildir base (made here) and instance configuration."""
    vmail = os.path.join(b.work, f"vmail-{b.serial + 1}")
    os.makedirs(vmail)
    nobody = int(subprocess.run(["id", "-u", "nobody"], capture_output=True, text=True).stdout)
    os.chown(vmail, nobody, nobody)
    # smtp-source -N numbers the recipient (<n>u@vdomain.test): an alias
    # maps it to one of 100 mailboxes u00..u99 (virtual_mailbox_maps may not
    # substitute $1; regexp: is built into both sides, pcre: is a plugin).
    users = "".join(f"u{i:02d}@vdomain.test u{i:02d}/\n" for i in range(100))
    aliases = (b"/^[0-9]*([0-9][0-9])u@vdomain\\.test$/ u$1@vdomain.test\n"
               b"/^([0-9])u@vdomain\\.test$/ u0$1@vdomain.test\n")
    cfg = {"main": ("virtual_mailbox_domains = vdomain.test\n"
                    f"virtual_mailbox_base = {vmail}\n"
                    "virtual_alias_maps = regexp:{instance}/etc/valias\n"
                    "virtual_mailbox_maps = texthash:{instance}/etc/vmailbox\n"
                    f"virtual_uid_maps = static:{nobody}\nvirtual_gid_maps = static:{nobody}\n"
                    "virtual_minimum_uid = 1\n"),
           "master": "", "files": {"vmailbox": users.encode(), "valias": aliases}}
    return vmail, cfg


def run_local(b, side, n):
    vmail, cfg = local_config(b)
    inst = b.instance(side, cfg)
    try:
        b.start(inst)
        cpu0 = mta_cpu(inst)
        t0 = time.perf_counter()
        smtp_source(b, inst.port, n, 20, ["-N", "-t", "u@vdomain.test"])
        if not wait_removed(inst, n, 900):
            sys.exit(f"{side.label}: local: not every message was delivered")
        elapsed = time.perf_counter() - t0
        cpu = mta_cpu(inst) - cpu0
        files = sum(len(fs) for base, _d, fs in os.walk(vmail) if base.endswith("/new"))
        if files != n:
            tail = open(inst.log, errors="replace").read()[-1500:]
            sys.exit(f"{side.label}: local: {files} of {n} messages in the Maildirs; maillog ends:\n{tail}")
    finally:
        b.stop(inst)
        shutil.rmtree(vmail, ignore_errors=True)
    return {"messages/s": n / elapsed, "CPU ms/message": 1000 * cpu / n}


def run_sendmail(b, side, n):
    sink = os.path.join(b.work, "sink")
    if not os.path.exists(sink):
        with open(sink + ".c", "w") as f:
            f.write("#include <unistd.h>\nint main(void){char b[65536];while(read(0,b,sizeof b)>0){}return 0;}\n")
        subprocess.run(["cc", "-O2", "-o", sink, sink + ".c"], check=True)
    cfg = {"main": "local_transport = sink\ndefault_transport = sink\nrelay_transport = sink\n",
           "master": f"sink      unix  -       n       n       -       -       pipe\n  user=nobody argv={sink}\n",
           "files": {}}
    inst = b.instance(side, cfg)
    body = ("From: bench@example.com\nTo: bob@example.com\nSubject: bench\n\n" + "x" * 70 + "\n") * 1
    todo, lock, failures = list(range(n)), threading.Lock(), []

    def lane():
        while True:
            with lock:
                if not todo:
                    return
                todo.pop()
            st, o, e = inst.run("sendmail", ["-f", "bench@example.com", "bob@example.com"], body.encode())
            if st != 0:
                failures.append(o + e)
    try:
        b.start(inst)
        ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        lanes = [threading.Thread(target=lane) for _ in range(4)]
        for t in lanes:
            t.start()
        for t in lanes:
            t.join()
        elapsed = time.perf_counter() - t0
        ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        if failures:
            sys.exit(f"{side.label}: sendmail failed: {failures[0][-300:]}")
        wait_removed(inst, n, 600)
    finally:
        b.stop(inst)
    client = (ru1.ru_utime + ru1.ru_stime) - (ru0.ru_utime + ru0.ru_stime)
    return {"invocations/s": n / elapsed, "client CPU ms/message": 1000 * client / n}


def pss_kb(pid):
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def run_memory(b, side, n):
    inst = b.instance(side, {"main": "default_process_limit = 400\nsmtpd_client_connection_count_limit = 0\n",
                             "master": "", "files": {}})
    socks = []
    try:
        b.start(inst)
        for _ in range(n):
            s = socket.create_connection(("127.0.0.1", inst.port), timeout=30)
            s.recv(4096)
            s.sendall(b"EHLO bench.example.com\r\n")
            got = b""
            while not re.search(rb"(^|\n)250 ", got):
                chunk = s.recv(4096)
                if not chunk:
                    sys.exit(f"{side.label}: memory: session closed")
                got += chunk
            socks.append(s)
        master = int(open(os.path.join(inst.spool, "pid", "master.pid")).read().split()[0])
        total = 0
        for name in os.listdir("/proc"):
            if not name.isdigit():
                continue
            try:
                stat = open(f"/proc/{name}/stat").read().rsplit(")", 1)
                comm = stat[0].split("(", 1)[1]
                fields = stat[1].split()
            except OSError:
                continue
            if int(fields[2]) == master and comm == "smtpd":
                total += pss_kb(int(name))
    finally:
        for s in socks:
            s.close()
        b.stop(inst)
    return {"PSS KB/session": total / n}


def disk_limit(directory, seconds):
    """create + write 4 KB + fsync + unlink per second in directory."""
    data = b"x" * 4096
    count = 0
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        path = os.path.join(directory, f"f{count}")
        fd = os.open(path, os.O_CREAT | os.O_WRONLY, 0o600)
        os.write(fd, data)
        os.fsync(fd)
        os.close(fd)
        os.unlink(path)
        count += 1
    return count / (time.perf_counter() - t0)


def fsyncs_per_message(b, side, n):
    """fsync-family calls of all MTA processes for n relayed messages."""
    sink, sink_port = start_sink(b)
    inst = b.instance(side, relay_config(sink_port))
    out = os.path.join(b.work, f"strace-{side.label}")
    try:
        b.start(inst)
        master = int(open(os.path.join(inst.spool, "pid", "master.pid")).read().split()[0])
        tracer = subprocess.Popen(["strace", "-f", "-c", "-e", "trace=fsync,fdatasync,sync_file_range",
                                   "-o", out, "-p", str(master)], stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL)
        time.sleep(1)  # strace attaches asynchronously; a bench, not a test
        smtp_source(b, inst.port, n, 5, ["-t", "user@remote.example"])
        wait_removed(inst, n, 600)
        tracer.terminate()
        tracer.wait(30)
    finally:
        b.stop(inst)
        sink.kill()
        sink.wait()
    calls = 0
    for line in open(out):
        m = re.match(r"\s*[\d.]+\s+[\d.]+\s+\d+\s+(\d+)\s+(?:\d+\s+)?(fsync|fdatasync|sync_file_range)$", line)
        if m:
            calls += int(m.group(1))
    return calls / n


# name: (function, full size, quick size)
WORKLOADS = {
    "relay": (run_relay, 10000, 300),
    "accept": (run_accept, 10000, 300),
    "local": (run_local, 2000, 200),
    "sendmail": (run_sendmail, 2000, 100),
    "memory": (run_memory, 200, 50),
}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default=os.path.join(TOP, "build"))
    ap.add_argument("--reference", default=os.path.join(TOP, "compat-suite", ".cache", "reference"))
    ap.add_argument("--quick", action="store_true", help="small sizes, one run each (under a minute)")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--dir", default="/tmp", help="where the work directory is made; under /tmp (the instances' "
                    "maillog_file_prefixes), e.g. a mounted scratch filesystem")
    ap.add_argument("workloads", nargs="*", help=f"some of: {' '.join(WORKLOADS)} disk")
    args = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("bench/mta.py: needs root (master runs as root)")
    chosen = args.workloads or [*WORKLOADS, "disk"]
    runs = 1 if args.quick else args.runs
    work = tempfile.mkdtemp(prefix="pf-bench-mta-", dir=args.dir)
    os.chmod(work, 0o755)
    b = Bench(os.path.abspath(args.build), os.path.abspath(args.reference), work, args.quick)
    try:
        for name in chosen:
            if name == "disk":
                limit = disk_limit(work, 1 if args.quick else 5)
                print(f"{'disk: create+4KB+fsync per second':<46} {limit:10.0f}")
                if shutil.which("strace"):
                    n = 50 if args.quick else 500
                    per = {s.label: fsyncs_per_message(b, s, n) for s in b.sides}
                    print(f"{'disk: fsync calls per relayed message':<46} ours {per['ours']:8.2f}  "
                          f"reference {per['reference']:8.2f}")
                continue
            fn, full, small = WORKLOADS[name]
            n = small if args.quick else full
            results = {s.label: [] for s in b.sides}
            for _ in range(runs):
                for side in b.sides:  # interleaved
                    results[side.label].append(fn(b, side, n))
            for metric in results["ours"][0]:
                o = statistics.median(r[metric] for r in results["ours"])
                r = statistics.median(x[metric] for x in results["reference"])
                label = f"{name}: {metric} ({n:,})"
                print(f"{label:<46} ours {o:10.2f}  reference {r:10.2f}  ratio {o / r if r else float('nan'):5.2f}",
                      flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
