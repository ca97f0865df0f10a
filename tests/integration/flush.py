#!/usr/bin/env python3
"""Fast flush, side by side: the reference and ours, each a private
instance (the pipeline harness's Instance, compat-suite/pipeline) whose
relay transport always defers and whose retry times are an hour away, so
that every new delivery attempt in the log is one a flush caused.

Steps, the same on both sides, each followed by a wait for the delivery
attempts it must cause (bounded; no sleeps as synchronisation):
  1. mail A to u1@remote.test and u2@Sub.Remote.test (eligible:
     fast_flush_domains = $relay_domains = remote.test, with subdomains by
     parent_domain_matches_subdomains), mail B to u3@other.test (not
     eligible): three deferrals; the flush/ logs must list A, and only A,
     under remote_test and sub_remote_test;
  2. postqueue -s remote.test: A is tried again (both recipients: the
     whole message moves), B is not;
  3. sendmail -qRsub.remote.test: the same through sendmail;
  4. postqueue -i <B>: B is tried again, A is not;
  5. postqueue -s other.test: refused ("not configured"), exit 69;
  5b. postqueue -i with an unknown and a malformed queue ID, postqueue -s
     with an over-long and an odd site: answered, nothing moves;
  6. postfix flush: both are tried again;
  6b. a wakeup as master sends it, with remote.test's log made older than
     fast_flush_refresh_time: A is tried again (the refresh);
  7. postqueue -i <B> with B's transport in defer_transports: B is tried
     anyway (the per-message unthrottle of a single-file flush);
  8. relay_transport pointing at a service master.cf lacks, postqueue -s
     remote.test: qmgr finds that transport dead and the retry service
     defers A ("mail transport unavailable"); A is listed again.
Our side also gets hostile requests straight on its public/flush socket
(bad queue IDs, a path as site, an over-long site, unknown requests),
which must be refused.
What is compared: each step's command status and normalised output, the
attempts per message each step caused, the flush/ log names and the
queue IDs listed in them (by message), and the normalised log lines of
flush, qmgr, pipe and error, and every warning (lines only our side
writes, for reasons outside flush, are listed in KNOWN_OURS: the run
fails when one of them disappears, so the list only shrinks). The step outcomes are also checked
against what they must be, so a broken side fails even when both match.

Usage: flush.py --ours BUILD_DIR [--reference CACHE] [--keep]
Exit 0 when both sides behave alike and as described, 1 otherwise, 77
when not root. Needs our postqueue (src/cmd/postqueue); without it the
postqueue/sendmail steps of our side are made by talking to public/flush
directly, and the run says so.

Trusts: its own configuration; runs master as root, like the pipeline.
"""

import argparse
import os
import re
import shutil
import socket
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "compat-suite", "pipeline"))
import run_pipeline as rp  # noqa: E402

STEP_TIMEOUT = 20  # seconds for the attempts one step causes

MAIN = "\n".join([
    "relay_domains = remote.test",
    "relay_transport = tempfail",
    "default_transport = tempfail",
    "minimal_backoff_time = 3600s",
    "maximal_backoff_time = 4000s",
    "queue_run_delay = 3600s",
    "",
])
MASTER = ("tempfail  unix  -       n       n       -       -       pipe\n"
          "  flags=R user=nobody argv={instance}/record-tempfail ${sender} ${recipient}\n")

ATTEMPT = re.compile(rb"postfix/pipe\[\d+\]: (\w+): to=<([^>]*)>, relay=tempfail, .*status=deferred")


# Log lines only our side writes, each with its reason; the run fails
# when one no longer appears, so the list only shrinks.
KNOWN_OURS = {}


def direct_flush(inst, attrs):
    """Our attribute protocol (src/ipc/attr.h) to public/flush: for a side
    without postqueue. Returns the status number or None."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(10)
    try:
        s.connect(os.path.join(inst.spool, "public", "flush"))
        s.sendall(b"".join(b"%s=%s\n" % (k.encode(), v.encode()) for k, v in attrs) + b"\n")
        data = b""
        while not data.endswith(b"\n\n"):
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
    except OSError:
        return None
    finally:
        s.close()
    m = re.match(rb"status=(-?\d+)\n", data)
    return int(m.group(1)) if m else None


def trigger(inst, data):
    """Writes wakeup bytes to public/flush as master does; True if sent."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(10)
    try:
        s.connect(os.path.join(inst.spool, "public", "flush"))
        s.sendall(data)
        # Like master, wait for the server to hang up (the reference's
        # writes a greeting first and warns if the client has gone).
        while s.recv(4096):
            pass
        return True
    except OSError:
        return False
    finally:
        s.close()


def attempts(inst):
    return ATTEMPT.findall(inst.log_text())


def flush_logs(inst, names):
    """{log name: [message label...]} of the flush/ directory."""
    out = {}
    for base, _dirs, files in os.walk(os.path.join(inst.spool, "flush")):
        for f in files:
            with open(os.path.join(base, f)) as fh:
                out[f] = [names.get(line.strip(), "?" + line.strip()) for line in fh if line.strip()]
    return out


def run_side(side, cache, root, notes):
    rp.make_setgid(side)
    inst = rp.Instance(root, side, cache, {"main": MAIN, "master": MASTER, "files": {}})
    inst.set_port(rp.free_port())
    res = {"dir": inst.dir, "steps": [], "qids": {}}
    status, out, err = inst.start()
    if status != 0 or not rp.wait_for(lambda: os.path.exists(os.path.join(inst.spool, "public", "pickup")), 10):
        res["start"] = (status, out, err)
        inst.stop()
        res["log"] = inst.log_text()
        return res
    has_postqueue = os.path.exists(os.path.join(side.command_dir, "postqueue"))
    if not has_postqueue:
        notes.append(f"{side.label}: no postqueue: flush requests sent to public/flush directly")

    names = {}  # queue id -> "A"/"B"

    def submit(label, rcpts):
        before = len(attempts(inst))
        st, o, e = inst.run("sendmail", ["-f", "sender@example.com", *rcpts],
                            b"Subject: flush test " + label.encode() + b"\n\nbody\n")
        rp.wait_for(lambda: len(attempts(inst)) >= before + len(rcpts), STEP_TIMEOUT)
        new = attempts(inst)[before:]
        if new:
            names[new[0][0].decode()] = label
            res["qids"][new[0][0]] = label
        return st

    def step(title, program, args, direct, expect):
        before = len(attempts(inst))
        if program == "wakeup":
            result = ("wakeup", trigger(inst, b"W\0"))
        elif program in ("postqueue", "sendmail") and not has_postqueue:
            st = direct_flush(inst, direct)
            result = ("direct", st)
        else:
            st, o, e = inst.run(program, args)
            result = (st, normalise(o + e, res, names))
        rp.wait_for(lambda: sorted_count(attempts(inst)[before:], names) == expect, STEP_TIMEOUT)
        got = sorted_count(attempts(inst)[before:], names)
        res["steps"].append((title, result, got, expect))

    submit("A", ["u1@remote.test", "u2@Sub.Remote.test"])
    submit("B", ["u3@other.test"])
    res["logs_after_defer"] = flush_logs(inst, names)
    qid_b = next((q for q, n in names.items() if n == "B"), "NONE")
    step("postqueue -s remote.test", "postqueue", ["-s", "remote.test"],
         [("request", "send_site"), ("site", "remote.test")], {"A": 2})
    step("sendmail -qRsub.remote.test", "sendmail", ["-qRsub.remote.test"],
         [("request", "send_site"), ("site", "sub.remote.test")], {"A": 2})
    step("postqueue -i B", "postqueue", ["-i", qid_b],
         [("request", "send_file"), ("queue_id", qid_b)], {"B": 1})
    step("postqueue -s other.test", "postqueue", ["-s", "other.test"],
         [("request", "send_site"), ("site", "other.test")], {})
    # Requests the service answers without moving mail: an unknown but
    # well-formed queue ID (ok), a malformed one and an over-long site
    # (both "invalid request"), an odd but eligible site (ok, no log).
    long_site = "a" * 300 + ".remote.test"
    for title, prog, argv, direct in (
            ("postqueue -i unknown id", "postqueue", ["-i", "ABCDEF0123"],
             [("request", "send_file"), ("queue_id", "ABCDEF0123")]),
            ("postqueue -i bad id", "postqueue", ["-i", "../x"],
             [("request", "send_file"), ("queue_id", "../x")]),
            ("postqueue -s long site", "postqueue", ["-s", long_site],
             [("request", "send_site"), ("site", long_site)]),
            ("postqueue -s odd site", "postqueue", ["-s", "x/y.remote.test"],
             [("request", "send_site"), ("site", "x/y.remote.test")])):
        step(title, prog, argv, direct, {})
    step("postfix flush", "postfix", ["-c", inst.etc, "flush"], None, {"A": 2, "B": 1})
    res["logs_after_flush"] = flush_logs(inst, names)
    if side.label == "ours":
        # Our daemon itself, through its socket (postqueue checks most of
        # this before asking): hostile values are refused, nothing moves.
        res["direct"] = [(req, direct_flush(inst, req)) for req in (
            [("request", "send_file"), ("queue_id", "../x")],
            [("request", "add"), ("site", "remote.test"), ("queue_id", "../../etc/passwd")],
            [("request", "add"), ("site", "../../etc"), ("queue_id", "ABCDEF0123")],
            [("request", "send_site"), ("site", "a" * 300 + ".remote.test")],
            [("request", "bogus")],
            [("request", "send_site")],
        )]
    # master's wakeup ("W" and a NUL, which both sides take) refreshes logs
    # unread for fast_flush_refresh_time: age remote.test's log only.
    aged = os.path.join(inst.spool, "flush", "remote_test")
    rp.wait_for(lambda: os.path.exists(aged) and os.path.getsize(aged) > 0, STEP_TIMEOUT)
    os.utime(aged, (rp.OLD_MTIME, rp.OLD_MTIME))
    step("wakeup (refresh)", "wakeup", [], None, {"A": 2})
    # defer_transports holds B's transport; a single-file flush overrides it.
    with open(os.path.join(inst.etc, "main.cf"), "a") as f:
        f.write("defer_transports = tempfail\n")
    os.utime(os.path.join(inst.etc, "main.cf"), (rp.OLD_MTIME, rp.OLD_MTIME))
    inst.run("postfix", ["-c", inst.etc, "reload"])
    rp.wait_for(lambda: inst.log_text().count(b"reload -- version") >= 1, 10)
    step("postqueue -i B, defer_transports", "postqueue", ["-i", qid_b],
         [("request", "send_file"), ("queue_id", qid_b)], {"B": 1})
    # Deferrals for a dead transport feed the logs too: with the relay
    # transport gone from master.cf, a send of remote.test makes the retry
    # service defer A ("mail transport unavailable"), and A is listed again.
    path = os.path.join(inst.etc, "main.cf")
    text = open(path).read().replace("relay_transport = tempfail", "relay_transport = nosuch")
    text = text.replace("defer_transports = tempfail\n", "")
    with open(path, "w") as f:
        f.write(text)
    os.utime(path, (rp.OLD_MTIME, rp.OLD_MTIME))
    inst.run("postfix", ["-c", inst.etc, "reload"])
    rp.wait_for(lambda: inst.log_text().count(b"reload -- version") >= 2, 10)
    unavailable = re.compile(rb"postfix/(?:qmgr|error)\[\d+\]: (\w+): to=<[^>]*>, relay=none, .*status=deferred "
                             rb"\(mail transport unavailable\)")
    if has_postqueue:
        inst.run("postqueue", ["-s", "remote.test"])
    else:
        direct_flush(inst, [("request", "send_site"), ("site", "remote.test")])
    rp.wait_for(lambda: len(unavailable.findall(inst.log_text())) >= 2, STEP_TIMEOUT)
    res["qmgr_deferrals"] = len(unavailable.findall(inst.log_text()))
    rp.wait_for(lambda: flush_logs(inst, names).get("remote_test") == ["A"], STEP_TIMEOUT)
    res["logs_after_qmgr"] = flush_logs(inst, names)
    # The mark of a single-file flush is gone once qmgr has read the file.
    rp.wait_for(lambda: not inst.queue_files("incoming", "active"), STEP_TIMEOUT)
    res["modes"] = sorted({oct(os.stat(p).st_mode & 0o7777) for p in inst.queue_files("deferred")})
    inst.stop()
    res["log"] = inst.log_text()
    return res


def sorted_count(found, names):
    out = {}
    for qid, _rcpt in found:
        label = names.get(qid.decode(), "?")
        out[label] = out.get(label, 0) + 1
    return out


def normalise(data, res, names=None):
    data = data.replace(res["dir"].encode(), b"{instance}")
    for qid, label in (names or {}).items():
        data = data.replace(qid.encode(), b"{" + label.encode() + b"}")
    return data


def log_lines(res):
    """The lines of flush, qmgr and pipe about our two messages, and every
    warning, normalised and sorted."""
    names = {q.decode(): l for q, l in res["qids"].items()}
    keep = []
    for ln in res["log"].split(b"\n"):
        if not re.search(rb"postfix/(flush|qmgr|pipe|error)\[|warning|fatal|panic", ln):
            continue
        if rp.CLOCK_WARNINGS.search(ln):
            continue
        ln = re.sub(rb"^\w{3} [ \d]\d \d\d:\d\d:\d\d \S+ ", b"", ln)
        ln = re.sub(rb"\[\d+\]", b"[{pid}]", ln)
        ln = re.sub(rb"delay=[\d.]+, delays=[\d.]+/[\d.]+/[\d.]+/[\d.]+", b"delay={d}, delays={d}", ln)
        keep.append(normalise(ln, res, names))
    return sorted(set(keep))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--ours", required=True)
    ap.add_argument("--reference", default=rp.DEFAULT_REFERENCE)
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args()
    if os.geteuid() != 0:
        print("flush: needs root (master runs as root)", file=sys.stderr)
        return 77
    root = tempfile.mkdtemp(prefix="pf-flush-")
    os.chmod(root, 0o755)
    notes = []
    ref = run_side(rp.reference_side(args.reference), args.reference, root, notes)
    ours = run_side(rp.ours_side(os.path.abspath(args.ours)), args.reference, root, notes)
    failures = []
    for label, r in (("reference", ref), ("ours", ours)):
        if "start" in r:
            failures.append(f"{label}: did not start: {r['start']}")
            continue
        if r["logs_after_defer"] != {"remote_test": ["A"], "sub_remote_test": ["A"]}:
            failures.append(f"{label}: flush logs after the deferrals: {r['logs_after_defer']}")
        for title, result, got, expect in r["steps"]:
            if got != expect:
                failures.append(f"{label}: {title}: attempts {got}, expected {expect} (command: {result})")
    for label, r in (("reference", ref), ("ours", ours)):
        if "start" not in r and (r.get("qmgr_deferrals") != 2 or r.get("logs_after_qmgr", {}).get("remote_test") != ["A"]):
            failures.append(f"{label}: qmgr deferrals {r.get('qmgr_deferrals')}, "
                            f"flush logs after them {r.get('logs_after_qmgr')}")
        if "start" not in r and r.get("modes") != ["0o700"]:
            failures.append(f"{label}: deferred queue file modes {r.get('modes')}, expected ['0o700']")
    expect_direct = [2, 2, 1, 2, 2, 2]
    got_direct = [st for _req, st in ours.get("direct", [])]
    if "start" not in ours and got_direct != expect_direct:
        failures.append(f"ours: direct requests answered {got_direct}, expected {expect_direct}")
    if not failures:
        for (t1, r1, g1, _), (t2, r2, g2, _) in zip(ref["steps"], ours["steps"]):
            if r1 != r2 and r2[0] != "direct":
                failures.append(f"step {t1}: reference {r1!r}, ours {r2!r}")
        if ref["logs_after_flush"] != ours["logs_after_flush"]:
            failures.append(f"flush logs after postfix flush: reference {ref['logs_after_flush']}, "
                            f"ours {ours['logs_after_flush']}")
        a, b = log_lines(ref), log_lines(ours)
        for line, reason in KNOWN_OURS.items():
            if line in b:
                b.remove(line)
                print(f"known difference: {line.decode()}: {reason}")
            else:
                failures.append(f"stale known difference (remove it from KNOWN_OURS): {line.decode()}")
        if a != b:
            import difflib
            failures.append("log lines differ:\n" + "\n".join(
                "    " + x for x in difflib.unified_diff([x.decode(errors="replace") for x in a],
                                                         [x.decode(errors="replace") for x in b],
                                                         "reference", "ours", lineterm="")))
    for n in notes:
        print("note:", n)
    steps = len(ref.get("steps", [])) + 3
    for f in failures:
        print("FAIL", f)
    print(f"flush: {steps} steps, {'identical' if not failures else str(len(failures)) + ' failures'}")
    if args.keep:
        print("kept", root)
    else:
        shutil.rmtree(root, ignore_errors=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
