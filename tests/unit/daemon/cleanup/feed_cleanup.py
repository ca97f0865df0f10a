#!/usr/bin/env python3
"""Feeds a maildrop-format file to a cleanup socket the way pickup does
(our client protocol, ipc/services.h): reads the greeting, sends the flags,
the envelope records, M, the pickup Received: header, the content, X, the
extracted records and E, then prints the reply.

usage: feed_cleanup.py SOCKET MAILDROP_FILE [FLAGS] [UID] [HOSTNAME]
Used by the cleanup end-to-end check (see run_compare.sh)."""
import os, socket, sys, time, email.utils

def records(data):
    i = 0
    while i < len(data):
        t = chr(data[i]); i += 1
        n = 0; shift = 0
        while True:
            b = data[i]; i += 1
            n |= (b & 0x7f) << shift; shift += 7
            if not b & 0x80: break
        yield t, data[i:i + n]; i += n

def enc(t, d):
    out = bytearray(t.encode())
    n = len(d)
    while True:
        b = n & 0x7f; n >>= 7
        if n: out.append(b | 0x80)
        else:
            out.append(b); break
    return bytes(out) + d

def read_attrs(s, buf):
    while b"\n\n" not in buf and not buf.startswith(b"\n"):
        chunk = s.recv(4096)
        if not chunk: raise SystemExit("connection closed")
        buf += chunk
    head, _, rest = buf.partition(b"\n\n")
    attrs = dict(l.split(b"=", 1) for l in head.split(b"\n") if l)
    return {k.decode(): v.decode() for k, v in attrs.items()}, rest

def mail_date(t):
    lt = time.localtime(t)
    off = lt.tm_gmtoff // 60
    return time.strftime("%a, ", lt) + "%2d" % lt.tm_mday + time.strftime(" %b %Y %H:%M:%S ", lt) + \
        "%s%02d%02d (%s)" % ("-" if off < 0 else "+", abs(off) // 60, abs(off) % 60, time.strftime("%Z", lt))

def main():
    sock, path = sys.argv[1], sys.argv[2]
    flags = int(sys.argv[3]) if len(sys.argv) > 3 else 114  # filter|bcc_ok|map_ok|milter (ipc::CleanupFlags), as pickup
    uid = sys.argv[4] if len(sys.argv) > 4 else "0"
    host = sys.argv[5] if len(sys.argv) > 5 else "host.example.com"
    data = open(path, "rb").read()
    mtime = os.stat(path).st_mtime
    for attempt in range(100):
        try:
            s = socket.socket(socket.AF_UNIX); s.connect(sock); break
        except OSError:
            s.close(); time.sleep(0.05)
    else:
        raise SystemExit("cannot connect to " + sock)
    hello, buf = read_attrs(s, b"")
    qid = hello["queue_id"]
    out = bytearray(b"flags=%d\n\n" % flags)
    for t, d in records(data):
        out += enc(t, d)
        if t == "M":
            out += enc("N", b"Received: by %s (Postfix, from userid %s)" % (host.encode(), uid.encode()))
            out += enc("N", b"\tid %s; %s" % (qid.encode(), mail_date(int(mtime)).encode()))
    s.sendall(bytes(out))
    reply, _ = read_attrs(s, buf)
    print(qid, reply.get("status"), reply.get("reason", ""))

main()
