#!/usr/bin/env python3
"""A scriptable peer for the socketmap and tcp table clients (test use only).

    tables_peer.py --proto socketmap|tcp --listen inet:127.0.0.1:0|unix:PATH
                   --script FILE [--ready FILE]

Serves until killed. Once it listens it writes "ready PORT" (0 for a UNIX
socket) to the --ready file, so a test waits on that file, never on a sleep.

The script file has one rule per line, "KEY<TAB>ACTION [ARG]"; a key with no
rule gets the protocol's "not found" reply (socketmap "NOTFOUND ", tcp
"500 not found"). KEY is the lookup key as the client sent it: for socketmap
the part of the request after the first space, for tcp the %XX-decoded key.
ARG undergoes escape decoding (\\xHH, \\n, \\r, \\t, \\0, \\\\).

Actions:
  reply ARG     socketmap: ARG as one netstring; tcp: ARG and a newline
  raw ARG       ARG exactly, no framing
  echo          socketmap: "OK <the whole request>"; tcp: "200 <the request
                line after 'get '>" (shows what the client sent)
  count         "OK <n>" / "200 <n>": the request's number on its connection
                (1 for a fresh connection: shows connection reuse)
  big N         a found reply with N 'x' characters as the value
  close         closes the connection without answering
  sleep SEC     waits SEC seconds, then closes without answering
  closeafter ARG  "reply ARG", then closes the connection (the next
                request on it meets a server that went away)
  rawclose ARG  ARG exactly, then closes the connection

Trust: none needed; this runs only under the test suite, on loopback.
"""
import argparse
import os
import re
import socket
import socketserver
import sys
import time
import urllib.parse


def decode(text):
    def sub(m):
        s = m.group(0)
        if s[1] == "x":
            return bytes([int(s[2:4], 16)])
        return {"n": b"\n", "r": b"\r", "t": b"\t", "0": b"\0", "\\": b"\\"}[s[1]]
    out = b""
    pos = 0
    for m in re.finditer(r"\\(x[0-9a-fA-F]{2}|[nrt0\\])", text):
        out += text[pos:m.start()].encode("utf-8", "surrogateescape") + sub(m)
        pos = m.end()
    return out + text[pos:].encode("utf-8", "surrogateescape")


def load_script(path):
    rules = {}
    with open(path, "rb") as f:
        for raw in f.read().split(b"\n"):
            if not raw or raw.startswith(b"#"):
                continue
            key, _, action = raw.partition(b"\t")
            word, _, arg = action.decode("utf-8", "surrogateescape").partition(" ")
            rules[decode(key.decode("utf-8", "surrogateescape"))] = (word, arg)
    return rules


def netstring(data):
    return str(len(data)).encode() + b":" + data + b","


class Peer(socketserver.BaseRequestHandler):
    def read_netstring(self, buf):
        while b":" not in buf:
            chunk = self.request.recv(65536)
            if not chunk:
                return None, buf
            buf += chunk
        head, _, rest = buf.partition(b":")
        if not head.isdigit():
            return None, b""
        need = int(head) + 1
        while len(rest) < need:
            chunk = self.request.recv(65536)
            if not chunk:
                return None, b""
            rest += chunk
        return rest[:need - 1], rest[need:]

    def read_line(self, buf):
        while b"\n" not in buf:
            chunk = self.request.recv(65536)
            if not chunk:
                return None, buf
            buf += chunk
        line, _, rest = buf.partition(b"\n")
        return line, rest

    def handle(self):
        proto = self.server.proto
        rules = self.server.rules
        buf = b""
        count = 0
        while True:
            if proto == "socketmap":
                request, buf = self.read_netstring(buf)
                if request is None:
                    return
                key = request.partition(b" ")[2]
            else:
                request, buf = self.read_line(buf)
                if request is None:
                    return
                quoted = request[4:] if request.startswith(b"get ") else request
                key = urllib.parse.unquote_to_bytes(quoted)
            count += 1
            word, arg = rules.get(key, ("", ""))
            close_after = word in ("closeafter", "rawclose")
            if word == "closeafter":
                word = "reply"
            elif word == "rawclose":
                word = "raw"
            if word == "close":
                return
            if word == "sleep":
                time.sleep(float(arg))
                return
            if proto == "socketmap":
                if word == "reply":
                    out = netstring(decode(arg))
                elif word == "raw":
                    out = decode(arg)
                elif word == "echo":
                    out = netstring(b"OK " + request)
                elif word == "count":
                    out = netstring(b"OK %d" % count)
                elif word == "big":
                    out = netstring(b"OK " + b"x" * int(arg))
                else:
                    out = netstring(b"NOTFOUND ")
            else:
                if word == "reply":
                    out = decode(arg) + b"\n"
                elif word == "raw":
                    out = decode(arg)
                elif word == "echo":
                    out = b"200 " + quoted + b"\n"
                elif word == "count":
                    out = b"200 %d\n" % count
                elif word == "big":
                    out = b"200 " + b"x" * int(arg) + b"\n"
                else:
                    out = b"500 not found\n"
            try:
                self.request.sendall(out)
            except OSError:
                return
            if close_after:
                return


class InetServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


class UnixServer(socketserver.ThreadingUnixStreamServer):
    daemon_threads = True


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--proto", choices=("socketmap", "tcp"), required=True)
    ap.add_argument("--listen", required=True)
    ap.add_argument("--script", required=True)
    ap.add_argument("--ready")
    args = ap.parse_args()
    kind, _, where = args.listen.partition(":")
    if kind == "inet":
        host, _, port = where.rpartition(":")
        server = InetServer((host, int(port)), Peer)
        port = server.server_address[1]
    elif kind == "unix":
        if os.path.exists(where):
            os.unlink(where)
        server = UnixServer(where, Peer)
        port = 0
    else:
        sys.exit("--listen: inet:HOST:PORT or unix:PATH")
    server.proto = args.proto
    server.rules = load_script(args.script)
    if args.ready:
        tmp = args.ready + ".tmp"
        with open(tmp, "w") as f:
            f.write(f"ready {port}\n")
        os.rename(tmp, args.ready)
    server.serve_forever()


if __name__ == "__main__":
    main()
