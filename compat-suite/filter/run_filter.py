#!/usr/bin/env python3
"""The filter area of the compat-suite: the after-queue content filter
pattern, end to end, the reference against ours.

Each configuration (configs.py) is one private instance per side (built
on compat-suite/pipeline's Instance: master on 127.0.0.1, maillog_file,
a recording pipe transport for every final delivery) with a "scan" smtp
transport (smtp_send_xforward_command=yes) and a re-injection smtpd on
127.0.0.1 in master.cf (-o content_filter=, receive_override_options,
smtpd_authorized_xforward_hosts=127.0.0.0/8, ...), as the reference's
FILTER_README sets them up. Between them sits filterserver.py: a Python
SMTP proxy that passes every command through to the re-injection smtpd
and adds a header to the content. Mail comes in with that side's sendmail
or over SMTP to the instance's main smtpd; content_filter in main.cf or
FILTER actions (check_sender_access, header_checks) send it to scan.

Messages go one at a time: each is waited for (every queue ID of its
journey removed or deferred) before the next is submitted. A case is one
message and compares, after the pipeline area's normalisation (plus the
run's port numbers): what the filter received (XFORWARD, envelope,
content), the final delivery the recorder saw, and the log lines of the
message's queue IDs (the original and the re-injected one, "{Qn}" and
"{Qn.1}"). "<config>/general" compares the other log lines.

Trusts: its own configurations. Needs root (master runs as root).
"""

import argparse
import difflib
import os
import re
import shutil
import smtplib
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
COMPAT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(COMPAT, "pipeline"))
sys.path.insert(0, os.path.join(COMPAT, "lib"))
import configs as config_list  # noqa: E402
import pfinstance  # noqa: E402
import run_pipeline  # noqa: E402
from filterserver import FilterServer  # noqa: E402
from retry import rerun_script  # noqa: E402

AREA = "filter"
MESSAGE_TIMEOUT = 20    # seconds for one message's journey

# The re-injection path of FILTER_README, with the scan transport.
MASTER = """\
scan unix - - n - 10 smtp
  -o smtp_send_xforward_command=yes
  -o disable_mime_output_conversion=yes
{scan_opts}
127.0.0.1:{reinject} inet n - n - 10 smtpd
  -o content_filter=
  -o receive_override_options=no_unknown_recipient_checks,no_header_body_checks,no_milters
  -o smtpd_helo_restrictions=
  -o smtpd_client_restrictions=
  -o smtpd_sender_restrictions=
  -o smtpd_relay_restrictions=
  -o smtpd_recipient_restrictions=permit_mynetworks,reject
  -o mynetworks=127.0.0.0/8
  -o smtpd_authorized_xforward_hosts=127.0.0.0/8
"""

QUEUED_AS = re.compile(rb"queued as ([0-9A-Za-z]+)\)")
ACTIVE = re.compile(rb": (\S+): from=<[^>]*>, size=\d+, nrcpt=\d+ \(queue active\)")


def chain(log, first):
    """The queue IDs of one message's journey: the first, then each one a
    filter re-injection reported back ("queued as ...")."""
    ids = [first]
    k = 0
    while k < len(ids):
        q = ids[k]
        for ln in log.split(b"\n"):
            if re.search(rb"(?<![0-9A-Za-z])" + re.escape(q) + rb": to=<", ln):
                m = QUEUED_AS.search(ln)
                if m and b"relay=127.0.0.1[127.0.0.1]" in ln and m.group(1) not in ids:
                    ids.append(m.group(1))
        k += 1
    return ids


def journey_done(log, ids):
    """Every queue ID of the journey that reached the active queue was
    removed or deferred, and the last one got that far."""
    for q in ids:
        e = re.escape(q)
        if not re.search(rb"(?<![0-9A-Za-z])" + e + rb": (removed|to=<[^>]*>,.* status=deferred)", log):
            return False
    return True


def submit_smtp(port, msg):
    """One SMTP submission; the queue ID from the reply to the dot, and a
    text of the replies for the comparison."""
    out = []
    qid = None
    try:
        s = smtplib.SMTP("127.0.0.1", port, local_hostname=msg.get("helo", "client.example.org"), timeout=20)
        s.ehlo_or_helo_if_needed()
        code, text = s.mail(msg["sender"])
        out.append(b"MAIL %d %s\n" % (code, text))
        ok = 0
        for r in msg["rcpts"]:
            code, text = s.rcpt(r)
            out.append(b"RCPT %d %s\n" % (code, text))
            ok += code // 100 == 2
        if ok:
            code, text = s.data(msg["data"])
            out.append(b"DATA %d %s\n" % (code, text))
            m = re.search(rb"queued as (\S+)", text)
            if m:
                qid = m.group(1)
        s.quit()
    except (OSError, smtplib.SMTPException) as e:
        out.append(b"smtp error: %s\n" % str(e).encode())
    return qid, b"".join(out)


def run_side(side, cache, config, root):
    """One side: instance up, filter up, messages one at a time, down."""
    pfinstance.make_setgid(side)
    reinject = pfinstance.free_port()
    down_filter = config.get("filter") == "down"
    filt = FilterServer(reinject, refuse=config.get("filter") == "refuse",
                        hangup=config.get("filter") == "hangup")
    filter_port = pfinstance.free_port() if down_filter else filt.port
    ports = {"filter": filter_port, "reinject": reinject}

    def fill(text):
        for k, v in ports.items():
            text = text.replace("{%s}" % k, str(v))
        return text
    # No alias or local recipient tables: local mail goes to the recorder.
    main_cf = "alias_maps =\nalias_database =\nlocal_recipient_maps =\n" + fill(config["main"])
    master = MASTER.format(reinject=reinject,
                           scan_opts=fill("\n".join(f"  -o {o}" for o in config.get("scan_opts", []))))
    cfg = {"main": main_cf, "master": master.replace("\n\n", "\n"),
           "files": {k: fill(v).encode() for k, v in config.get("files", {}).items()}}
    inst = run_pipeline.Instance(root, side, cache, cfg)
    smtpd_port = pfinstance.free_port()
    inst.set_port(smtpd_port)
    # The main smtpd outside a chroot, as the re-injection one: both name
    # their client "localhost".
    path = os.path.join(inst.etc, "master.cf")
    text = open(path).read().replace(f"127.0.0.1:{smtpd_port} inet n - y - - smtpd",
                                     f"127.0.0.1:{smtpd_port} inet n - n - - smtpd")
    pfinstance.write_config(path, text)
    ports["smtpd"] = smtpd_port
    status, out, err = inst.start()
    result = {"start": (status, out, err), "messages": {}, "log": b"", "qids": {}, "chains": {},
              "dir": inst.dir, "ports": ports}
    started = status == 0 and pfinstance.wait_for(
        lambda: os.path.exists(os.path.join(inst.spool, "public", "pickup")), 10)
    if started:
        # The smtpd listeners are master's: up once master is.
        pickup_line = re.compile(rb"postfix/pickup\[\d+\]: (\S+): uid=")
        for index, msg in enumerate(config["messages"]):
            # What every filter connection received up to now: a message may
            # continue a cached connection.
            seen = [len(t) for t in filt.transcripts]
            if msg["via"] == "sendmail":
                before = len(pickup_line.findall(inst.log_text()))
                st, so, se = inst.run("sendmail", msg["args"], msg["data"])
                entry = {"submit": b"sendmail exit %s\n" % str(st).encode() + so + se}
                qid = None
                if st == 0 and pfinstance.wait_for(
                        lambda: len(pickup_line.findall(inst.log_text())) > before, 10):
                    qid = pickup_line.findall(inst.log_text())[before]
            else:
                qid, text = submit_smtp(smtpd_port, msg)
                entry = {"submit": text}
            entry["qid"] = qid
            if qid:
                result["qids"][qid] = index

                def done():
                    log = inst.log_text()
                    ids = chain(log, qid)
                    return journey_done(log, ids) and not inst.queue_files("maildrop", "incoming", "active")
                pfinstance.wait_for(done, MESSAGE_TIMEOUT, step=0.05)
                entry["chain"] = chain(inst.log_text(), qid)
            entry["filter"] = []
            for k, t in enumerate(list(filt.transcripts)):
                start = seen[k] if k < len(seen) else 0
                if len(t) > start:
                    entry["filter"].append((k, b"".join(t[start:])))
            result["messages"][index] = entry
    inst.stop()
    filt.close()
    result["log"] = inst.log_text()
    result["recordings"] = []
    for fname in sorted(os.listdir(inst.rec)):
        if fname.endswith(".rec"):
            with open(os.path.join(inst.rec, fname), "rb") as f:
                result["recordings"].append(f.read())
    return result


def normalise(data, result):
    for index, entry in result["messages"].items():
        for k, q in enumerate(entry.get("chain", [])[1:], 1):
            data = re.sub(rb"(?<![0-9A-Za-z])" + re.escape(q) + rb"(?![0-9A-Za-z])", b"{Q%d.%d}" % (index, k), data)
    for name, port in result["ports"].items():
        data = re.sub(rb"(?<![0-9])%d(?![0-9])" % port, b"{%s}" % name.encode(), data)
    # The SMTP client's source port (XFORWARD PORT=, smtpd's port logging).
    data = re.sub(rb"PORT=\d+", b"PORT={cport}", data)
    return run_pipeline.normalise(data, result)


def per_message(result, index):
    entry = result["messages"].get(index)
    if entry is None:
        return b"(not submitted: instance did not start)\n"
    out = [normalise(entry["submit"], result)]
    for k, t in entry["filter"]:
        out.append(b"filter connection %d:\n" % k + normalise(t, result))
    ids = entry.get("chain") or []
    if not ids:
        out.append(b"(no queue id)\n")
        return b"".join(out)
    pattern = re.compile(rb"(?<![0-9A-Za-z])(" + b"|".join(re.escape(q) for q in ids) + rb")(?![0-9A-Za-z])")
    lines = [ln for ln in result["log"].split(b"\n") if pattern.search(ln)]
    out.append(b"log:\n")
    out += sorted(normalise(ln, result) + b"\n" for ln in lines)
    recs = [r for r in result.get("recordings", []) if any(re.search(rb"\bid " + re.escape(q) + rb"\b", r)
                                                           for q in ids)]
    for r in sorted(normalise(r, result) for r in recs):
        out.append(b"delivery:\n" + r + b"\n")
    return b"".join(out)


def other_lines(result):
    known = set()
    for entry in result["messages"].values():
        known |= set(entry.get("chain") or [])
    out = []
    for ln in result["log"].split(b"\n"):
        if not ln or run_pipeline.CLOCK_WARNINGS.search(ln) or run_pipeline.STOP_LINES.search(ln):
            continue
        if any(m.group(1) in known for m in run_pipeline.QUEUE_ID.finditer(ln)):
            continue
        # Connection bookkeeping of smtpd (connect/disconnect lines carry
        # no queue ID) is compared with the rest.
        out.append(normalise(ln, result))
    return sorted(set(out))


def shadow_smtp(side, smtp_program):
    """A daemon directory with copies of side's daemons, smtp (and lmtp)
    replaced by smtp_program (copies: postfix check warns about symbolic
    links that leave the directory)."""
    d = tempfile.mkdtemp(prefix="pf-filter-libexec-")
    os.chmod(d, 0o755)
    for name in os.listdir(side.daemon_dir):
        if name not in ("smtp", "lmtp"):
            shutil.copy2(os.path.join(side.daemon_dir, name), os.path.join(d, name))
    for name in ("smtp", "lmtp"):
        shutil.copy2(os.path.abspath(smtp_program), os.path.join(d, name))
    # Other daemons built beside the smtp program (smtpd, ...) replace
    # side's too.
    extra = os.path.dirname(os.path.abspath(smtp_program))
    for name in os.listdir(extra):
        if name not in ("smtp", "lmtp"):
            shutil.copy2(os.path.join(extra, name), os.path.join(d, name))
    return pfinstance.Side(side.label, side.command_dir, d, side.extra_main, side.env)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--ours", help="our build directory (with bin/ and libexec/)")
    ap.add_argument("--reference", default=pfinstance.DEFAULT_REFERENCE)
    ap.add_argument("--smtp", help="the smtp program to test (default: <ours>/libexec/smtp)")
    ap.add_argument("--config", action="append", help="only these configurations")
    ap.add_argument("--show-diff", action="store_true")
    ap.add_argument("--dump", action="store_true", help="print every case's text of both sides")
    ap.add_argument("--reference-twice", action="store_true")
    ap.add_argument("--retries", type=int, default=1, help="run failing configurations again up to N times")
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args()
    if os.geteuid() != 0:
        print("filter: needs root (master runs as root)", file=sys.stderr)
        return 77
    ref = pfinstance.reference_side(args.reference)
    if args.reference_twice:
        ours = pfinstance.Side("reference2", ref.command_dir, ref.daemon_dir, ref.extra_main, ref.env)
    else:
        ours = pfinstance.ours_side(os.path.abspath(args.ours))
        if args.smtp:
            ours = shadow_smtp(ours, args.smtp)
    configs = [c for c in config_list.CONFIGS if not args.config or c["name"] in args.config]
    known = pfinstance.read_known(AREA)
    total = identical = known_count = failed = 0
    failed_configs = set()

    def compare(case, a, b):
        nonlocal total, identical, known_count, failed
        total += 1
        same = a == b
        if args.dump:
            print(f"=== {case} (reference)\n" + a.decode(errors="replace"))
            print(f"=== {case} (ours)\n" + b.decode(errors="replace"))
        if same and case not in known:
            identical += 1
            return
        if not same and case in known:
            known_count += 1
            return
        failed += 1
        failed_configs.add(case.split("/")[0])
        print(f"FAIL {AREA}/{case}" + (" (stale known difference)" if same else ""))
        if args.show_diff and not same:
            for line in difflib.unified_diff(a.decode(errors="replace").splitlines(),
                                             b.decode(errors="replace").splitlines(),
                                             "reference", "ours", lineterm=""):
                print("    " + line)

    for config in configs:
        root = tempfile.mkdtemp(prefix=f"pf-filter-{config['name']}-")
        os.chmod(root, 0o755)
        r_ref = run_side(ref, args.reference, config, root)
        r_ours = run_side(ours, args.reference, config, root)
        for i, m in enumerate(config["messages"]):
            compare(f"{config['name']}/{i:02d}-{m['name']}", per_message(r_ref, i), per_message(r_ours, i))
        compare(f"{config['name']}/general", b"".join(x + b"\n" for x in other_lines(r_ref)),
                b"".join(x + b"\n" for x in other_lines(r_ours)))
        if args.keep:
            print(f"kept {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)
    if args.smtp and not args.reference_twice:
        shutil.rmtree(ours.daemon_dir, ignore_errors=True)
    print(f"{AREA}: {total} cases, {identical} identical, {known_count} known differences")
    print(f"{total - failed} passed, {failed} failed")
    # Failing configurations run again (lib/retry.py): identical then, FLAKY.
    options = ["--reference", args.reference, "--show-diff"]
    options += ["--reference-twice"] if args.reference_twice else ["--ours", args.ours]
    options += ["--smtp", args.smtp] if args.smtp else []
    if rerun_script(AREA, options, sorted(failed_configs), "--config", retries=args.retries):
        failed = 0
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
