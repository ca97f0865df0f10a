#!/usr/bin/env python3
"""Where an MTA workload's CPU goes, per process, ours and the reference.

Runs a workload of bench/mta.py on a fresh private instance per side:
relay (the default: smtp-source -> smtpd -> cleanup -> qmgr -> smtp ->
smtp-sink, 4 KB messages, 20 sessions), local (--workload local: the same
front half, then qmgr -> virtual(8) into 100 Maildirs, mta.py's
local_config) or accept (--workload accept: the front half only, every
message put on hold, as mta.py's accept before the release), and prints, per process name (smtpd, cleanup, qmgr, smtp or
virtual, trivial-rewrite, master, anvil, postlogd, ...):

  cpu      CPU ms per message: every process whose parent is the instance's
           master (and master itself), sampled from /proc/<pid>/schedstat
           every 20 ms, so a process that exits during the run keeps what it had
           used at its last sample; "(lost)" is the CPU of exited processes
           that sampling missed (master's reaped-children total minus what
           was attributed). CPU time varies with the machine's load; the
           counts below do not.
  runs     times per message the processes of that name were scheduled
           onto a CPU (schedstat; wake-ups and preemptions: each costs
           a context switch).
  procs    processes of that name seen during the run (master's spawns;
           pids from sampling, from the maillog's "name[pid]" and, with
           --strace, from strace's per-process files).
  --strace syscalls per message per process name (strace -f -ff), the
           fsync-family calls among them, and the most frequent calls.
  --perf FILE
           perf record -e cpu-clock -g of master and its daemons into
           FILE.<side> (read it with perf report --sort comm,sym).

Usage: bench/profile.py [--build DIR] [--workload relay|local|accept] [-n N]
                        [--side ours|reference|both]
                        [--strace] [--perf FILE] [--keep] [--dir DIR]
Needs root. A measurement tool, not a test.
"""
import argparse
import collections
import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import mta  # noqa: E402

TICK = os.sysconf("SC_CLK_TCK")


def stat_fields(pid):
    with open(f"/proc/{pid}/stat") as f:
        head, tail = f.read().rsplit(")", 1)
    return head.split("(", 1)[1], tail.split()


class CpuSampler(threading.Thread):
    """Samples the CPU ticks of master and its children until stopped."""

    def __init__(self, master):
        super().__init__(daemon=True)
        self.master = master
        self.base = {}      # pid -> ticks at start (processes alive then)
        self.last = {}      # pid -> (comm, ticks)
        self.slices0 = {}   # pid -> times scheduled onto a CPU, at start
        self.slices = {}    # pid -> the same, last sample
        self.stopped = threading.Event()
        self.scan(initial=True)

    def scan(self, initial=False):
        for name in os.listdir("/proc"):
            if not name.isdigit():
                continue
            pid = int(name)
            try:
                comm, fields = stat_fields(pid)
            except (OSError, IndexError):
                continue
            if pid != self.master and int(fields[1]) != self.master:
                continue
            try:
                with open(f"/proc/{pid}/schedstat") as f:
                    sched = f.read().split()
                ticks = int(sched[0])  # ns on a CPU
                slices = int(sched[2])  # times it was scheduled in (wake-ups, preemptions)
            except (OSError, IndexError, ValueError):
                continue
            if initial:
                self.base[pid] = ticks
                self.slices0[pid] = slices
            self.last[pid] = (comm, ticks)
            self.slices[pid] = slices

    def run(self):
        while not self.stopped.wait(0.02):
            self.scan()

    def master_reaped(self):
        """CPU ns of master's reaped children (tick resolution)."""
        _comm, fields = stat_fields(self.master)
        return (int(fields[13]) + int(fields[14])) * 1_000_000_000 // TICK

    def slices_per_comm(self):
        out = collections.Counter()
        for pid, n in self.slices.items():
            out[self.last[pid][0]] += n - self.slices0.get(pid, 0)
        return out

    def per_comm(self):
        out = collections.Counter()
        for pid, (comm, ticks) in self.last.items():
            out[comm] += ticks - self.base.get(pid, 0)
        return out


def _ppid(pid):
    try:
        return int(stat_fields(pid)[1][1])
    except (OSError, IndexError, ValueError):
        return -1


def strace_counts(prefix, comm_of, pids):
    """syscall counts per process name; adds strace's pids to pids (name -> set)."""
    per = collections.defaultdict(collections.Counter)
    call = re.compile(r"^(?:\d+\s+)?([a-z_0-9]+)\(")
    for path in glob.glob(prefix + ".*"):
        pid = int(path.rsplit(".", 1)[1])
        comm = comm_of.get(pid) or next((c for c, ps in pids.items() if pid in ps), "?")
        pids[comm].add(pid)
        with open(path, errors="replace") as f:
            for line in f:
                m = call.match(line)  # "<... x resumed>" lines do not match: one call, one count
                if m:
                    per[comm][m.group(1)] += 1
    return per


LOGGED_PID = re.compile(rb"postfix/([a-z-]+)\[(\d+)\]")


def logged_pids(log):
    """pid -> process name of every "postfix/name[pid]" in the maillog."""
    out = {}
    try:
        with open(log, "rb") as f:
            for m in LOGGED_PID.finditer(f.read()):
                out[int(m.group(2))] = m.group(1).decode()
    except OSError:
        pass
    return out


def run(b, side, n, use_strace, perf_out=None, workload="relay"):
    sink = vmail = None
    if workload == "local":
        vmail, cfg = mta.local_config(b)
        source_args = ["-N", "-t", "u@vdomain.test"]
    else:
        sink, sink_port = mta.start_sink(b)
        # accept: every message put on hold when accepted (mta.py's accept
        # workload up to the release): smtpd, cleanup and the disk only.
        extra = "smtpd_end_of_data_restrictions = check_client_access static:HOLD\n" if workload == "accept" else ""
        cfg = mta.relay_config(sink_port, extra)
        source_args = ["-t", "user@remote.example"]
    work = os.path.join(b.work, f"prof-{side.label}")
    os.makedirs(work, exist_ok=True)
    os.chmod(work, 0o755)
    inst = b.instance(side, cfg)
    tracer = None
    prefix = os.path.join(work, "strace")
    try:
        b.start(inst)
        master = int(open(os.path.join(inst.spool, "pid", "master.pid")).read().split()[0])
        # qmgr runs from the start: wait for it, so that the tracers below
        # attach to it too.
        mta.pfinstance.wait_for(lambda: any(_ppid(int(p)) == master and stat_fields(int(p))[0] == "qmgr"
                                            for p in os.listdir("/proc") if p.isdigit()), 10)
        if use_strace:
            # master and the daemons it already runs (qmgr, postlogd, ...).
            pids = [master] + [int(p) for p in os.listdir("/proc") if p.isdigit() and _ppid(int(p)) == master]
            tracer = subprocess.Popen(["strace", "-f", "-ff", "-qq", "-o", prefix,
                                       *[a for p in pids for a in ("-p", str(p))]],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(1)  # strace attaches asynchronously; a measurement, not a test
        recorder = None
        if perf_out:
            pids = [master] + [int(p) for p in os.listdir("/proc") if p.isdigit() and _ppid(int(p)) == master]
            recorder = subprocess.Popen(["perf", "record", "-q", "-e", "cpu-clock", "-F", "4000", "-g",
                                         "-o", perf_out, "-p", ",".join(map(str, pids))],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(1)  # perf attaches asynchronously; a measurement, not a test
        sampler = CpuSampler(master)
        reaped0 = sampler.master_reaped()
        group0 = mta.mta_cpu(inst)
        sampler.start()
        t0 = time.perf_counter()
        mta.smtp_source(b, inst.port, n, 20, source_args)
        if workload == "accept":
            held = sum(len(fs) for _d, _s, fs in os.walk(os.path.join(inst.spool, "hold")))
            if held != n:
                sys.exit(f"{side.label}: accept: {held} of {n} messages on hold")
        elif not mta.wait_removed(inst, n, 1800):
            sys.exit(f"{side.label}: {workload}: not every message left the queue")
        elapsed = time.perf_counter() - t0
        sampler.stopped.set()
        sampler.join()
        sampler.scan()
        reaped = sampler.master_reaped() - reaped0
        group = mta.mta_cpu(inst) - group0
        cpu = sampler.per_comm()
        # Ticks of exited children that sampling attributed, against what master reaped.
        live = set(int(p) for p in os.listdir("/proc") if p.isdigit())
        exited_attr = sum(t - sampler.base.get(p, 0) for p, (c, t) in sampler.last.items()
                          if p not in live and p != master)
        lost = max(0, reaped - exited_attr)
        comm_of = {p: c for p, (c, _t) in sampler.last.items()}
        pids = collections.defaultdict(set)
        for p, c in comm_of.items():
            pids[c].add(p)
        for p, c in logged_pids(inst.log).items():
            pids[comm_of.get(p, c)].add(p)
        if recorder:
            recorder.send_signal(2)
            recorder.wait(120)
        if tracer:
            tracer.terminate()
            tracer.wait(60)
    finally:
        b.stop(inst)
        if sink:
            sink.kill()
            sink.wait()
        if vmail:
            shutil.rmtree(vmail, ignore_errors=True)
    result = {"elapsed": elapsed, "cpu": cpu, "lost": lost, "group": group, "slices": sampler.slices_per_comm()}
    if use_strace:
        result["sys"] = strace_counts(prefix, comm_of, pids)
    result["procs"] = {c: len(ps) for c, ps in pids.items()}
    return result


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default=os.path.join(mta.TOP, "build"))
    ap.add_argument("--reference", default=os.path.join(mta.TOP, "compat-suite", ".cache", "reference"))
    ap.add_argument("--workload", choices=["relay", "local", "accept"], default="relay")
    ap.add_argument("-n", type=int, default=2000)
    ap.add_argument("--side", choices=["ours", "reference", "both"], default="both")
    ap.add_argument("--strace", action="store_true")
    ap.add_argument("--perf", metavar="FILE", help="perf record (cpu-clock, call graphs) of the side into FILE.<side>")
    ap.add_argument("--keep", action="store_true", help="keep the work directory (strace files)")
    ap.add_argument("--dir", default="/tmp", help="where the work directory (queues, Maildirs) is made; under /tmp "
                    "(the instances' maillog_file_prefixes), e.g. a mounted scratch filesystem")
    ap.add_argument("--top", type=int, default=8, help="most frequent syscalls shown per process")
    args = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("bench/profile.py: needs root (master runs as root)")
    work = tempfile.mkdtemp(prefix="pf-bench-prof-", dir=args.dir)
    os.chmod(work, 0o755)
    b = mta.Bench(os.path.abspath(args.build), os.path.abspath(args.reference), work, False)
    sides = [s for s in b.sides if args.side in ("both", s.label)]
    n = args.n
    try:
        res = {s.label: run(b, s, n, args.strace, args.perf and f"{args.perf}.{s.label}", args.workload)
               for s in sides}
    finally:
        if args.keep:
            print(f"work directory kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    labels = [s.label for s in sides]
    names = sorted({c for r in res.values() for c in r["cpu"]} | {"(lost)"},
                   key=lambda c: -max(res[lb]["cpu"].get(c, 0) for lb in labels))
    ms = 1e-6 / n
    what = {"relay": "relay", "local": "local (virtual into 100 Maildirs)",
            "accept": "accept (every message held)"}[args.workload]
    print(f"{what}, {n} messages of 4 KB, 20 sessions: CPU ms per message, processes seen")
    print(f"{'process':<18}" + "".join(f"{lb:>12}" for lb in labels) + ("       ratio" if len(labels) == 2 else "")
          + "".join(f"{'procs ' + lb[:3]:>10}" for lb in labels) + "".join(f"{'runs ' + lb[:3]:>10}" for lb in labels))
    totals = {}
    for c in names:
        vals = [(res[lb]["lost"] if c == "(lost)" else res[lb]["cpu"].get(c, 0)) * ms for lb in labels]
        for lb, v in zip(labels, vals):
            totals[lb] = totals.get(lb, 0) + v
        ratio = f"{vals[0] / vals[1]:12.2f}" if len(vals) == 2 and vals[1] else ""
        procs = "".join(f"{res[lb]['procs'].get(c, 0) if c != '(lost)' else '':>10}" for lb in labels)
        slices = "".join(f"{res[lb]['slices'].get(c, 0) / n:>10.1f}" if c != "(lost)" else " " * 10
                         for lb in labels)
        print(f"{c:<18}" + "".join(f"{v:12.3f}" for v in vals) + (ratio or " " * 12 * (len(vals) == 2)) + procs
              + slices)
    t = [totals[lb] for lb in labels]
    print(f"{'TOTAL':<18}" + "".join(f"{v:12.3f}" for v in t) + (f"{t[0] / t[1]:12.2f}" if len(t) == 2 else ""))
    g = [res[lb]["group"] * 1000 / n for lb in labels]
    print(f"{'(mta.py CPU)':<18}" + "".join(f"{v:12.3f}" for v in g) + (f"{g[0] / g[1]:12.2f}" if len(g) == 2 else ""))
    print(f"{'(elapsed s)':<18}" + "".join(f"{res[lb]['elapsed']:12.1f}" for lb in labels))
    if args.strace:
        print(f"\nsyscalls per message (strace -f; fsync = fsync+fdatasync)")
        procs = sorted({c for r in res.values() for c in r["sys"]},
                       key=lambda c: -max(sum(res[lb]["sys"].get(c, {}).values()) for lb in labels))
        print(f"{'process':<18}" + "".join(f"{lb:>12}{'fsync':>8}" for lb in labels))
        tot = {lb: [0, 0] for lb in labels}
        for c in procs:
            row = f"{c:<18}"
            for lb in labels:
                cnt = res[lb]["sys"].get(c, collections.Counter())
                all_, fs = sum(cnt.values()), cnt["fsync"] + cnt["fdatasync"]
                tot[lb][0] += all_
                tot[lb][1] += fs
                row += f"{all_ / n:12.1f}{fs / n:8.2f}"
            print(row)
        print(f"{'TOTAL':<18}" + "".join(f"{tot[lb][0] / n:12.1f}{tot[lb][1] / n:8.2f}" for lb in labels))
        for lb in labels:
            print(f"\n{lb}: most frequent calls per message")
            for c in procs:
                cnt = res[lb]["sys"].get(c)
                if not cnt:
                    continue
                top = ", ".join(f"{k} {v / n:.1f}" for k, v in cnt.most_common(args.top))
                print(f"  {c:<16} {top}")


if __name__ == "__main__":
    main()
