#!/usr/bin/env bash
# postsuper(1) benchmark, ours and the reference side by side in one run:
#   1. `postsuper -d ALL` on a queue of 50,000 held messages;
#   2. `postsuper -H ALL` releasing 50,000 held messages to deferred
#      (hashed, so every file changes directory);
#   3. `postsuper -d -` deleting 10,000 of them by ID from standard input.
# Each run starts from a fresh copy of the same queue (made outside the
# timing), written to disk with sync(2) before the timing starts, as a real
# queue's files are (cleanup fsyncs each one): otherwise whether the
# kernel's writeback has allocated the copy's blocks yet decides the
# figures (freeing allocated blocks costs far more, a synchronous discard
# per file on a filesystem mounted with -o discard and no journal).
# PF_BENCH_SYNC=0 times copies still dirty in the page cache instead.
# Prints wall-clock and CPU seconds (best and median of N runs) and the ratio
# ours/reference. Needs root (postsuper is root-only).
# Usage: bench/postsuper.sh [build-dir]   (default: build). PF_BENCH_RUNS
# (default 3), PF_BENCH_MESSAGES (default 50000). Not a test: no asserts.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$top/build}
# A relative build directory names one of the tree (or of the working directory).
[ -d "$build" ] || build=$top/$build
build=$(cd "$build" && pwd)
ref=$top/compat-suite/.cache/reference
[ -x "$ref/usr/sbin/postsuper" ] || bash "$top/compat-suite/fetch-reference.sh" "$ref" >/dev/null
runs=${PF_BENCH_RUNS:-3}
messages=${PF_BENCH_MESSAGES:-50000}
work=$(mktemp -d /tmp/postsuper-bench-XXXXXX)
trap 'rm -rf "$work"' EXIT
chmod 755 "$work"

mkdir -p "$work/conf"
cat > "$work/conf/main.cf" <<EOT
queue_directory = $work/q
meta_directory = $ref/etc/postfix
shlib_directory = $ref/usr/lib/postfix
daemon_directory = $ref/usr/lib/postfix/sbin
command_directory = $ref/usr/sbin
compatibility_level = 3.6
EOT
touch -d 2020-01-01 "$work/conf/main.cf"

# The template queue: $messages ready files in hold, named like short
# queue IDs, one of the reference's own queue files as content.
python3 - "$work" "$messages" "$top/compat-suite/queue-fixtures/files/hold-simple" <<'EOT'
import os, sys
work, count, fixture = sys.argv[1], int(sys.argv[2]), sys.argv[3]
data = open(fixture, "rb").read()
t = os.path.join(work, "template")
for q in ["maildrop", "incoming", "active", "deferred", "hold", "defer", "bounce", "trace", "flush"]:
    os.makedirs(os.path.join(t, q), mode=0o700)
ids = []
for i in range(count):
    qid = "%05X%X" % ((i * 7919) % 0x100000, 0x100000 + i)
    ids.append(qid)
    p = os.path.join(t, "hold", qid)
    with open(p, "wb") as f:
        f.write(data)
    os.chmod(p, 0o700)
with open(os.path.join(work, "ids"), "w") as f:
    f.write("\n".join(ids[::max(1, count // 10000)][:10000]) + "\n")
EOT
chown -R postfix "$work/template"

# Runs alternate between the two sides, each on a fresh copy of the queue;
# wall-clock and CPU seconds (user + system of postsuper) are both shown,
# as the machine may be shared.
python3 - "$runs" "$work" "$build/bin/postsuper" "$ref/usr/sbin/postsuper" "$messages" "${PF_BENCH_SYNC:-1}" <<'EOT'
import os, resource, shutil, subprocess, sys, time
runs, work, ours, theirs, messages = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5]
synced = sys.argv[6] != "0"
print("queue copies " + ("written to disk before each run (PF_BENCH_SYNC=1)" if synced
                         else "still in the page cache (PF_BENCH_SYNC=0)"), flush=True)
env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C",
       "LD_LIBRARY_PATH": os.path.join(os.path.dirname(os.path.dirname(theirs)), "lib/postfix")}

def one(program, args, stdin):
    q = os.path.join(work, "q")
    shutil.rmtree(q, ignore_errors=True)
    subprocess.run(["cp", "-a", os.path.join(work, "template"), q], check=True)
    if synced:
        os.sync()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    with open(stdin, "rb") as f:
        t = time.perf_counter()
        p = subprocess.run([program, "-c", os.path.join(work, "conf")] + args, stdin=f,
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
        wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if p.returncode != 0:
        sys.exit(f"{program} {args}: exit {p.returncode}: {p.stderr.decode()[-300:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu

for name, args, stdin in [(f"postsuper -d ALL, {messages} held", ["-d", "ALL"], "/dev/null"),
                          (f"postsuper -H ALL, {messages} held", ["-H", "ALL"], "/dev/null"),
                          ("postsuper -d -, 10,000 IDs", ["-d", "-"], os.path.join(work, "ids"))]:
    samples = {"ours": [], "reference": []}
    for round_ in range(runs):
        # Ours first in even rounds, the reference first in odd ones: a
        # drift of the machine's state hits both sides alike.
        order = (("ours", ours), ("reference", theirs))
        for side, program in (order if round_ % 2 == 0 else order[::-1]):
            samples[side].append(one(program, args, stdin))

    def best_and_median(side):
        walls = sorted(w for w, _ in samples[side])
        cpus = sorted(c for _, c in samples[side])
        return walls[0], cpus[0], walls[len(walls) // 2], cpus[len(cpus) // 2]

    ow, oc, omw, omc = best_and_median("ours")
    rw, rc, rmw, rmc = best_and_median("reference")
    print(f"{name:<34} best:   wall ours {ow:7.3f}s reference {rw:7.3f}s ratio {ow/rw:5.2f}   "
          f"cpu ours {oc:6.3f}s reference {rc:6.3f}s ratio {oc/rc:5.2f}", flush=True)
    print(f"{'':<34} median: wall ours {omw:7.3f}s reference {rmw:7.3f}s ratio {omw/rmw:5.2f}   "
          f"cpu ours {omc:6.3f}s reference {rmc:6.3f}s ratio {omc/rmc:5.2f}", flush=True)
EOT
