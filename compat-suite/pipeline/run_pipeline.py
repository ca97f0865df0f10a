#!/usr/bin/env python3
"""The pipeline area of the compat-suite: whole mail systems side by side.

For each configuration under configs/ and each side (the reference, then
ours), this starts a private instance in a temporary directory (master on
127.0.0.1, maillog_file instead of syslog, queue and data directories of its
own), submits every message of messages.py with that side's sendmail, one at
a time, waits until the queue is quiet, stops the instance, and collects
what the recording transports received (argv, environment, stdin) and the
log. Values that depend on the host or the run are normalised
(NORMALISATION.md, "pipeline"); then each (configuration, message) pair is a
case: its deliveries and its log lines must be identical on both sides.

Waits are on conditions (files appearing, queues emptying, log lines), each
bounded; nothing sleeps to synchronise.

Trusts: its own configs and messages. The instances run as root (master),
daemons as the postfix user, recordings as nobody.
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
COMPAT = os.path.dirname(HERE)
REPO = os.path.dirname(COMPAT)
sys.path.insert(0, HERE)
import messages  # noqa: E402

sys.path.insert(0, os.path.join(COMPAT, "lib"))
from pfinstance import (OLD_MTIME, Side, free_port, make_setgid, ours_side, reference_side,  # noqa: E402,F401
                        run_command, wait_for, wait_master_gone, write_config)
import pfinstance  # noqa: E402

DEFAULT_REFERENCE = os.path.join(COMPAT, ".cache", "reference")
AREA = "pipeline"
QUIET_TIMEOUT = 60      # seconds for a queue to drain
SUBMIT_TIMEOUT = 10     # seconds for one message to leave maildrop
SIDE_BUDGET = 100       # seconds for all the waits of one side

RECORDER = r'''#!/usr/bin/python3
# Records one delivery: argv, environment, stdin. Written by run_pipeline.py.
import os, sys, time
data = sys.stdin.buffer.read()
name = "%s/%d-%d" % ({outdir!r}, time.time_ns(), os.getpid())
with open(name + ".tmp", "wb") as f:
    f.write(b"argv:\n")
    for a in sys.argv[1:]:
        f.write(b"  [" + os.fsencode(a) + b"]\n")
    f.write(b"env:\n")
    for k in sorted(os.environ):
        if k == "PWD":
            continue
        f.write(b"  " + os.fsencode(k) + b"=" + os.fsencode(os.environ[k]) + b"\n")
    f.write(b"uid: %d gid: %d\n" % (os.getuid(), os.getgid()))
    f.write(b"stdin:\n" + data)
os.rename(name + ".tmp", name + ".rec")
sys.exit(int({exit_code!r}))
'''


def read_config(name):
    """A configuration: main.cf lines, master.cf lines, table files."""
    folder = os.path.join(HERE, "configs", name)
    cfg = {"main": "", "master": "", "files": {}}
    for fname in sorted(os.listdir(folder)):
        with open(os.path.join(folder, fname), "rb") as f:
            data = f.read()
        if fname == "main.cf":
            cfg["main"] = data.decode()
        elif fname == "master.cf":
            cfg["master"] = data.decode()
        else:
            cfg["files"][fname] = data
    return cfg


class Instance:
    """One private mail system in <root>/<side>."""

    def __init__(self, root, side, cache, cfg):
        self.side = side
        # Same-length directory names on both sides: paths show up in
        # reports (pipe's "delivers to command: <path>") and so in their
        # sizes and line folding.
        self.dir = os.path.join(root, side.label.ljust(10, "_"))
        self.etc = os.path.join(self.dir, "etc")
        self.spool = os.path.join(self.dir, "spool")
        self.data = os.path.join(self.dir, "data")
        self.rec = os.path.join(self.dir, "rec")
        self.log = os.path.join(self.dir, "maillog")
        for d in (self.etc, self.spool, self.data, self.rec):
            os.makedirs(d)
        os.chmod(self.dir, 0o755)
        os.chmod(self.rec, 0o1777)
        shutil.chown(self.data, "postfix")
        for code, name in ((0, "record"), (75, "record-tempfail"), (67, "record-nouser")):
            path = os.path.join(self.dir, name)
            with open(path, "w") as f:
                f.write(RECORDER.format(outdir=self.rec, exit_code=code))
            os.chmod(path, 0o755)
        master_cf = open(os.path.join(cache, "usr/share/postfix/master.cf.dist")).read()
        master_cf = re.sub(r"(?m)^smtp\s+inet\s.*$", "127.0.0.1:{port} inet n - y - - smtpd", master_cf)
        master_cf += (
            "record    unix  -       n       n       -       -       pipe\n"
            f"  flags=R user=nobody argv={self.dir}/record ${{sender}} ${{recipient}}\n"
            + cfg["master"].replace("{instance}", self.dir))
        main_cf = "\n".join([
            "compatibility_level = 3.6",
            f"queue_directory = {self.spool}",
            f"data_directory = {self.data}",
            f"daemon_directory = {side.daemon_dir}",
            f"command_directory = {side.command_dir}",
            *side.extra_main,
            "mail_owner = postfix",
            "setgid_group = postdrop",
            "inet_interfaces = loopback-only",
            "inet_protocols = ipv4",
            "myhostname = mail.example.com",
            "mydomain = example.com",
            "mydestination = $myhostname, localhost.$mydomain, localhost, example.com",
            "mynetworks = 127.0.0.0/8",
            f"maillog_file = {self.log}",
            "maillog_file_prefixes = /tmp",
            "local_transport = record",
            "default_transport = record",
            "relay_transport = record",
            "biff = no",
            "",
        ]) + cfg["main"].replace("{instance}", self.dir)
        # A configuration's own setting replaces the base line (no
        # "overriding earlier entry" warnings).
        own = set(re.findall(r"(?m)^(\w+)\s*=", cfg["main"]))
        main_cf = "\n".join(line for line in main_cf.split("\n")
                             if not (re.match(r"^(\w+)\s*=", line) and re.match(r"^(\w+)", line).group(1) in own
                                     and line not in cfg["main"].replace("{instance}", self.dir).split("\n")))
        self.port = 0
        self._write("master.cf", master_cf)
        self._write("main.cf", main_cf)
        for fname, data in cfg["files"].items():
            self._write(fname, data.decode().replace("{instance}", self.dir))

    def _write(self, fname, text):
        write_config(os.path.join(self.etc, fname), text)

    def set_port(self, port):
        path = os.path.join(self.etc, "master.cf")
        text = open(path).read().replace("{port}", str(port))
        self._write("master.cf", text)

    def run(self, program, args, stdin=b"", timeout=30):
        return run_command(self.side, self.etc, program, args, stdin, timeout, cwd=self.dir)

    def start(self):
        return self.run("postfix", ["-c", self.etc, "start"])

    def stop(self):
        self.run("postfix", ["-c", self.etc, "stop"])
        wait_master_gone(self.spool)

    def queue_files(self, *queues):
        found = []
        for q in queues:
            for base, _dirs, files in os.walk(os.path.join(self.spool, q)):
                found += [os.path.join(base, f) for f in files]
        return found

    def log_text(self):
        try:
            with open(self.log, "rb") as f:
                return f.read()
        except OSError:
            return b""


QUEUE_ID = re.compile(rb"\b([0-9A-F]{8,}|[0-9B-DF-HJ-NP-TV-Zb-df-hj-np-tv-z]{10,}z[0-9B-DF-HJ-NP-TV-Zb-df-hj-np-tv-z]+)(?=[:;@\].,\s]|$)")


def run_side(side, cache, cfg, msgs, root):
    """Runs every message through one side; returns per-message results."""
    make_setgid(side)
    inst = Instance(root, side, cache, cfg)
    inst.set_port(free_port())
    status, out, err = inst.start()
    result = {"start": (status, out, err), "messages": {}, "log": b"", "qids": {}, "dir": inst.dir}
    if status != 0 or not wait_for(lambda: os.path.exists(os.path.join(inst.spool, "public", "pickup")), 10):
        result["log"] = inst.log_text()
        inst.stop()
        return result
    seen_pickups = 0
    budget_end = time.monotonic() + SIDE_BUDGET
    def budget(limit):
        return max(0.0, min(limit, budget_end - time.monotonic()))
    pickup_line = re.compile(rb"postfix/pickup\[\d+\]: (\S+): uid=")
    for index, msg in enumerate(msgs):
        status, out, err = inst.run("sendmail", msg["args"], msg["data"])
        result["messages"][index] = {"sendmail": (status, out, err)}
        if status != 0:
            continue
        # The message's queue ID is the first pickup line after this
        # submission (a retried pickup may add more; they stay unmapped).
        wait_for(lambda: not inst.queue_files("maildrop")
                 and len(pickup_line.findall(inst.log_text())) > seen_pickups, budget(SUBMIT_TIMEOUT))
        pickups = pickup_line.findall(inst.log_text())
        if len(pickups) > seen_pickups:
            result["qids"].setdefault(pickups[seen_pickups], index)
        seen_pickups = len(pickups)
    wait_for(lambda: not inst.queue_files("maildrop", "incoming", "active"), budget(QUIET_TIMEOUT))
    # Deliveries still running finish before the stop: the log must show a
    # final line for every message that went active.
    wait_for(lambda: _settled(inst.log_text()), budget(10))
    inst.stop()
    result["log"] = inst.log_text()
    result["recordings"] = []
    for fname in sorted(os.listdir(inst.rec)):
        if fname.endswith(".rec"):
            with open(os.path.join(inst.rec, fname), "rb") as f:
                result["recordings"].append(f.read())
    result["held"] = len(inst.queue_files("hold"))
    result["deferred"] = len(inst.queue_files("deferred"))
    result["dir"] = inst.dir
    return result


def _settled(log):
    active = set(re.findall(rb": (\S+): from=<[^>]*>, size=\d+, nrcpt=\d+ \(queue active\)", log))
    done = set(re.findall(rb": (\S+): removed", log))
    return active <= done or b"status=deferred" in log


def normalise(data, result):
    """NORMALISATION.md, pipeline rules."""
    data = data.replace(result["dir"].encode(), b"{instance}")
    data = re.sub(rb"(?m)^\w{3} [ \d]\d \d\d:\d\d:\d\d \S+ ", b"", data)
    data = re.sub(rb"(postfix(?:/[\w.-]+)+)\[\d+\]", rb"\1[{pid}]", data)
    data = re.sub(rb"\b\w{3}, [ \d]?\d \w{3} \d{4} \d\d:\d\d:\d\d [+-]\d{4}( \(\w+\))?", b"{date}", data)
    data = re.sub(rb"<\d{14}\.", b"<{datetime}.", data)
    data = re.sub(rb"(?m)^(>?From \S+  )\w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4}$", rb"\1{ctime}", data)
    data = re.sub(rb"delay=[\d.]+, delays=[\d.]+/[\d.]+/[\d.]+/[\d.]+", b"delay={d}, delays={d}", data)
    data = re.sub(rb"(?m)(daemon started -- version \S+, configuration ).*$", rb"\1{etc}", data)
    qids = result.get("qids", {})
    def sub(m):
        q = m.group(1)
        if q in qids:
            return b"{Q%d}" % qids[q]
        return b"{qid}"
    data = QUEUE_ID.sub(sub, data)
    # MIME boundaries of notices: "<queue id>.<time>/<host>".
    data = re.sub(rb"(\{Q\d+\}|\{qid\})\.\d{9,}/", rb"\1.{time}/", data)
    return data


# A paragraph of a delivery report about one recipient: "<addr>: text" in
# the human-readable part, "Final-Recipient:"/"Original-Recipient:" blocks
# in the message/delivery-status part.
REPORT_RECIPIENT = re.compile(rb"^(<[^\n]*>: |Final-Recipient: |Original-Recipient: )")


def sort_report_recipients(data):
    """NORMALISATION.md, pipeline rule 9: the recipients of one report in
    sorted order. A -v or -bv report lists them in the order their delivery
    agents appended to the trace log, which is a race between agents on both
    sides whenever two transports take part."""
    paras = data.split(b"\n\n")
    out, run = [], []
    for para in paras:
        if REPORT_RECIPIENT.match(para):
            run.append(para)
            continue
        out += sorted(run)
        run = []
        out.append(para)
    out += sorted(run)
    return b"\n\n".join(out)


def per_message(result, index):
    """The normalised transcript of one message on one side."""
    out = []
    m = result["messages"].get(index)
    if m is None:
        return b"(not submitted: instance did not start)\n"
    status, stdout, stderr = m["sendmail"]
    out.append(b"sendmail exit %s\n" % str(status).encode())
    out.append(normalise(stdout, result) + normalise(stderr, result))
    qid = next((q for q, i in result["qids"].items() if i == index), None)
    if qid is None:
        out.append(b"(no queue id)\n")
        return b"".join(out)
    lines = [ln for ln in result["log"].split(b"\n") if re.search(rb"(?<![0-9A-Za-z])" + re.escape(qid) + rb"(?![0-9A-Za-z])", ln)]
    out.append(b"log:\n")
    out += sorted(normalise(ln, result) + b"\n" for ln in lines)
    recs = [r for r in result.get("recordings", []) if re.search(rb"\bid " + re.escape(qid) + rb"\b", r)]
    for r in sorted(sort_report_recipients(normalise(r, result)) for r in recs):
        out.append(b"delivery:\n" + r + b"\n")
    return b"".join(out)


# Host clock checks of the reference's cleanup: whether they appear depends
# on the file system's and the system's clocks at that moment.
CLOCK_WARNINGS = re.compile(rb"warning: (file system clock is \d+ seconds? ahead of local clock"
                            rb"|resetting file time stamps - this hurts performance)")


# Lines postfix stop logs while postlogd itself is being stopped: whether
# they reach the log file depends on that timing, on the reference too.
STOP_LINES = re.compile(rb"postfix/postfix-script\[\d+\]: (stopping the Postfix mail system"
                        rb"|waiting for the Postfix mail system to terminate)$")


def other_lines(result):
    known = set(result["qids"].keys())
    out = []
    for ln in result["log"].split(b"\n"):
        if not ln or CLOCK_WARNINGS.search(ln) or STOP_LINES.search(ln):
            continue
        ids = [m.group(1) for m in QUEUE_ID.finditer(ln)]
        if any(i in known for i in ids):
            continue
        out.append(normalise(ln, result))
    return sorted(set(out))


def read_known():
    return pfinstance.read_known(AREA)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--ours", help="our build directory (with bin/ and libexec/)")
    ap.add_argument("--reference", default=DEFAULT_REFERENCE)
    ap.add_argument("--config", action="append", help="only these configurations")
    ap.add_argument("--show-diff", action="store_true")
    ap.add_argument("--reference-twice", action="store_true",
                    help="run the reference against itself (checks the normalisation)")
    ap.add_argument("--keep", action="store_true", help="keep the instance directories")
    ap.add_argument("-j", "--jobs", type=int, default=3, help="configurations run at once (default 3)")
    ap.add_argument("--retries", type=int, default=1,
                    help="configurations with a failing case are run again this many times (default 1)")
    args = ap.parse_args()
    if os.geteuid() != 0:
        print("pipeline: needs root (master runs as root)", file=sys.stderr)
        return 77
    ref = reference_side(args.reference)
    ours = ref if args.reference_twice else ours_side(os.path.abspath(args.ours))
    if args.reference_twice:
        ours = Side("reference2", ref.command_dir, ref.daemon_dir, ref.extra_main, ref.env)
    configs = sorted(os.listdir(os.path.join(HERE, "configs")))
    if args.config:
        configs = [c for c in configs if c in args.config]
    msgs = messages.MESSAGES
    known = read_known()
    total = identical = known_count = failed = 0
    failed_configs = set()
    import difflib
    def run_config(cname):
        cfg = read_config(cname)
        root = tempfile.mkdtemp(prefix=f"pf-pipeline-{cname}-")
        os.chmod(root, 0o755)
        return root, run_side(ref, args.reference, cfg, msgs, root), run_side(ours, args.reference, cfg, msgs, root)

    # Configurations are independent instances (own directories, own
    # ports): a few run at once; most of their time is spent waiting.
    import concurrent.futures
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        results = dict(zip(configs, pool.map(run_config, configs)))
    for cname in configs:
        root, r_ref, r_ours = results[cname]
        names = [(f"{cname}/{i:02d}-{m['name']}", i) for i, m in enumerate(msgs)]
        for case, i in names:
            total += 1
            a, b = per_message(r_ref, i), per_message(r_ours, i)
            same = a == b
            if same and case not in known:
                identical += 1
            elif not same and case in known:
                known_count += 1
            else:
                failed += 1
                failed_configs.add(cname)
                print(f"FAIL {AREA}/{case}" + (" (stale known difference)" if same else ""))
                if args.show_diff and not same:
                    for line in difflib.unified_diff(a.decode(errors="replace").splitlines(),
                                                     b.decode(errors="replace").splitlines(),
                                                     "reference", "ours", lineterm=""):
                        print("    " + line)
        case = f"{cname}/general"
        total += 1
        a, b = other_lines(r_ref), other_lines(r_ours)
        same = a == b
        if same and case not in known:
            identical += 1
        elif not same and case in known:
            known_count += 1
        else:
            failed += 1
            failed_configs.add(cname)
            print(f"FAIL {AREA}/{case}" + (" (stale known difference)" if same else ""))
            if args.show_diff and not same:
                for line in difflib.unified_diff([x.decode(errors="replace") for x in a],
                                                 [x.decode(errors="replace") for x in b],
                                                 "reference", "ours", lineterm=""):
                    print("    " + line)
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)
        else:
            print(f"kept {root}")
    print(f"{AREA}: {total} cases, {identical} identical, {known_count} known differences")
    print(f"{total - failed} passed, {failed} failed")
    if failed and args.retries > 0:
        # Timing-dependent cases on a loaded machine: a configuration whose
        # cases are all identical on a second run passes, reported FLAKY.
        # The second run shows its differences.
        argv = [sys.executable, os.path.abspath(__file__), "--reference", args.reference, "--show-diff",
                "--retries", str(args.retries - 1)]
        argv += ["--reference-twice"] if args.reference_twice else ["--ours", args.ours]
        for name in sorted(failed_configs):
            argv += ["--config", name]
        if subprocess.run(argv).returncode == 0:
            print(f"FLAKY {AREA}: {', '.join(sorted(failed_configs))} identical on retry")
            failed = 0
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
