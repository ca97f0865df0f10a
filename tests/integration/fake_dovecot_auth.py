#!/usr/bin/env python3
"""A small Dovecot auth server (client protocol 1.2) for SASL tests.

Listens on a unix socket and speaks the part of Dovecot's auth protocol an
SMTP server uses: the handshake (VERSION, MECH PLAIN/LOGIN with their
"plaintext" property, SPID, CUID, COOKIE, DONE), AUTH with or without
resp=, CONT, and the answers OK (user=), CONT (base64 challenge) and FAIL
(user=, and for the special user "tempfail" the "temp" flag with a
reason), as Dovecot's auth process answers. Users come from a file of
lines "user password [realm]" (the realm is ignored).

Every line received is appended to --log (when given), so a test can
compare what two SMTP servers sent.

    fake_dovecot_auth.py --socket PATH --users FILE [--log FILE] [--mode 0666]

Trusts: its users file. Client lines are parsed defensively (bad input
gets a FAIL or is ignored, never a crash of the server).
"""

import argparse
import base64
import binascii
import os
import socketserver
import sys
import threading

USERS = {}
LOG_LOCK = threading.Lock()
LOG_PATH = None


def log_line(line):
    if LOG_PATH:
        with LOG_LOCK, open(LOG_PATH, "a") as f:
            f.write(line + "\n")


def b64(data):
    return base64.b64encode(data).decode()


def unb64(text):
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None


class Handler(socketserver.StreamRequestHandler):
    def send(self, line):
        self.wfile.write(line.encode() + b"\n")
        self.wfile.flush()

    def answer(self, rid, user, password):
        if user == "tempfail":
            self.send(f"FAIL\t{rid}\tuser={user}\ttemp\treason=Temporary backend failure")
        elif user in USERS and USERS[user] == password:
            self.send(f"OK\t{rid}\tuser={user}")
        else:
            self.send(f"FAIL\t{rid}\tuser={user}")

    def handle(self):
        self.send("VERSION\t1\t2")
        self.send("MECH\tPLAIN\tplaintext")
        self.send("MECH\tLOGIN\tplaintext")
        self.send(f"SPID\t{os.getpid()}")
        self.send("CUID\t1")
        self.send("COOKIE\t0123456789abcdef0123456789abcdef")
        self.send("DONE")
        pending = {}   # id -> (mechanism, state)
        for raw in self.rfile:
            line = raw.decode("utf-8", "replace").rstrip("\n")
            log_line(line)
            words = line.split("\t")
            if words[0] == "AUTH" and len(words) >= 3:
                rid, mech = words[1], words[2].upper()
                resp = None
                for w in words[3:]:
                    if w.startswith("resp="):
                        resp = w[5:]
                if mech == "PLAIN":
                    if resp is None:
                        pending[rid] = ("PLAIN", None)
                        self.send(f"CONT\t{rid}\t")
                    else:
                        self.plain(rid, resp)
                elif mech == "LOGIN":
                    if resp is None:
                        pending[rid] = ("LOGIN", None)
                        self.send(f"CONT\t{rid}\t{b64(b'Username:')}")
                    else:
                        self.login_user(rid, resp, pending)
                else:
                    self.send(f"FAIL\t{rid}\treason=Unsupported authentication mechanism")
            elif words[0] == "CONT" and len(words) >= 3:
                rid, data = words[1], words[2]
                mech, state = pending.pop(rid, (None, None))
                if mech == "PLAIN":
                    self.plain(rid, data)
                elif mech == "LOGIN" and state is None:
                    self.login_user(rid, data, pending)
                elif mech == "LOGIN":
                    password = unb64(data)
                    if password is None:
                        self.send(f"FAIL\t{rid}\treason=Invalid base64 data in continued response")
                    else:
                        self.answer(rid, state, password.decode("utf-8", "replace"))
                else:
                    self.send(f"FAIL\t{rid}\treason=Unknown request")

    def plain(self, rid, data):
        decoded = unb64(data)
        if decoded is None:
            self.send(f"FAIL\t{rid}\treason=Invalid base64 data in initial response")
            return
        parts = decoded.split(b"\0")
        if len(parts) != 3:
            self.send(f"FAIL\t{rid}\treason=Invalid input")
            return
        self.answer(rid, parts[1].decode("utf-8", "replace"), parts[2].decode("utf-8", "replace"))

    def login_user(self, rid, data, pending):
        user = unb64(data)
        if user is None:
            self.send(f"FAIL\t{rid}\treason=Invalid base64 data in initial response")
            return
        pending[rid] = ("LOGIN", user.decode("utf-8", "replace"))
        self.send(f"CONT\t{rid}\t{b64(b'Password:')}")


class Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True


def main():
    global LOG_PATH
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--socket", required=True)
    ap.add_argument("--users", required=True)
    ap.add_argument("--log")
    ap.add_argument("--mode", default="0666")
    args = ap.parse_args()
    LOG_PATH = args.log
    for line in open(args.users):
        words = line.split()
        if len(words) >= 2 and not line.startswith("#"):
            USERS[words[0]] = words[1]
    if os.path.exists(args.socket):
        os.unlink(args.socket)
    server = Server(args.socket, Handler)
    os.chmod(args.socket, int(args.mode, 8))
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
