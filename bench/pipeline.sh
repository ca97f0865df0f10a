#!/usr/bin/env bash
# Mail pipeline throughput, ours and the reference side by side in one run:
# N messages (default 2,000) submitted with the side's sendmail by P parallel
# submitters (default 4) travel sendmail -> postdrop -> pickup -> cleanup ->
# qmgr -> pipe into a tiny C agent that reads stdin and exits 0. Each side is
# a private instance (compat-suite/pipeline/run_pipeline.py's Instance: master
# as root, its own queue, maillog_file). The clock runs from the first
# submission to the last "removed" line of qmgr in the log.
# Prints seconds and messages per second for each side (best of
# PF_BENCH_RUNS runs, default 1) and the ratio of times ours/reference
# (below 1.00: ours is faster).
# Usage: bench/pipeline.sh [build-dir]   (default: build). Needs root.
# Environment: PF_BENCH_MESSAGES (2000), PF_BENCH_PARALLEL (4), PF_BENCH_RUNS (1).
# Not a test: no asserts beyond "every message arrived".
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-$top/build}" && pwd)
ref=$top/compat-suite/.cache/reference
[ -x "$ref/usr/sbin/sendmail" ] || bash "$top/compat-suite/fetch-reference.sh" "$ref" >/dev/null
[ "$(id -u)" = 0 ] || { echo "bench/pipeline.sh: needs root (master runs as root)" >&2; exit 1; }
work=$(mktemp -d /tmp/pf-bench-pipeline-XXXXXX)
trap 'rm -rf "$work"' EXIT
chmod 755 "$work"

# The delivery agent: read everything, succeed.
cat > "$work/sink.c" <<'EOT'
#include <unistd.h>
int main(void) { char b[65536]; while (read(0, b, sizeof b) > 0) {} return 0; }
EOT
cc -O2 -o "$work/sink" "$work/sink.c"
chmod 755 "$work/sink"

python3 - "$top" "$build" "$ref" "$work" <<'EOT'
import os, re, resource, sys, threading, time
top, build, ref, work = sys.argv[1:5]
sys.path.insert(0, os.path.join(top, "compat-suite", "pipeline"))
import run_pipeline as rp

N = int(os.environ.get("PF_BENCH_MESSAGES", "2000"))
P = int(os.environ.get("PF_BENCH_PARALLEL", "4"))
RUNS = int(os.environ.get("PF_BENCH_RUNS", "1"))
CFG = {"main": "local_transport = sink\ndefault_transport = sink\nrelay_transport = sink\n",
       "master": f"sink      unix  -       n       n       -       -       pipe\n  user=nobody argv={work}/sink\n",
       "files": {}}
BODY = ("From: bench@example.com\nTo: bob@example.com\nSubject: bench {n}\n\n"
        + "".join(f"line {i} of a small message body, about seventy characters long....\n" for i in range(30)))


def one_run(side, run):
    rp.make_setgid(side)
    inst = rp.Instance(os.path.join(work, f"{side.label}-{run}"), side, ref, CFG)
    inst.set_port(rp.free_port())
    status, out, err = inst.start()
    if status != 0:
        sys.exit(f"{side.label}: postfix start: {out + err}")
    rp.wait_for(lambda: os.path.exists(os.path.join(inst.spool, "public", "pickup")), 10)
    todo = list(range(N))
    lock = threading.Lock()
    failures = []

    def submit():
        while True:
            with lock:
                if not todo:
                    return
                n = todo.pop()
            st, o, e = inst.run("sendmail", ["-f", "bench@example.com", "bob@example.com"],
                                BODY.format(n=n).encode())
            if st != 0:
                failures.append((st, o + e))

    removed = re.compile(rb"postfix/qmgr\[\d+\]: \S+: removed")
    ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    threads = [threading.Thread(target=submit) for _ in range(P)]
    for t in threads:
        t.start()
    count = 0
    offset = 0
    deadline = time.monotonic() + 600
    while count < N - len(failures) and time.monotonic() < deadline:
        with open(inst.log, "rb") as f:
            f.seek(offset)
            chunk = f.read()
        cut = chunk.rfind(b"\n") + 1
        offset += cut
        count += len(removed.findall(chunk[:cut]))
        time.sleep(0.01)
    elapsed = time.perf_counter() - t0
    for t in threads:
        t.join()
    ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    submit_cpu = (ru1.ru_utime + ru1.ru_stime) - (ru0.ru_utime + ru0.ru_stime)
    cpu = system_cpu(inst) + submit_cpu
    if os.environ.get("PF_BENCH_VERBOSE"):
        print(f"  {side.label}: {elapsed:.2f} s, cpu: submission {submit_cpu:.2f} s, daemons {cpu - submit_cpu:.2f} s", file=sys.stderr)
    inst.stop()
    if failures or count < N:
        sys.exit(f"{side.label}: {len(failures)} sendmail failures ({failures[:1]}), {count} of {N} delivered")
    return elapsed, cpu


def system_cpu(inst):
    """CPU seconds of master and its daemons so far: every process of
    master's session (master and daemons, with their reaped children)."""
    master = int(open(os.path.join(inst.spool, "pid", "master.pid")).read().split()[0])
    ticks = 0
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            fields = open(f"/proc/{name}/stat").read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == master:          # process group (master leads its session)
            ticks += sum(int(x) for x in fields[11:15])  # utime stime cutime cstime
    return ticks / os.sysconf("SC_CLK_TCK")


sides = [rp.ours_side(build), rp.reference_side(ref)]
best, cpu = {}, {}
for run in range(RUNS):
    for side in sides:
        t, c = one_run(side, run)
        best[side.label] = min(t, best.get(side.label, t))
        cpu[side.label] = min(c, cpu.get(side.label, c))
o, r = best["ours"], best["reference"]
name = f"{N:,} messages sendmail to pipe, {P} submitters"
print(f"{name:<44} ours {o:7.2f}s ({N / o:6.1f} msg/s)  reference {r:7.2f}s ({N / r:6.1f} msg/s)  "
      f"ratio {o / r:5.2f}")
name = "  the same, CPU seconds (all processes)"
print(f"{name:<44} ours {cpu['ours']:7.2f}s                reference {cpu['reference']:7.2f}s"
      f"                ratio {cpu['ours'] / cpu['reference']:5.2f}")
EOT
