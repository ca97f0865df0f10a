#!/usr/bin/env python3
"""The postscreen area of the compat-suite: postscreen(8) and dnsblog(8), both sides.

Whole instances of the reference and of ours, as ../smtpd/run_smtpd.py
makes them (same case format, transcripts and normalisation; see
../smtpd/README.md), with port {port} served by postscreen (master.cf
`{port} inet n - n - 1 postscreen`), `smtpd pass` and `dnsblog unix`
services, run inside a private network and mount namespace with the test
DNS server, as ../smtpd-dns/run_smtpd_dns.py does (its `client:` and
`zone:` directives: a case connects from any 127.0.0.x address, and the
DNS lists answer from configs/*/zone and the cases' zone: lines).

With smtpd-tls's `TLS` step (../smtpd-tls/run_smtpd_tls.py is imported:
its test certificates, made once per run, are `{certs}` in a
configuration, and a tlsmgr service), a case does STARTTLS with
postscreen's built-in engine, which hands the connection to the
`tlsproxy unix ... 0 tlsproxy` service; tlsproxy's log lines are compared
too.

This area adds one directive:

    PRE: TEXT    send TEXT + CRLF right after connecting, before the
                 greeting is read (a client that talks before its turn)
    PREHANGUP    shut down the client's sending side right after
                 connecting (a client that leaves during the pause)

and compares, per case: the dialogue, and the session's log lines of
postscreen, dnsblog, smtpd and cleanup (from the case's connection until
postscreen's DISCONNECT or smtpd's "disconnect from", then until the log
is quiet), grouped per program (dnsblog's lines sorted: each list is
answered by a process of its own). Also normalised: the times in
PREGREET and HANGUP lines and every "[address]:port" port.

Cases of one configuration run in name order on one instance, so a later
case sees what earlier ones left in postscreen_cache_map (PASS OLD).

    compat-suite/postscreen/run_postscreen.py --ours <build> [--case NAME] [--show-diff]
    compat-suite/postscreen/run_postscreen.py --print-reference --case pass-new

Exit status as run_smtpd.py (77 without root or without unshare/ip).

Trusts: its own configs and cases.
"""

import os
import re
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
COMPAT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(COMPAT, "smtpd"))
sys.path.insert(0, os.path.join(COMPAT, "smtpd-dns"))
sys.path.insert(0, os.path.join(COMPAT, "smtpd-tls"))
sys.path.insert(0, os.path.join(COMPAT, "lib"))

import run_smtpd as rs  # noqa: E402
import run_smtpd_dns as rsd  # noqa: E402  (patches rs: client:, zone:)
import testdns  # noqa: E402
import run_smtpd_tls as rst  # noqa: E402  (after rsd: patches rs: TLS steps, {certs}, tlsmgr)

rs.HERE = HERE
rs.AREA = "postscreen"
rsd.HERE = HERE
NS_ENV = "PF_POSTSCREEN_NAMESPACE"

rs.MASTER_CF = rs.MASTER_CF.replace(
    "{port} inet n - n - - smtpd\n",
    "{port} inet n - n - 1 postscreen\n"
    "smtpd     pass  -       -       n       -       -       smtpd\n"
    "dnsblog   unix  -       -       n       -       0       dnsblog\n"
    "tlsproxy  unix  -       -       n       -       0       tlsproxy\n")

_base_read_case = rsd._original_read_case


def read_case_with_tls(path, own=None):
    """run_smtpd's reader with smtpd-tls's `TLS` step (the handshake after
    postscreen's 220 to STARTTLS) and `GARBAGE: text` (plain bytes in its
    place) besides the callers' own directives."""
    def both(line, steps):
        s = line.strip()
        if s == "TLS" or s.startswith("TLS:") or s.startswith("GARBAGE:"):
            steps.append(("TLS", s))
            return True
        return own(line, steps) if own else False
    return _base_read_case(path, both)


rsd._original_read_case = read_case_with_tls

_dns_read_case = rsd.read_case


def read_case(path):
    """smtpd-dns's case reader plus PRE: (sent before the greeting)."""
    pre = []
    lines = []
    with open(path, encoding="utf-8", errors="surrogateescape") as f:
        for line in f:
            if line.strip() == "PREHANGUP":
                pre.append(None)
            elif line.startswith("PRE:"):
                value = line[4:].rstrip("\n")
                pre.append(rs.decode_escapes(value[1:] if value.startswith(" ") else value) + b"\r\n")
            else:
                lines.append(line)
    tmp = tempfile.NamedTemporaryFile("w", delete=False, suffix=".case", encoding="utf-8", errors="surrogateescape")
    try:
        tmp.write("".join(lines))
        tmp.close()
        case = _dns_read_case(tmp.name)
    finally:
        os.unlink(tmp.name)
    case["steps"] = [("PRE", p) for p in pre] + case["steps"]
    return case


def before_greeting(conv, steps, _port):
    while steps and steps[0][0] == "PRE":
        if steps[0][1] is None:
            conv.out.append("(client shuts down its sending side before the greeting)")
            try:
                conv.sock.shutdown(rs.socket.SHUT_WR)
            except OSError as e:
                conv.out.append(f"!! shutdown {e.__class__.__name__}")
            steps = steps[1:]
            continue
        conv.out.append("C> (before the greeting) " + rs.show(steps[0][1]).rstrip("\n"))
        conv.send(steps[0][1])
        steps = steps[1:]
    return steps


rs.read_case = read_case
rsd.read_case = read_case
rs.BEFORE_GREETING = before_greeting

PROGRAMS = re.compile(rb"postfix/(?:[\w.-]+/)*(?:postscreen|dnsblog|smtpd|tlsproxy)\[")
SESSION_END = re.compile(rb"postfix/(?:[\w.-]+/)*(?:postscreen\[\d+\]: DISCONNECT \[|smtpd\[\d+\]: disconnect from )")
_original_start = rs.Instance.start


def start(self):
    """As run_smtpd's, but a probe that postscreen did not hand to smtpd
    ends with postscreen's lines, not smtpd's."""
    for m in self.maps:
        self.run("postmap", [os.path.join(self.etc, m)])
    status, out, err = self.run("postfix", ["-c", self.etc, "start"])
    if status != 0:
        return f"postfix start: {status} {out!r} {err!r}"

    def listening():
        try:
            with rs.socket.create_connection(("127.0.0.1", self.port), timeout=1) as s:
                s.settimeout(5)
                s.recv(1024)
            return True
        except OSError:
            return False
    if not rs.wait_for(listening, 15, 0.1):
        return "postscreen port never listened"
    rs.wait_for(lambda: SESSION_END.search(self.log_text()) or b"HANGUP after" in self.log_text(), rs.LOG_TIMEOUT)
    rs.wait_quiet(self, 0.3, 3)
    return None


rs.Instance.start = start


class Helper(rs.SideHelper):
    def run_case(self, case, inst, reference_postcat):
        before = inst.log_text()
        offset = len(before)
        ends = len(SESSION_END.findall(before))
        held = []
        dialogue = rs.play(case, inst, held)
        rs.wait_for(lambda: len(SESSION_END.findall(inst.log_text())) > ends, rs.LOG_TIMEOUT)
        rs.wait_quiet(inst, 0.3, 3)
        for h in held:
            h.close()
        log = inst.log_text()[offset:]
        lines = [ln for ln in log.split(b"\n") if PROGRAMS.search(ln) and not rs.HARNESS_NOISE.search(ln)]
        qids = []
        for ln in lines:
            m = re.search(rb"postfix/(?:[\w.-]+/)*smtpd\[\d+\]: (\w+): client=", ln)
            if m and m.group(1) not in qids:
                qids.append(m.group(1))
        queue = rs.queued_files(inst, qids, "\n".join(dialogue), reference_postcat)
        return {"dialogue": dialogue, "smtpd": lines, "qids": qids, "queue": queue}

    def finish(self, text):
        text = re.sub(rb"\b(PREGREET \d+ after|HANGUP after) [\d.]+ from", rb"\1 {t} from", text)
        text = re.sub(rb"(\[[0-9a-fA-F.:]+\]):(?:\d|\{port2?\})+", rb"\1:{p}", text)
        # "[addr]port: discarding EHLO keywords" has no ':' before the port.
        text = re.sub(rb"(\[[0-9a-fA-F.:]+\])\d+(: discarding EHLO keywords)", rb"\1{p}\2", text)
        # dnsblog answers each list in a process of its own: its lines
        # come in any order.
        lines = text.split(b"\n")
        dns = sorted(ln for ln in lines if ln.startswith(b"postfix/dnsblog["))
        if dns:
            first = next(i for i, ln in enumerate(lines) if ln.startswith(b"postfix/dnsblog["))
            rest = [ln for ln in lines if not ln.startswith(b"postfix/dnsblog[")]
            lines = rest[:first] + dns + rest[first:]
        return b"\n".join(lines)


def run_side(side, cfg, cases, root, reference_postcat, helper=None):
    return rs.run_side(side, cfg, cases, root, reference_postcat, helper or Helper())


def inside():
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    tmp = tempfile.mkdtemp(prefix="pf-postscreen-etc-")
    try:
        for fname, text in (("resolv.conf", rsd.RESOLV_CONF), ("hosts", rsd.HOSTS)):
            path = os.path.join(tmp, fname)
            with open(path, "w") as f:
                f.write(text)
            os.chmod(path, 0o644)
            subprocess.run(["mount", "--bind", path, os.path.join("/etc", fname)], check=True)
        try:
            server = testdns.Server(rsd.zone_text()).start()
        except ValueError as e:
            print(f"postscreen: bad zone: {e}", file=sys.stderr)
            return 1
        rst.CERTS = rst.make_certs()
        try:
            return rs.main(side_runner=run_side, jobs=4)
        finally:
            server.stop()
            shutil.rmtree(rst.CERTS, ignore_errors=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main():
    if os.geteuid() != 0:
        print("postscreen: needs root (master runs as root; unshare)", file=sys.stderr)
        return 77
    if os.environ.get(NS_ENV) == "1":
        return inside()
    unshare = shutil.which("unshare")
    if not unshare or not shutil.which("ip"):
        print("postscreen: needs unshare (util-linux) and ip (iproute2)", file=sys.stderr)
        return 77
    probe = subprocess.run([unshare, "-m", "-n", "true"], capture_output=True)
    if probe.returncode != 0:
        print(f"postscreen: unshare -m -n does not work here: {probe.stderr!r}", file=sys.stderr)
        return 77
    env = dict(os.environ, **{NS_ENV: "1"})
    return subprocess.run([unshare, "-m", "-n", "--propagation", "private", sys.executable,
                           os.path.abspath(__file__), *sys.argv[1:]], env=env).returncode


if __name__ == "__main__":
    sys.exit(main())
