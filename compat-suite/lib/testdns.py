"""A small authoritative DNS server for the compat-suite (Python stdlib only).

Harnesses that test DNS-based behaviour (smtpd's client name lookup, the
unknown-domain checks, DNS block lists, MX/NS/A access checks) run both
sides in a private network and mount namespace whose /etc/resolv.conf says
`nameserver 127.0.0.1`, and start this server on 127.0.0.1:53 (UDP and TCP)
with the records a test needs. Every query is answered from that zone only;
nothing is forwarded.

Zone text, one record a line ("#" starts a comment, names are
case-insensitive, a trailing dot is optional):

    client5.example.net    A      127.0.0.5
    client5.example.net    AAAA   ::5
    5.0.0.127.in-addr.arpa PTR    client5.example.net
    example.net            MX     10 mx.example.net
    nullmx.example         MX     0 .
    example.net            NS     ns1.example.net
    2.0.0.127.zen.example  TXT    "listed; see http://zen.example/"
    alias.example.net      CNAME  client5.example.net
    broken.example         SERVFAIL          (every type; or: SERVFAIL MX)
    slow.example           TIMEOUT           (no reply at all; or: TIMEOUT A)
    *.wild.example         A      127.0.0.9  (a wildcard: any name below)

Answers: the records of the name and type (after following CNAMEs, at
most 8); NODATA (NOERROR, no answer) when the name owns other records or
has names below it; NXDOMAIN otherwise. Replies over UDP larger than 512
bytes are truncated (TC) so that the client retries over TCP.

Trust: queries come from the processes under test on loopback and are
parsed defensively (a malformed query gets FORMERR or no reply); the zone
comes from the test's own files.

Usage as a module:

    server = testdns.Server(zone_text)       # binds 127.0.0.1:53
    server.start()                            # serving threads
    ...
    server.stop()

or stand-alone: python3 testdns.py ZONEFILE [--port N] [--address A].
"""

import ipaddress
import socket
import socketserver
import struct
import sys
import threading

TYPES = {"A": 1, "NS": 2, "CNAME": 5, "SOA": 6, "PTR": 12, "MX": 15, "TXT": 16, "AAAA": 28, "ANY": 255}
TYPE_NAMES = {v: k for k, v in TYPES.items()}
RCODE_NOERROR, RCODE_FORMERR, RCODE_SERVFAIL, RCODE_NXDOMAIN, RCODE_NOTIMP = 0, 1, 2, 3, 4
TTL = 60


def canon(name):
    name = name.strip().lower()
    if name.endswith(".") and name != ".":
        name = name[:-1]
    return "" if name == "." else name


def encode_name(name):
    out = b""
    if name:
        for label in name.split("."):
            raw = label.encode("ascii")
            if not 0 < len(raw) < 64:
                raise ValueError(f"bad label in {name!r}")
            out += bytes([len(raw)]) + raw
    return out + b"\0"


def split_quoted(text):
    """TXT values: "quoted strings" (with \\" and \\\\) or bare words."""
    out, i = [], 0
    while i < len(text):
        if text[i].isspace():
            i += 1
            continue
        if text[i] == '"':
            i += 1
            buf = ""
            while i < len(text) and text[i] != '"':
                if text[i] == "\\" and i + 1 < len(text):
                    i += 1
                buf += text[i]
                i += 1
            i += 1
            out.append(buf)
        else:
            j = i
            while j < len(text) and not text[j].isspace():
                j += 1
            out.append(text[i:j])
            i = j
    return out


class Zone:
    """Records by (name, type); special behaviours by name."""

    def __init__(self, text=""):
        self.records = {}       # (name, type) -> [rdata bytes-producer]
        self.names = set()
        self.failures = {}      # name -> {type or None: "SERVFAIL"/"TIMEOUT"}
        self.add_text(text)

    def add_text(self, text):
        for lineno, line in enumerate(text.splitlines(), 1):
            line = line.split("#", 1)[0] if '"' not in line else line
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            try:
                self.add_line(line)
            except (ValueError, IndexError) as e:
                raise ValueError(f"zone line {lineno}: {line!r}: {e}") from None

    def add_line(self, line):
        parts = line.split(None, 2)
        name, kind = canon(parts[0]), parts[1].upper()
        rest = parts[2] if len(parts) > 2 else ""
        if kind in ("SERVFAIL", "TIMEOUT"):
            qtype = TYPES[rest.strip().upper()] if rest.strip() else None
            self.failures.setdefault(name, {})[qtype] = kind
            self.names.add(name)
            return
        if kind not in TYPES or kind in ("SOA", "ANY"):
            raise ValueError(f"unsupported type {kind}")
        if kind == "A":
            rdata = ipaddress.IPv4Address(rest.strip()).packed
        elif kind == "AAAA":
            rdata = ipaddress.IPv6Address(rest.strip()).packed
        elif kind in ("NS", "CNAME", "PTR"):
            rdata = ("name", canon(rest))
        elif kind == "MX":
            pref, target = rest.split()
            rdata = ("mx", int(pref), canon(target))
        elif kind == "TXT":
            strings = split_quoted(rest)
            rdata = b"".join(bytes([len(s.encode())]) + s.encode() for s in strings)
        self.records.setdefault((name, TYPES[kind]), []).append(rdata)
        self.names.add(name)

    def exists(self, name):
        if name in self.names:
            return True
        suffix = "." + name
        return any(n.endswith(suffix) for n in self.names)

    def lookup_name(self, name):
        """The zone name that owns the records of name: itself or a wildcard."""
        if name in self.names:
            return name
        labels = name.split(".")
        for i in range(1, len(labels)):
            wild = "*." + ".".join(labels[i:])
            if wild in self.names:
                return wild
        return None

    def failure(self, name, qtype):
        owner = self.lookup_name(name)
        if owner is None or owner not in self.failures:
            return None
        f = self.failures[owner]
        return f.get(qtype) or f.get(None)

    def resolve(self, name, qtype):
        """(rcode, [(owner, type, rdata)]) or ("TIMEOUT", None)."""
        answers = []
        for _ in range(9):
            fail = self.failure(name, qtype)
            if fail == "TIMEOUT":
                return "TIMEOUT", None
            if fail == "SERVFAIL":
                return RCODE_SERVFAIL, []
            owner = self.lookup_name(name)
            if owner is None:
                if answers:
                    return RCODE_NOERROR, answers
                return (RCODE_NOERROR if self.exists(name) else RCODE_NXDOMAIN), []
            types = [qtype] if qtype != TYPES["ANY"] else sorted({t for (n, t) in self.records if n == owner})
            found = []
            for t in types:
                for rd in self.records.get((owner, t), []):
                    found.append((name, t, rd))
            if found:
                return RCODE_NOERROR, answers + found
            cname = self.records.get((owner, TYPES["CNAME"]))
            if cname and qtype != TYPES["CNAME"]:
                answers.append((name, TYPES["CNAME"], cname[0]))
                name = cname[0][1]
                continue
            return RCODE_NOERROR, answers
        return RCODE_SERVFAIL, []


def encode_rdata(rdata):
    if isinstance(rdata, bytes):
        return rdata
    if rdata[0] == "name":
        return encode_name(rdata[1])
    if rdata[0] == "mx":
        return struct.pack("!H", rdata[1]) + encode_name(rdata[2])
    raise ValueError(rdata)


def parse_query(data):
    """(id, flags, qname, qtype, qclass, question bytes) or None."""
    if len(data) < 12:
        return None
    qid, flags, qd = struct.unpack("!HHH", data[:6])
    if flags & 0x8000 or qd != 1:
        return (qid, flags, None, None, None, b"") if not flags & 0x8000 else None
    off = 12
    labels = []
    while True:
        if off >= len(data):
            return None
        n = data[off]
        if n == 0:
            off += 1
            break
        if n & 0xC0 or off + 1 + n > len(data) or len(labels) > 127:
            return None
        labels.append(data[off + 1:off + 1 + n])
        off += 1 + n
    if off + 4 > len(data):
        return None
    qtype, qclass = struct.unpack("!HH", data[off:off + 4])
    try:
        qname = ".".join(lab.decode("ascii") for lab in labels)
    except UnicodeDecodeError:
        qname = None
    return qid, flags, qname, qtype, qclass, data[12:off + 4]


def make_reply(zone, data, udp, log=None):
    """The reply bytes for one query, or None for no reply."""
    q = parse_query(data)
    if q is None:
        return None
    qid, flags, qname, qtype, qclass, question = q
    rd = flags & 0x0100
    opcode = (flags >> 11) & 0xF

    def header(rcode, an, tc=False):
        f = 0x8000 | 0x0400 | rd | 0x0080 | rcode | (0x0200 if tc else 0)
        return struct.pack("!HHHHHH", qid, f, 1 if question else 0, an, 0, 0)

    if qname is None or opcode != 0:
        return header(RCODE_FORMERR if qname is None else RCODE_NOTIMP, 0) + question
    if qclass != 1:
        return header(RCODE_NOTIMP, 0) + question
    rcode, answers = zone.resolve(canon(qname), qtype)
    if log:
        log(f"{qname} {TYPE_NAMES.get(qtype, qtype)} -> {rcode}")
    if rcode == "TIMEOUT":
        return None
    body = b""
    for owner, t, rdata in answers:
        rd_bytes = encode_rdata(rdata)
        body += encode_name(owner) + struct.pack("!HHIH", t, 1, TTL, len(rd_bytes)) + rd_bytes
    reply = header(rcode, len(answers)) + question + body
    if udp and len(reply) > 512:
        reply = header(rcode, 0, tc=True) + question
    return reply


class Server:
    """The zone served on address:port over UDP and TCP by daemon threads."""

    def __init__(self, zone_text="", address="127.0.0.1", port=53, log=None):
        self.zone = zone_text if isinstance(zone_text, Zone) else Zone(zone_text)
        self.log = log
        zone, log_fn = self.zone, log

        class Udp(socketserver.BaseRequestHandler):
            def handle(self):
                data, sock = self.request
                reply = make_reply(zone, data, True, log_fn)
                if reply is not None:
                    sock.sendto(reply, self.client_address)

        class Tcp(socketserver.BaseRequestHandler):
            def handle(self):
                self.request.settimeout(10)
                try:
                    while True:
                        head = self._read(2)
                        if head is None:
                            return
                        (n,) = struct.unpack("!H", head)
                        data = self._read(n)
                        if data is None:
                            return
                        reply = make_reply(zone, data, False, log_fn)
                        if reply is not None:
                            self.request.sendall(struct.pack("!H", len(reply)) + reply)
                except OSError:
                    return

            def _read(self, n):
                buf = b""
                while len(buf) < n:
                    chunk = self.request.recv(n - len(buf))
                    if not chunk:
                        return None
                    buf += chunk
                return buf

        class UdpServer(socketserver.ThreadingMixIn, socketserver.UDPServer):
            daemon_threads = True
            allow_reuse_address = True

        class TcpServer(socketserver.ThreadingMixIn, socketserver.TCPServer):
            daemon_threads = True
            allow_reuse_address = True

        self.udp = UdpServer((address, port), Udp)
        self.tcp = TcpServer((address, port), Tcp)
        self.threads = []

    def start(self):
        for srv in (self.udp, self.tcp):
            t = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True)
            t.start()
            self.threads.append(t)
        return self

    def stop(self):
        for srv in (self.udp, self.tcp):
            srv.shutdown()
            srv.server_close()


def main():
    import argparse
    ap = argparse.ArgumentParser(description="serve a test zone")
    ap.add_argument("zone")
    ap.add_argument("--address", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=53)
    ap.add_argument("--verbose", action="store_true")
    args = ap.parse_args()
    with open(args.zone) as f:
        text = f.read()
    server = Server(text, args.address, args.port,
                    log=(lambda m: print(m, file=sys.stderr, flush=True)) if args.verbose else None)
    server.start()
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
