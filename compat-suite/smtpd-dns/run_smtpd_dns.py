#!/usr/bin/env python3
"""The smtpd-dns area of the compat-suite: smtpd's DNS-based checks, both servers.

The same harness as compat-suite/smtpd (run_smtpd.py, imported: same case
format, instances and normalisation), with this area's own configs/ and
cases/, run inside a private network and mount namespace (`unshare -m -n`,
entered by re-executing this script) where:

- /etc/resolv.conf says `nameserver 127.0.0.1` (timeout 1 s, 1 attempt)
  and /etc/hosts knows only localhost (bind mounts private to the
  namespace: the machine's files are never touched);
- compat-suite/lib/testdns.py serves, on 127.0.0.1:53 (UDP and TCP), the
  union of every configuration's `zone` file and every case's `zone:`
  lines (one record each, testdns.py's zone format);
- loopback is the namespace's own, so a case's connection can come from
  any 127.0.0.x address: the directive `client: 127.0.0.5` (default
  127.0.0.1) makes the reverse lookup of the client ask the test zone for
  5.0.0.127.in-addr.arpa.

Both sides' instances run in the same namespace against the same server.

    compat-suite/smtpd-dns/run_smtpd_dns.py --ours <build> [--case NAME] [--show-diff]
    compat-suite/smtpd-dns/run_smtpd_dns.py --print-reference --case rbl

Exit status as run_smtpd.py (77 without root or without unshare/ip).

Trusts: its own configs and cases.
"""

import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading

HERE = os.path.dirname(os.path.abspath(__file__))
COMPAT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(COMPAT, "smtpd"))
sys.path.insert(0, os.path.join(COMPAT, "lib"))

import run_smtpd  # noqa: E402
import testdns  # noqa: E402

run_smtpd.HERE = HERE
run_smtpd.AREA = "smtpd-dns"

NS_ENV = "PF_SMTPD_DNS_NAMESPACE"
RESOLV_CONF = "nameserver 127.0.0.1\noptions timeout:1 attempts:1\n"
HOSTS = "127.0.0.1 localhost\n::1 localhost\n"
OWN_DIRECTIVE = re.compile(r"^(client|zone):\s?(.*)$")

_local = threading.local()
_original_read_case = run_smtpd.read_case
_original_play = run_smtpd.play
_original_conversation = run_smtpd.Conversation
EXTRA_ZONE = []


def read_case(path):
    """run_smtpd's case reader, plus this area's `client:` and `zone:`."""
    client = ["127.0.0.1"]

    def own(line, _steps):
        m = OWN_DIRECTIVE.match(line)
        if not m:
            return False
        if m.group(1) == "client":
            client[0] = m.group(2).strip()
        else:
            EXTRA_ZONE.append(m.group(2))
        return True
    case = _original_read_case(path, own)
    case["client"] = client[0]
    return case


class Conversation(_original_conversation):
    """run_smtpd's client connection, from the case's client address."""

    def __init__(self, port):
        source = getattr(_local, "client", "127.0.0.1")
        _original_conversation.__init__(self, port, run_smtpd.socket.create_connection(
            ("127.0.0.1", port), timeout=run_smtpd.REPLY_TIMEOUT, source_address=(source, 0)))


def play(case, inst, held_out=None):
    _local.client = case.get("client", "127.0.0.1")
    try:
        return _original_play(case, inst, held_out)
    finally:
        _local.client = "127.0.0.1"


run_smtpd.read_case = read_case
run_smtpd.Conversation = Conversation
run_smtpd.play = play


def zone_text():
    """Every configuration's zone file, then the cases' zone: lines."""
    parts = []
    configs = os.path.join(HERE, "configs")
    for name in sorted(os.listdir(configs)):
        path = os.path.join(configs, name, "zone")
        if os.path.exists(path):
            with open(path) as f:
                parts.append(f.read())
    # The cases are read by main(); read them here first so their zone
    # lines are known before the server starts.
    for name in sorted(os.listdir(os.path.join(HERE, "cases"))):
        try:
            read_case(os.path.join(HERE, "cases", name))
        except (ValueError, OSError):
            pass   # main() reports the malformed case
    parts.extend(EXTRA_ZONE)
    return "\n".join(parts) + "\n"


def inside():
    """In the namespace: loopback up, private resolv.conf and hosts, the
    DNS server, then run_smtpd's main()."""
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    tmp = tempfile.mkdtemp(prefix="pf-smtpd-dns-etc-")
    try:
        for fname, text in (("resolv.conf", RESOLV_CONF), ("hosts", HOSTS)):
            path = os.path.join(tmp, fname)
            with open(path, "w") as f:
                f.write(text)
            os.chmod(path, 0o644)
            subprocess.run(["mount", "--bind", path, os.path.join("/etc", fname)], check=True)
        try:
            server = testdns.Server(zone_text()).start()
        except ValueError as e:
            print(f"smtpd-dns: bad zone: {e}", file=sys.stderr)
            return 1
        try:
            return run_smtpd.main()
        finally:
            server.stop()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main():
    if os.geteuid() != 0:
        print("smtpd-dns: needs root (master runs as root; unshare)", file=sys.stderr)
        return 77
    if os.environ.get(NS_ENV) == "1":
        return inside()
    unshare = shutil.which("unshare")
    if not unshare or not shutil.which("ip"):
        print("smtpd-dns: needs unshare (util-linux) and ip (iproute2)", file=sys.stderr)
        return 77
    probe = subprocess.run([unshare, "-m", "-n", "true"], capture_output=True)
    if probe.returncode != 0:
        print(f"smtpd-dns: unshare -m -n does not work here: {probe.stderr!r}", file=sys.stderr)
        return 77
    env = dict(os.environ, **{NS_ENV: "1"})
    return subprocess.run([unshare, "-m", "-n", "--propagation", "private", sys.executable,
                           os.path.abspath(__file__), *sys.argv[1:]], env=env).returncode


if __name__ == "__main__":
    sys.exit(main())
