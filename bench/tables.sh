#!/usr/bin/env bash
# Lookup-table benchmarks, ours and the reference side by side in one run:
#   1. postmap building a 1,000,000-line hash table;
#   2. 100,000 `postmap -q -` lookups on that hash table;
#   3. 100,000 `postmap -q -` lookups on a 1,000-rule pcre table;
#   4. start-up: 500 `postmap -q KEY hash:table` processes, one lookup each.
# The runs of ours and the reference alternate (ours first in odd rounds,
# the reference first in even ones), so that a change in the machine's load
# hits both sides alike. Prints, per benchmark, the median wall-clock and
# the median CPU seconds (user + system of the children: steadier than wall
# time on a shared machine) of each side, the ratios ours/reference, and the
# best wall time of each side.
# Usage: bench/tables.sh [build-dir]   (default: build). PF_BENCH_RUNS
# (default 5) rounds; PF_BENCH_ONLY="hashq startup" runs only those of
# build hashq pcreq startup. Not a test: no asserts.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$top/build}
ref=$top/compat-suite/.cache/reference
[ -x "$ref/usr/sbin/postmap" ] || bash "$top/compat-suite/fetch-reference.sh" "$ref" >/dev/null
runs=${PF_BENCH_RUNS:-5}
only=${PF_BENCH_ONLY:-build hashq pcreq startup}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# A configuration each side can use; the reference loads pcre from its cache.
mkdir -p "$work/conf"
sed "s|@SHLIB@|$ref/usr/lib/postfix|" > "$work/conf/dynamicmaps.cf" <<'EOT'
pcre	@SHLIB@/postfix-pcre.so	dict_pcre_open
EOT
cat > "$work/conf/main.cf" <<EOT
meta_directory = $work/conf
shlib_directory = $ref/usr/lib/postfix
EOT
touch -d 2020-01-01 "$work/conf/main.cf" "$work/conf/dynamicmaps.cf"

python3 - "$work" <<'EOT'
import random, sys
w = sys.argv[1]
random.seed(1)
with open(f"{w}/table", "w") as f:
    for i in range(1_000_000):
        f.write(f"user{i}@example{i % 1000}.com\tlocal{i}\n")
with open(f"{w}/keys", "w") as f:
    for i in range(100_000):
        n = random.randrange(2_000_000)  # half hit, half miss
        f.write(f"user{n}@example{n % 1000}.com\n")
with open(f"{w}/rules.pcre", "w") as f:
    for i in range(1000):
        f.write(f"/^user{i}[0-9]*@example{i % 50}\\.(com|net)$/ OK rule{i}\n")
EOT

# measure NAME REPEAT OURS-COMMAND REF-COMMAND: $runs interleaved rounds;
# each run executes its shell command REPEAT times (REPEAT > 1: without a
# shell in between, for start-up costs).
measure() {
    python3 - "$runs" "$@" <<'EOT'
import resource, shlex, statistics, subprocess, sys, time
runs = int(sys.argv[1]); name = sys.argv[2]; repeat = int(sys.argv[3]); cmds = sys.argv[4:6]
walls = [[], []]; cpus = [[], []]
def run(cmd):
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    if repeat == 1:
        subprocess.run(cmd, shell=True, check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    else:
        argv = shlex.split(cmd)
        for _ in range(repeat):
            subprocess.run(argv, check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    w = time.perf_counter() - t
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    return w, r1.ru_utime - r0.ru_utime + r1.ru_stime - r0.ru_stime
for i in range(runs):
    for side in ((0, 1) if i % 2 == 0 else (1, 0)):
        w, c = run(cmds[side])
        walls[side].append(w); cpus[side].append(c)
mw = [statistics.median(x) for x in walls]; mc = [statistics.median(x) for x in cpus]
print(f"{name:<38} wall ours {mw[0]:7.3f}s ref {mw[1]:7.3f}s ratio {mw[0]/mw[1]:5.2f}"
      f" | cpu ours {mc[0]:7.3f}s ref {mc[1]:7.3f}s ratio {mc[0]/mc[1]:5.2f}"
      f" | best wall {min(walls[0]):.3f}s/{min(walls[1]):.3f}s ({runs} runs)")
EOT
}

pm_ours=$build/bin/postmap
pm_ref=$ref/usr/sbin/postmap
# A first build each, so that the lookups have a table.
for side in ours ref; do
    cp "$work/table" "$work/table.$side"
    pm=pm_$side
    "${!pm}" -c "$work/conf" "hash:$work/table.$side" >/dev/null 2>&1
done
# The same listing on both sides: postmap -s walks the buckets in order, so
# this also checks that ours lays the table out as the reference does.
if [[ " $only " == *" build "* ]]; then
    s_ours=$("$pm_ours" -c "$work/conf" -s "hash:$work/table.ours" | md5sum)
    s_ref=$("$pm_ref" -c "$work/conf" -s "hash:$work/table.ref" | md5sum)
    if [ "$s_ours" = "$s_ref" ]; then echo "postmap -s of the built tables: identical (${s_ref%% *})"
    else echo "postmap -s of the built tables: DIFFERENT (ours ${s_ours%% *}, reference ${s_ref%% *})"; fi
fi
cmd() {  # bench side
    local pm=pm_$2
    pm=${!pm}
    case $1 in
    build) echo "'$pm' -c '$work/conf' 'hash:$work/table.$2'" ;;
    hashq) echo "'$pm' -c '$work/conf' -q - 'hash:$work/table.$2' < '$work/keys'" ;;
    pcreq) echo "'$pm' -c '$work/conf' -q - 'pcre:$work/rules.pcre' < '$work/keys'" ;;
    startup) echo "'$pm' -c '$work/conf' -q user7@example7.com 'hash:$work/table.$2'" ;;
    esac
}
for bench in $only; do
    case $bench in
    build) measure "postmap hash, 1,000,000 lines" 1 "$(cmd build ours)" "$(cmd build ref)" ;;
    hashq) measure "100,000 lookups, hash" 1 "$(cmd hashq ours)" "$(cmd hashq ref)" ;;
    pcreq) measure "100,000 lookups, 1,000-rule pcre" 1 "$(cmd pcreq ours)" "$(cmd pcreq ref)" ;;
    startup) measure "500 x postmap -q KEY hash:table" 500 "$(cmd startup ours)" "$(cmd startup ref)" ;;
    esac
done
