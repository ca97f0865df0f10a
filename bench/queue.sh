#!/usr/bin/env bash
# Queue listing benchmark, ours and the reference side by side in one run:
#   1. `postqueue -p` over 50,000 held messages;
#   2. `postqueue -j` over the same queue.
# Both sides read the very same queue directory. No mail system runs, so
# postqueue (as root) runs its side's showq daemon directly, as it does
# when the mail system is down; each side therefore times its own
# postqueue and its own showq. Runs alternate between the sides. Prints
# wall-clock seconds and CPU seconds (user+system of postqueue and showq),
# best and median of N runs, with the ratios ours/reference. Needs root.
# Usage: bench/queue.sh [build-dir]   (default: build). PF_BENCH_RUNS
# (default 3), PF_BENCH_MESSAGES (default 50000). Not a test: no asserts.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$top/build}
# A relative build directory names one of the tree (or of the working directory).
[ -d "$build" ] || build=$top/$build
build=$(cd "$build" && pwd)
ref=$top/compat-suite/.cache/reference
[ -x "$ref/usr/sbin/postqueue" ] || bash "$top/compat-suite/fetch-reference.sh" "$ref" >/dev/null
runs=${PF_BENCH_RUNS:-3}
messages=${PF_BENCH_MESSAGES:-50000}
work=$(mktemp -d /tmp/queue-bench-XXXXXX)
[ -n "${PF_BENCH_KEEP:-}" ] || trap 'rm -rf "$work"' EXIT
chmod 755 "$work"

# Templates: the smaller held messages of the queue-ops area's queue (built through the
# reference once and cached), with their varied senders and recipients.
tarfile=$(python3 "$top/compat-suite/queue-ops/build_queue.py" | tail -1)

write_conf() {  # dir commands daemons meta shlib
    mkdir -p "$1"
    cat > "$1/main.cf" <<EOT
compatibility_level = 3.6
queue_directory = $work/q
command_directory = $2
daemon_directory = $3
meta_directory = $4
shlib_directory = $5
mail_owner = postfix
setgid_group = postdrop
smtputf8_enable = yes
EOT
    : > "$1/master.cf"
    touch -d 2020-01-01 "$1/main.cf" "$1/master.cf"
}
write_conf "$work/conf-ref" "$ref/usr/sbin" "$ref/usr/lib/postfix/sbin" "$ref/etc/postfix" "$ref/usr/lib/postfix"
write_conf "$work/conf-ours" "$build/bin" "$build/libexec" "$top/master.cf.d" "$build"

python3 - "$work" "$messages" "$tarfile" <<'EOT'
import os, pwd, sys, tarfile
work, count, tar_path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
templates = []
with tarfile.open(tar_path) as tar:
    for m in tar.getmembers():
        if m.isfile() and m.name.startswith("hold/") and m.size <= 8192:
            templates.append(tar.extractfile(m).read())
assert templates, "no held message in the queue-ops queue"
uid = pwd.getpwnam("postfix").pw_uid
q = os.path.join(work, "q")
for d in ("maildrop", "incoming", "active", "deferred", "hold", "defer", "public", "private", "pid"):
    os.makedirs(os.path.join(q, d))
    os.chown(os.path.join(q, d), uid, -1)
    os.chmod(os.path.join(q, d), 0o700)
os.chmod(q, 0o755)
hold = os.path.join(q, "hold")
for i in range(count):
    name = "%05X%X" % (i % 0x100000, 0x100000 + i)
    path = os.path.join(hold, name)
    with open(path, "wb") as f:
        f.write(templates[i % len(templates)])
    os.chown(path, uid, -1)
    os.chmod(path, 0o700)
EOT

# The same listing on both sides, once, before timing.
for side in ref ours; do
    if [ $side = ours ]; then pq=$build/bin/postqueue; else pq=$ref/usr/sbin/postqueue; fi
    env -i TZ=UTC LD_LIBRARY_PATH=$ref/usr/lib/postfix "$pq" -c "$work/conf-$side" -p > "$work/list-$side" 2>/dev/null || true
done
if cmp -s "$work/list-ref" "$work/list-ours"; then same="identical"; else same="DIFFERENT"; fi
echo "postqueue -p listings of $messages messages: $same ($(tail -1 "$work/list-ref"))"

# Rounds alternate the sides (ours first in even rounds, the reference
# first in odd ones), so that a change in the machine's load hits both.
python3 - "$runs" "$messages" "$build/bin/postqueue" "$ref/usr/sbin/postqueue" "$work" "$ref/usr/lib/postfix" <<'EOT'
import resource, subprocess, sys, time
runs, messages, ours, theirs, work, libdir = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5], sys.argv[6]
env = {"TZ": "UTC", "LD_LIBRARY_PATH": libdir}

def one(program, conf, option):
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    subprocess.run([program, "-c", conf, option], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - t
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)

for option in ("-p", "-j"):
    samples = {"ours": [], "reference": []}
    for round_ in range(runs):
        order = [("ours", ours, work + "/conf-ours"), ("reference", theirs, work + "/conf-ref")]
        for side, program, conf in (order if round_ % 2 == 0 else order[::-1]):
            samples[side].append(one(program, conf, option))
    def pick(side, i):
        walls = sorted(w for w, _ in samples[side]); cpus = sorted(c for _, c in samples[side])
        return (walls[0], cpus[0]) if i == 0 else (walls[len(walls) // 2], cpus[len(cpus) // 2])
    name = f"postqueue {option}, {messages} held"
    for i, label in ((0, "best:  "), (1, "median:")):
        (ow, oc), (rw, rc) = pick("ours", i), pick("reference", i)
        print(f"{name if i == 0 else '':<30} {label} wall: ours {ow:6.3f}s reference {rw:6.3f}s ratio {ow/rw:5.2f}   "
              f"cpu: ours {oc:6.3f}s reference {rc:6.3f}s ratio {oc/rc:5.2f}", flush=True)
EOT
