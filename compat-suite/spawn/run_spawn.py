#!/usr/bin/env python3
"""The spawn area of the compat-suite: spawn(8) services, the reference's and ours.

Built on ../smtpd/run_smtpd.py (instances, case format, transcripts and
normalisation: ../smtpd/README.md) with configs/ and cases/ of this folder.
Each configuration's master.cf adds spawn(8) services that run the scripts
of scripts/ (copied into <instance>/bin, mode 0755, before the instance
starts) as user nobody:
  - policy services (unix, and inet on {port3}) that smtpd asks through
    check_policy_service; the recipient picks the service (classes.map);
  - an inet service on {port2} talking a line protocol (scripts/echo.py),
    which a case with "port: 2" talks to directly.
Besides the dialogue and smtpd's lines, each case's transcript has the
postfix/spawn and postfix/master lines logged while it ran (spawn's
warnings about the command's exit, its time limit, its fatal errors, and
master's about a spawn process that failed), sorted within each program
(two spawn processes may log in either order). Daemon paths, "process id
N" and {port3} are normalised on top of run_smtpd.normalise().

Waits are on conditions (the smtpd session's disconnect line, then the log
quiet for a moment), each bounded; no sleeps as synchronisation.

Trusts: its own configs, cases and scripts.
"""

import os
import re
import shutil
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "smtpd"))
import run_smtpd as rs  # noqa: E402

rs.HERE = HERE
rs.AREA = "spawn"

SPAWN_OR_MASTER = re.compile(rb"postfix/(?:[\w.-]+/)*(?:spawn|master)\[")
QUIET = 0.6     # seconds without a new log line that end a case's window
QUIET_LIMIT = 15


def side_lines(log):
    """The spawn and master lines of a log window, each program's lines
    sorted by their text without pid (two processes may log in either
    order)."""
    lines = [ln for ln in log.split(b"\n") if SPAWN_OR_MASTER.search(ln)]
    return sorted(lines, key=lambda ln: re.sub(rb"^.*?(postfix/)", rb"\1", re.sub(rb"\[\d+\]", b"", ln)))


class SpawnHelper(rs.SideHelper):
    def __init__(self, side):
        self.side = side
        self.inst = None
        self.port3 = None

    def attach(self, inst):
        """Scripts into <instance>/bin; {port3} filled in main.cf and master.cf."""
        self.inst = inst
        bindir = os.path.join(inst.dir, "bin")
        os.makedirs(bindir, exist_ok=True)
        os.chmod(bindir, 0o755)
        for name in os.listdir(os.path.join(HERE, "scripts")):
            target = os.path.join(bindir, name)
            shutil.copyfile(os.path.join(HERE, "scripts", name), target)
            os.chmod(target, 0o755)
        self.port3 = rs.free_port()
        for fname in ("main.cf", "master.cf"):
            path = os.path.join(inst.etc, fname)
            with open(path) as f:
                text = f.read()
            rs.write_config(path, text.replace("{port3}", str(self.port3)))

    def run_case(self, case, inst, reference_postcat):
        offset = len(inst.log_text())
        if case["port"] == 2:
            partial = {"dialogue": rs.play(case, inst), "smtpd": [], "qids": [], "queue": {}}
        else:
            partial = rs.run_case(case, inst, reference_postcat)
        # spawn's lines about the command come when it exits: after the
        # session, at the latest once the log stays quiet.
        rs.wait_quiet(inst, QUIET, QUIET_LIMIT)
        partial["smtpd"] = list(partial["smtpd"]) + side_lines(inst.log_text()[offset:])
        return partial

    def finish(self, text):
        text = text.replace(self.side.daemon_dir.encode(), b"{daemon_directory}")
        text = re.sub(rb"process id \d+", b"process id {pid}", text)
        text = re.sub(rb"\bpid \d+", b"pid {pid}", text)
        if self.port3:
            text = text.replace(str(self.port3).encode(), b"{port3}")
        return text


def run_side(side, cfg, cases, root, reference_postcat, helper=None):
    return rs.run_side(side, cfg, cases, root, reference_postcat, helper or SpawnHelper(side))


if __name__ == "__main__":
    sys.exit(rs.main(side_runner=run_side, jobs=3))
