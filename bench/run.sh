#!/usr/bin/env bash
# Every benchmark of issue 9, ours and the reference side by side in one run,
# interleaved, medians and ratios ours/reference:
#   bench/mta.py      relay, accept, local, sendmail, memory, disk
#   bench/queue.sh    postqueue -p / -j over a held queue
#   bench/postsuper.sh postsuper -d ALL / -H ALL / -d -
#   bench/tables.sh   postmap build, hash and pcre lookups, start-up
# Not run from here: bench/profile.py, where the relay workload's CPU and
# system calls go, per process (smtpd, cleanup, qmgr, ...), with strace,
# perf record or callgrind (see its header).
# Usage: bench/run.sh [--quick] [build-dir]   (default: build). Needs root.
# --quick: small sizes and one run each, for catching regressions of 1.5x
# or more while developing; the full run takes about an hour.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
quick=0
if [ "${1:-}" = --quick ]; then quick=1; shift; fi
build=$(cd "${1:-$top/build}" && pwd)
if [ "$quick" = 1 ]; then
  python3 "$top/bench/mta.py" --build "$build" --quick
  PF_BENCH_RUNS=1 PF_BENCH_MESSAGES=2000 bash "$top/bench/queue.sh" "$build"
  PF_BENCH_RUNS=1 PF_BENCH_MESSAGES=2000 bash "$top/bench/postsuper.sh" "$build"
  PF_BENCH_RUNS=1 PF_BENCH_ONLY="pcreq startup" bash "$top/bench/tables.sh" "$build"
else
  python3 "$top/bench/mta.py" --build "$build" --runs 3
  PF_BENCH_RUNS=3 bash "$top/bench/queue.sh" "$build"
  PF_BENCH_RUNS=3 bash "$top/bench/postsuper.sh" "$build"
  PF_BENCH_RUNS=5 bash "$top/bench/tables.sh" "$build"
fi
