#!/usr/bin/env python3
"""Address verification, side by side: the reference and ours, each a
private instance (the pipeline harness's Instance, compat-suite/pipeline)
with smtpd_recipient_restrictions = reject_unverified_recipient.
Recipients in example.com go to the "record" pipe transport (deliverable);
recipients in bad.test go to error:5.1.1 (undeliverable); multi@example.com
is a virtual alias of two addresses (cleanup answers its probe itself:
deliverable, "aliased to multiple recipients", and drops the recipients).

Steps, the same on both sides (Python smtplib on loopback):
  1. one SMTP session: RCPT to good@example.com, to bad@bad.test and to
     multi@example.com; with address_verify_poll_count = 1 all get "450
     4.1.1 ... unverified address: Address verification in progress", and
     three probes go out;
  2. wait (bounded) for the three probe results in the log
     (status=deliverable twice, one of them cleanup's, status=undeliverable);
  3. a second session: good@example.com and multi@example.com are
     accepted (250), bad@bad.test gets "450 4.1.1 ... unverified address:
     <the error text>" (unverified_recipient_reject_code = 450);
  4. after a reload with unverified_recipient_reject_code = 550, a third
     session: bad@bad.test gets "550 5.1.1 ... undeliverable address: ...";
  5. a fourth session with the sender bad@bad.test, which the access table
     check_sender_access inline:{bad.test=reject_unverified_sender} sends
     to verification: "450 4.1.7 <bad@bad.test>: Sender address rejected:
     unverified address: ..." (the cached result of step 2).
What is compared: every SMTP reply of the three sessions, and the
normalised log lines of smtpd rejects, the probes' qmgr "from=" lines,
the agents' (and cleanup's) probe results and verify's cache cleanup line, and the cache
file (entries as the reference's postmap -s reads them, and its mode). The replies are also checked against what they
must be, so a broken side fails even when both match.

Usage: verify.py --ours BUILD_DIR [--reference CACHE] [--keep]
Exit 0 when both sides behave alike and as described, 1 otherwise, 77
when not root.

Trusts: its own configuration; runs master as root, like the pipeline.
"""

import argparse
import os
import re
import shutil
import smtplib
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "compat-suite", "pipeline"))
import run_pipeline as rp  # noqa: E402

STEP_TIMEOUT = 30

MAIN = "\n".join([
    "smtpd_recipient_restrictions = reject_unverified_recipient",
    "smtpd_sender_restrictions = check_sender_access inline:{bad.test=reject_unverified_sender}",
    "address_verify_poll_count = 1",
    "local_recipient_maps =",
    "alias_maps =",
    "transport_maps = inline:{ {bad.test=error:5.1.1 User unknown in bad.test} }",
    "virtual_alias_maps = inline:{ {multi@example.com=a@example.com,b@example.com} }",
    "",
])

GOOD = "good@example.com"
BAD = "bad@bad.test"
MULTI = "multi@example.com"

INTERESTING = re.compile(
    rb"postfix/smtpd\[\d+\]: \w+: reject: |postfix/(?:pipe|error|local|cleanup)\[\d+\]: \w+: to=.*status=|"
    rb"postfix/qmgr\[\d+\]: \w+: from=|postfix/verify\[\d+\]: (?:warning|fatal|panic|cache )|"
    rb"postfix/\S+\[\d+\]: (?:warning|fatal|panic): .*(?:verify|probe)")


def session(port, rcpts, sender="sender@example.com"):
    """One SMTP dialog; the replies as text lines."""
    out = []
    try:
        s = smtplib.SMTP("127.0.0.1", port, timeout=30)
        code, msg = s.ehlo("client.example")
        out.append(f"EHLO {code}")
        code, msg = s.mail(sender)
        out.append(f"MAIL {code} {msg.decode()}")
        for r in rcpts:
            code, msg = s.rcpt(r)
            out.append(f"RCPT {r} {code} {msg.decode()}")
        s.quit()
    except (OSError, smtplib.SMTPException) as e:
        out.append(f"error {type(e).__name__}")
    return out


def probe_results(inst):
    return re.findall(rb"status=(deliverable|undeliverable)", inst.log_text())


def run_side(side, cache, root):
    rp.make_setgid(side)
    inst = rp.Instance(root, side, cache, {"main": MAIN, "master": "", "files": {}})
    port = rp.free_port()
    inst.set_port(port)
    # smtpd without a chroot jail on both sides (ours does not reach
    # public/cleanup from inside one yet: see the report).
    master_cf = os.path.join(inst.etc, "master.cf")
    text = re.sub(r"(?m)^(127\.0\.0\.1:\d+\s+inet\s+n\s+-\s+)y(\s)", r"\1n\2", open(master_cf).read())
    rp.write_config(master_cf, text)
    res = {"dir": inst.dir, "replies": [], "qids": {}}
    status, out, err = inst.start()
    if status != 0 or not rp.wait_for(lambda: os.path.exists(os.path.join(inst.spool, "public", "pickup")), 10):
        res["replies"].append(f"start failed: {status} {err!r}")
        inst.stop()
        res["log"] = inst.log_text()
        return res
    res["replies"] += session(port, [GOOD, BAD, MULTI])
    rp.wait_for(lambda: len(probe_results(inst)) >= 3, STEP_TIMEOUT)
    res["replies"].append("probe results: " + " ".join(sorted(x.decode() for x in probe_results(inst))))
    res["replies"] += session(port, [GOOD, BAD, MULTI])
    main_cf = os.path.join(inst.etc, "main.cf")
    with open(main_cf, "a") as f:
        f.write("unverified_recipient_reject_code = 550\n")
    os.utime(main_cf, (rp.OLD_MTIME, rp.OLD_MTIME))
    inst.run("postfix", ["-c", inst.etc, "reload"])
    rp.wait_for(lambda: b"reload -- version" in inst.log_text(), 10)
    # A new smtpd process reads the new setting; old ones exit after reload.
    res["replies"] += session(port, [BAD])
    # The sender bad@bad.test is verified (through the access table) and
    # found in the cache from the recipient probe.
    res["replies"] += session(port, [GOOD], sender=BAD)
    rp.wait_for(lambda: not inst.queue_files("incoming", "active"), STEP_TIMEOUT)
    inst.stop()
    res["log"] = inst.log_text()
    # The cache file, read with the reference's postmap on both sides (the
    # file format is shared): its entries and its mode.
    cache_path = os.path.join(inst.data, "verify_cache")
    ref = rp.reference_side(cache)
    st, out, err = rp.run_command(ref, inst.etc, "postmap", ["-s", "btree:" + cache_path])
    entries = re.sub(rb":\d{9,}:", b":{time}:", out).replace(inst.dir.encode(), b"{instance}")
    entries = re.sub(rb"(?m)^(_LAST_CACHE_CLEANUP_COMPLETED_\s+)\d+$", rb"\1{time}", entries)
    res["cache"] = sorted(entries.decode(errors="replace").splitlines())
    try:
        res["cache"].append("mode %o" % (os.stat(cache_path + ".db").st_mode & 0o7777))
    except OSError:
        res["cache"].append("no cache file")
    return res


def interesting_lines(res):
    lines = [ln for ln in res["log"].split(b"\n") if INTERESTING.search(ln)]
    return sorted(rp.normalise(ln, res).decode(errors="replace") for ln in lines)


EXPECT = [
    "EHLO 250",
    "MAIL 250 2.1.0 Ok",
    f"RCPT {GOOD} 450 4.1.1 <{GOOD}>: Recipient address rejected: unverified address: "
    "Address verification in progress",
    f"RCPT {BAD} 450 4.1.1 <{BAD}>: Recipient address rejected: unverified address: "
    "Address verification in progress",
    f"RCPT {MULTI} 450 4.1.1 <{MULTI}>: Recipient address rejected: unverified address: "
    "Address verification in progress",
    "probe results: deliverable deliverable undeliverable",
    "EHLO 250",
    "MAIL 250 2.1.0 Ok",
    f"RCPT {GOOD} 250 2.1.5 Ok",
    f"RCPT {BAD} 450 4.1.1 <{BAD}>: Recipient address rejected: unverified address: User unknown in bad.test",
    f"RCPT {MULTI} 250 2.1.5 Ok",
    "EHLO 250",
    "MAIL 250 2.1.0 Ok",
    f"RCPT {BAD} 550 5.1.1 <{BAD}>: Recipient address rejected: undeliverable address: User unknown in bad.test",
    "EHLO 250",
    "MAIL 250 2.1.0 Ok",
    f"RCPT {GOOD} 450 4.1.7 <{BAD}>: Sender address rejected: unverified address: User unknown in bad.test",
]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ours", required=True)
    ap.add_argument("--reference", default=rp.DEFAULT_REFERENCE)
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args()
    if os.geteuid() != 0:
        print("verify: needs root (runs master); skipped")
        return 77
    root = tempfile.mkdtemp(prefix="verify-it-")
    os.chmod(root, 0o755)
    ok = True
    try:
        ref = run_side(rp.reference_side(args.reference), args.reference, root)
        ours = run_side(rp.ours_side(os.path.abspath(args.ours)), args.reference, root)
        for label, res in (("reference", ref), ("ours", ours)):
            if res["replies"] != EXPECT:
                ok = False
                print(f"{label}: replies differ from the expected ones:")
                for got, want in zip(res["replies"] + [""] * len(EXPECT), EXPECT + [""] * len(res["replies"])):
                    mark = " " if got == want else "!"
                    if got or want:
                        print(f" {mark} got:  {got}\n   want: {want}" if mark == "!" else f"   {got}")
        if ref["replies"] != ours["replies"]:
            ok = False
            print("replies differ between the sides")
        if ref.get("cache") != ours.get("cache"):
            ok = False
            print(f"verify cache differs:\n  reference: {ref.get('cache')}\n  ours:      {ours.get('cache')}")
        rl, ol = interesting_lines(ref), interesting_lines(ours)
        if rl != ol:
            ok = False
            print("log lines differ (reference / ours):")
            for ln in rl:
                if ln not in ol:
                    print("  - " + ln)
            for ln in ol:
                if ln not in rl:
                    print("  + " + ln)
        print(f"verify: {len(EXPECT)} replies, {len(rl)} log lines, {len(ref.get('cache', []))} cache lines "
              f"compared: {'identical' if ok else 'DIFFERENT'}")
    finally:
        if args.keep:
            print(f"kept {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
