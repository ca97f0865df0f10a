#!/usr/bin/env python3
"""The tablewatch area of the compat-suite: running daemons restart after
an admin rebuilds a lookup table with postmap, as the reference's do.

For each side (the reference, then ours) this starts one private instance
(the smtpd area's Instance: master as root, smtpd on a free loopback port,
cleanup, trivial-rewrite, proxymap, postlogd; no qmgr, so queued mail stays
in incoming/) with an access table for smtpd (check_sender_access hash:)
and canonical_maps for cleanup (hash:), both built by the side's postmap
and given an old time stamp. Session 1 meets the first answers; then both
tables are rebuilt by the side's postmap with other answers; session 2 must
meet the new ones: the smtpd and cleanup processes that served session 1
notice the rebuilt file before their next client, log "table <name> has
changed -- restarting" and exit, and master starts fresh ones.

Cases, each compared side against side after normalisation (pids, dates,
queue IDs, the instance path):
  smtpd-access-rebuilt     both dialogues, and smtpd's restart lines
  cleanup-canonical-rebuilt  the envelope sender of each session's queue
                           file (the reference's postcat -e), and cleanup's
                           restart lines
Restart lines are compared as a set (as many idle processes as woke up may
log one each).

Waits are on conditions (log lines), each bounded; no sleeps. Exit status 0
only when every case passes (identical, or different and listed in
../known-differences as tablewatch/<case>). Needs root; exit 77 otherwise.

Trusts: its own configuration; the instances run as root (master).
"""

import argparse
import os
import re
import socket
import sys
import tempfile
import shutil
import difflib

HERE = os.path.dirname(os.path.abspath(__file__))
COMPAT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(COMPAT, "lib"))
sys.path.insert(0, os.path.join(COMPAT, "smtpd"))
import pfinstance  # noqa: E402
from pfinstance import OLD_MTIME, ours_side, wait_for  # noqa: E402
import run_smtpd  # noqa: E402

AREA = "tablewatch"
REPLY_TIMEOUT = 10
LOG_TIMEOUT = 15

MAIN_CF = """\
smtpd_sender_restrictions = check_sender_access hash:{config}/access
canonical_maps = hash:{config}/canonical
"""

FIRST = {
    "access": "bad@example.org REJECT first answer\n",
    "canonical": "alice@example.org carol@example.org\n",
}
SECOND = {
    "access": "bad@example.org REJECT second answer\n",
    "canonical": "alice@example.org dave@example.org\n",
}

QUEUE_ID = re.compile(rb"queued as ([0-9A-Za-z]+)")


class Smtp:
    """A minimal SMTP client: one complete reply per command."""

    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=REPLY_TIMEOUT)
        self.buf = b""
        self.transcript = []
        self.transcript.append(b"S: " + self.reply())

    def reply(self):
        lines = []
        while True:
            while b"\n" not in self.buf:
                data = self.sock.recv(4096)
                if not data:
                    lines.append(b"(closed)")
                    return b" | ".join(lines)
                self.buf += data
            line, self.buf = self.buf.split(b"\n", 1)
            line = line.rstrip(b"\r")
            lines.append(line)
            if len(line) < 4 or line[3:4] == b" ":
                return b" | ".join(lines)

    def cmd(self, text):
        self.sock.sendall(text + b"\r\n")
        r = self.reply()
        self.transcript.append(b"C: " + text)
        self.transcript.append(b"S: " + r)
        return r

    def close(self):
        self.sock.close()


MESSAGE = (b"From: Alice <alice@example.org>\r\nTo: Bob <bob@example.com>\r\n"
           b"Subject: table test\r\nMessage-ID: <tablewatch-{n}@example.org>\r\n\r\nHello.\r\n.")


def session(inst, n):
    """One session: the access table's answer, then a message whose sender
    canonical_maps rewrites. (transcript, queue id or None)"""
    c = Smtp(inst.port)
    c.cmd(b"EHLO client.example.org")
    c.cmd(b"MAIL FROM:<bad@example.org>")
    c.cmd(b"RCPT TO:<bob@example.com>")  # the sender restriction's answer (smtpd_delay_reject)
    c.cmd(b"RSET")
    c.cmd(b"MAIL FROM:<alice@example.org>")
    c.cmd(b"RCPT TO:<bob@example.com>")
    c.cmd(b"DATA")
    r = c.cmd(MESSAGE.replace(b"{n}", str(n).encode()))
    c.cmd(b"QUIT")
    c.close()
    m = QUEUE_ID.search(r)
    return c.transcript, (m.group(1) if m else None)


def build_tables(inst, tables):
    """Writes the table sources and builds them with the side's postmap;
    (status, stderr) of a failed postmap or None."""
    for name, text in tables.items():
        path = os.path.join(inst.etc, name)
        with open(path, "w") as f:
            f.write(text)
        status, _out, err = inst.run("postmap", [path])
        if status != 0:
            return f"postmap {name}: {status} {err!r}"
    return None


def envelope_sender(inst, qid, postcat):
    if not qid:
        return b"(no queue id)"
    path = inst.queue_file(qid.decode())
    if not path:
        return b"(no queue file)"
    status, out, err = inst.run("postcat", ["-e", path], command_dir=postcat)
    m = re.search(rb"(?m)^sender: (.*)$", out)
    return m.group(1) if m else b"(postcat %s: %s)" % (str(status).encode(), err.strip())


def restart_lines(log, program):
    lines = set()
    for line in log.splitlines():
        if f"postfix/{program}[".encode() in line and b"has changed" in line:
            lines.add(line.split(b": ", 1)[1] if b": " in line else line)
    return sorted(lines)


def run_side(side, root, postcat):
    """{case: transcript bytes} for one side."""
    inst = run_smtpd.Instance(root, side, {"main": MAIN_CF, "master": "", "files": {}})
    out = {}
    try:
        problem = build_tables(inst, FIRST)
        if not problem:
            for name in FIRST:
                os.utime(os.path.join(inst.etc, name + ".db"), (OLD_MTIME, OLD_MTIME))
            problem = inst.start()
        if problem:
            return {"smtpd-access-rebuilt": problem.encode(), "cleanup-canonical-rebuilt": problem.encode()}
        # Session 1; the access table rebuilt; session 2; canonical_maps
        # rebuilt; session 3. One table at a time: with two changed at once
        # the reference names the first of its hash table's order.
        t1, q1 = session(inst, 1)
        wait_for(lambda: inst.log_text().count(b"disconnect from") >= 2, LOG_TIMEOUT)
        mark1 = len(inst.log_text())
        problem = build_tables(inst, {"access": SECOND["access"]})
        t2, q2 = session(inst, 2) if not problem else ([problem.encode()], None)
        wait_for(lambda: inst.log_text().count(b"disconnect from") >= 3, LOG_TIMEOUT)
        if q2:
            wait_for(lambda: q2 + b": message-id=" in inst.log_text(), LOG_TIMEOUT)
        mark2 = len(inst.log_text())
        problem = build_tables(inst, {"canonical": SECOND["canonical"]})
        t3, q3 = session(inst, 3) if not problem else ([problem.encode()], None)
        wait_for(lambda: inst.log_text().count(b"disconnect from") >= 4, LOG_TIMEOUT)
        # cleanup logs its restart before it serves session 3's message.
        if q3:
            wait_for(lambda: q3 + b": message-id=" in inst.log_text(), LOG_TIMEOUT)
        log = inst.log_text()
        steps = [log[mark1:mark2], log[mark2:]]
        qids = [q for q in (q1, q2, q3) if q]

        def norm(data):
            data = data.replace(inst.etc.encode(), b"{config}")
            return run_smtpd.normalise(data, inst, qids)
        smtpd_part = [b"session 1:", *t1, b"session 2 (access rebuilt):", *t2,
                      b"session 3 (canonical rebuilt):", *t3]
        for i, step in enumerate(steps):
            smtpd_part += [b"smtpd restart lines before session %d:" % (i + 2), *restart_lines(step, "smtpd")]
        out["smtpd-access-rebuilt"] = norm(b"\n".join(smtpd_part) + b"\n")
        cleanup_part = [b"session %d sender: " % (i + 1) + envelope_sender(inst, q, postcat)
                        for i, q in enumerate((q1, q2, q3))]
        for i, step in enumerate(steps):
            cleanup_part += [b"cleanup restart lines before session %d:" % (i + 2), *restart_lines(step, "cleanup")]
        out["cleanup-canonical-rebuilt"] = norm(b"\n".join(cleanup_part) + b"\n")
    finally:
        inst.stop()
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--ours", help="our build directory (bin/, libexec/)")
    ap.add_argument("--reference", default=pfinstance.DEFAULT_REFERENCE)
    ap.add_argument("--print-reference", action="store_true")
    ap.add_argument("--show-diff", action="store_true")
    ap.add_argument("--keep", action="store_true", help="keep the temporary instances")
    args = ap.parse_args()
    if os.geteuid() != 0:
        print("tablewatch: needs root (master); skipped", file=sys.stderr)
        return 77
    reference = run_smtpd.reference_side(args.reference)
    postcat = reference.command_dir
    root = tempfile.mkdtemp(prefix="pf-tablewatch-")
    os.chmod(root, 0o755)
    try:
        ref = run_side(reference, root, postcat)
        if args.print_reference:
            for name, text in ref.items():
                sys.stdout.write(f"== {name}\n")
                sys.stdout.write(text.decode(errors="replace"))
            return 0
        if not args.ours:
            ap.error("--ours is required")
        ours = run_side(ours_side(os.path.abspath(args.ours)), root, postcat)
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)
    known = pfinstance.read_known(AREA)
    identical = failed = 0
    for name in sorted(ref):
        same = ref[name] == ours.get(name)
        identical += same
        if same == (name in known):
            failed += 1
            print(f"FAIL {AREA}/{name}" + (" (listed in known-differences but identical)" if same else ""))
            if not same and args.show_diff:
                sys.stdout.writelines(difflib.unified_diff(
                    ref[name].decode(errors="replace").splitlines(True),
                    ours.get(name, b"").decode(errors="replace").splitlines(True), "reference", "ours"))
    print(f"{AREA}: {len(ref)} cases, {identical} identical, {sum(1 for n in ref if n in known)} known differences")
    print(f"{len(ref) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
