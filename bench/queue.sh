#!/usr/bin/env bash
# Queue listing benchmark, ours and the reference side by side in one run:
#   1. `postqueue -p` over 50,000 held messages;
#   2. `postqueue -j` over the same queue.
# Both sides read the very same queue directory. No mail system runs, so
# postqueue (as root) runs its side's showq daemon directly, as it does
# when the mail system is down; each side therefore times its own
# postqueue and its own showq. Prints wall-clock seconds (best of N runs)
# and CPU seconds (user+system of postqueue and showq, best of N runs),
# with the ratios ours/reference. Needs root.
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

best() {  # best wall time and best CPU time (user+sys, children included) of $runs runs of $1
    python3 - "$runs" "$1" <<'EOT'
import resource, subprocess, sys, time
runs = int(sys.argv[1]); cmd = sys.argv[2]
best = cpu = None
for _ in range(runs):
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    subprocess.run(cmd, shell=True, check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    d = time.perf_counter() - t
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    c = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
    best = d if best is None or d < best else best
    cpu = c if cpu is None or c < cpu else cpu
print(f"{best:.3f} {cpu:.3f}")
EOT
}

report() {  # name "ours-wall ours-cpu" "ref-wall ref-cpu"
    python3 -c "
import sys
n, (ow, oc), (rw, rc) = sys.argv[1], map(float, sys.argv[2].split()), map(float, sys.argv[3].split())
print(f'{n:<30} wall: ours {ow:6.3f}s reference {rw:6.3f}s ratio {ow/rw:5.2f}   cpu: ours {oc:6.3f}s reference {rc:6.3f}s ratio {oc/rc:5.2f}')
" "$@"
}

# The same listing on both sides, once, before timing.
for side in ref ours; do
    if [ $side = ours ]; then pq=$build/bin/postqueue; else pq=$ref/usr/sbin/postqueue; fi
    env -i TZ=UTC LD_LIBRARY_PATH=$ref/usr/lib/postfix "$pq" -c "$work/conf-$side" -p > "$work/list-$side" 2>/dev/null || true
done
if cmp -s "$work/list-ref" "$work/list-ours"; then same="identical"; else same="DIFFERENT"; fi
echo "postqueue -p listings of $messages messages: $same ($(tail -1 "$work/list-ref"))"

for side in ours ref; do
    if [ $side = ours ]; then pq=$build/bin/postqueue; else pq=$ref/usr/sbin/postqueue; fi
    t_p=$(best "env -i TZ=UTC LD_LIBRARY_PATH=$ref/usr/lib/postfix '$pq' -c '$work/conf-$side' -p")
    t_j=$(best "env -i TZ=UTC LD_LIBRARY_PATH=$ref/usr/lib/postfix '$pq' -c '$work/conf-$side' -j")
    declare "p_$side=$t_p" "j_$side=$t_j"
done
report "postqueue -p, $messages held" "$p_ours" "$p_ref"
report "postqueue -j, $messages held" "$j_ours" "$j_ref"
