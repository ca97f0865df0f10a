"""The compat-suite's retry policy, in one place for every harness.

A unit (a case, a configuration, a whole stack) that differs on the first
run is run once more; when it is then as expected it passes, reported on a
line "FLAKY <area>...: ... identical on retry" (the first attempt's
differences were printed already), since a difference that goes away on
its own came from the machine (load, timing, a race the case did not
avoid), not from the code under test. A unit that differs again fails.

Two shapes, by how a harness can repeat a unit:
- retry_units(): in this process (the harness can call "run this unit"
  again, as smtpd's configurations);
- rerun_script(): the harness's script run again with options that select
  the failing units (its state is built once per run: instances, servers).

Trusts: the harness that calls it.
"""

import concurrent.futures
import os
import subprocess
import sys


def retry_units(failed, again, flaky_line, *, jobs=1, retries=1):
    """Runs again(unit) -> (passed, result) once for each unit of failed, up
    to jobs at once (none when retries is 0); prints flaky_line(unit,
    result) for each unit that passes. Returns {unit: (passed, result)}."""
    failed = list(failed)
    if not failed or retries <= 0:
        return {}
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        outcomes = dict(zip(failed, pool.map(again, failed)))
    for unit in failed:
        passed, result = outcomes[unit]
        if passed:
            print(flaky_line(unit, result), flush=True)
    return outcomes


def rerun_script(area, options, failed, select=None, *, retries=1, flaky=None, script=None):
    """Runs the harness's script (default: the one this process runs) again
    with options, "--retries N-1", and "select UNIT" for each failing unit
    (no selection when select is None: the whole run again). True, with the
    FLAKY line printed, when that run passes; False when it fails or there
    is nothing to retry (no failed unit, or retries 0)."""
    failed = list(failed)
    if not failed or retries <= 0:
        return False
    argv = [sys.executable, os.path.abspath(script or sys.argv[0])] + list(options)
    argv += ["--retries", str(retries - 1)]
    if select:
        for unit in failed:
            argv += [select, unit]
    sys.stdout.flush()
    if subprocess.run(argv).returncode != 0:
        return False
    print(flaky or f"FLAKY {area}: {', '.join(failed)} identical on retry", flush=True)
    return True
