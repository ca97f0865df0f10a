#!/usr/bin/env bash
# Lookup-table benchmarks, ours and the reference side by side in one run:
#   1. postmap building a 1,000,000-line hash table;
#   2. 100,000 `postmap -q -` lookups on that hash table;
#   3. 100,000 `postmap -q -` lookups on a 1,000-rule pcre table.
# Prints wall-clock seconds (best of N runs) and the ratio ours/reference.
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

best() {  # best wall time of $runs runs of the shell command $1
    python3 - "$runs" "$1" <<'EOT'
import subprocess, sys, time
runs = int(sys.argv[1]); cmd = sys.argv[2]
best = None
for _ in range(runs):
    t = time.perf_counter()
    subprocess.run(cmd, shell=True, check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    d = time.perf_counter() - t
    best = d if best is None or d < best else best
print(f"{best:.3f}")
EOT
}

report() {  # name ours ref
    python3 -c "import sys; n,o,r=sys.argv[1],float(sys.argv[2]),float(sys.argv[3]); print(f'{n:<34} ours {o:8.3f}s  reference {r:8.3f}s  ratio {o/r:5.2f}')" "$@"
}

for side in ours ref; do
    if [ $side = ours ]; then pm=$build/bin/postmap; else pm=$ref/usr/sbin/postmap; fi
    cp "$work/table" "$work/table.$side"
    t_build=$(best "'$pm' -c '$work/conf' 'hash:$work/table.$side'")
    t_hash=$(best "'$pm' -c '$work/conf' -q - 'hash:$work/table.$side' < '$work/keys'")
    t_pcre=$(best "'$pm' -c '$work/conf' -q - 'pcre:$work/rules.pcre' < '$work/keys'")
    declare "build_$side=$t_build" "hashq_$side=$t_hash" "pcreq_$side=$t_pcre"
done
report "postmap hash, 1,000,000 lines" "$build_ours" "$build_ref"
report "100,000 lookups, hash" "$hashq_ours" "$hashq_ref"
report "100,000 lookups, 1,000-rule pcre" "$pcreq_ours" "$pcreq_ref"
