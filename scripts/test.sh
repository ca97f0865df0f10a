#!/usr/bin/env bash
# The project's test command (README "Run the tests"; .ci/run calls exactly this):
# installs build and test dependencies, builds, and runs unit and compat tests
# with ctest. Needs root for apt-get; the compat-suite fetches the reference
# itself into compat-suite/.cache.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
bash scripts/install-deps.sh
build=${PF_BUILD_DIR:-build}
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo ${PF_CMAKE_ARGS:-}
cmake --build "$build" -j "$(nproc)"
cd "$build"
ctest --output-on-failure -j "$(nproc)" --timeout 1800
