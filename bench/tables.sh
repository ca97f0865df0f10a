#!/usr/bin/env bash
# Lookup-table benchmarks, ours and the reference side by side in one run:
#   1. postmap building a 1,000,000-line hash table;
#   2. 100,000 `postmap -q -` lookups on that hash table;
#   3. 100,000 `postmap -q -` lookups on a 1,000-rule pcre table.
# Prints wall-clock seconds (best of N runs), CPU seconds (user + system,
# median of the same runs: steadier than wall time on a shared machine) and
# the ratios ours/reference.
# Usage: bench/tables.sh [build-dir]   (default: build). Not a test: no asserts.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$top/build}
ref=$top/compat-suite/.cache/reference
[ -x "$ref/usr/sbin/postmap" ] || bash "$top/compat-suite/fetch-reference.sh" "$ref" >/dev/null
runs=${PF_BENCH_RUNS:-3}
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

measure() {  # "best-wall median-cpu" of $runs runs of the shell command $1
    python3 - "$runs" "$1" <<'EOT'
import resource, statistics, subprocess, sys, time
runs = int(sys.argv[1]); cmd = sys.argv[2]
walls, cpus = [], []
for _ in range(runs):
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    subprocess.run(cmd, shell=True, check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    walls.append(time.perf_counter() - t)
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpus.append(r1.ru_utime - r0.ru_utime + r1.ru_stime - r0.ru_stime)
print(f"{min(walls):.3f} {statistics.median(cpus):.3f}")
EOT
}

report() {  # name "ours-wall ours-cpu" "ref-wall ref-cpu"
    python3 -c "
import sys
n = sys.argv[1]; ow, oc = map(float, sys.argv[2].split()); rw, rc = map(float, sys.argv[3].split())
print(f'{n:<34} wall ours {ow:7.3f}s ref {rw:7.3f}s ratio {ow/rw:5.2f} | cpu ours {oc:7.3f}s ref {rc:7.3f}s ratio {oc/rc:5.2f}')
" "$@"
}

pm_ours=$build/bin/postmap
pm_ref=$ref/usr/sbin/postmap
# A first build each, so that the lookups have a table.
for side in ours ref; do
    cp "$work/table" "$work/table.$side"
    pm=pm_$side
    "${!pm}" -c "$work/conf" "hash:$work/table.$side" >/dev/null 2>&1
done
for bench in build hashq pcreq; do
    for side in ours ref; do
        pm=pm_$side
        pm=${!pm}
        case $bench in
        build) r=$(measure "'$pm' -c '$work/conf' 'hash:$work/table.$side'") ;;
        hashq) r=$(measure "'$pm' -c '$work/conf' -q - 'hash:$work/table.$side' < '$work/keys'") ;;
        pcreq) r=$(measure "'$pm' -c '$work/conf' -q - 'pcre:$work/rules.pcre' < '$work/keys'") ;;
        esac
        declare "${bench}_$side=$r"
    done
done
report "postmap hash, 1,000,000 lines" "$build_ours" "$build_ref"
report "100,000 lookups, hash" "$hashq_ours" "$hashq_ref"
report "100,000 lookups, 1,000-rule pcre" "$pcreq_ours" "$pcreq_ref"
