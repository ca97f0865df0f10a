#!/usr/bin/env python3
# End-to-end check of the qmgr daemon outside master: trivial-rewrite and
# qmgr run stand-alone (-S) on a private queue directory, a fake delivery
# agent (this script) serves private/fake, queue files are dropped into
# incoming/ and a wakeup is written to public/qmgr. Checks the files' moves
# and the log lines. Every wait has a deadline. Usage:
#   qmgr_e2e.py <build>/libexec
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

DEADLINE = 15.0


def wait_for(what, predicate, timeout=DEADLINE):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError("timed out waiting for " + what)


def record(rtype, data):
    data = data.encode() if isinstance(data, str) else data
    n = len(data)
    out = bytearray(rtype.encode())
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            break
    return bytes(out) + data


def queue_file(sender, rcpts, end=True):
    now = int(time.time())
    env = record("T", "%d 0" % now) + record("c", str(now)) + record("S", sender)
    env += record("A", "rewrite_context=local")
    for r in rcpts:
        env += record("R", r)
    env += record("M", "")
    content = record("N", "Subject: test") + record("N", "") + record("N", "hello")
    tail = record("X", "") + (record("E", "") if end else b"")
    probe = record("C", " ".join(["%15d" % 0] * 6))
    data_offset = len(probe) + len(env)
    size = record("C", " ".join("%15d" % v for v in (len(content), data_offset, len(rcpts), 0, len(content), 0)))
    return size + env + content + tail


def attrs_encode(d):
    out = ""
    for k, v in d.items():
        out += "%s=%s\n" % (k, str(v).replace("\\", "\\\\").replace("\n", "\\n"))
    return (out + "\n").encode()


def attrs_read(sock):
    buf = b""
    while b"\n\n" not in buf and not buf.startswith(b"\n"):
        chunk = sock.recv(65536)
        if not chunk:
            return None
        buf += chunk
    items = []
    for line in buf.split(b"\n\n")[0].decode().split("\n"):
        k, _, v = line.partition("=")
        items.append((k, v.replace("\\n", "\n").replace("\\\\", "\\")))
    return items


class FakeAgent(threading.Thread):
    def __init__(self, path, spool):
        super().__init__(daemon=True)
        self.spool = spool
        self.requests = []
        self.sock = socket.socket(socket.AF_UNIX)
        self.sock.bind(path)
        self.sock.listen(10)

    def run(self):
        while True:
            conn, _ = self.sock.accept()
            with conn:
                conn.sendall(attrs_encode({"protocol": "delivery"}))
                items = attrs_read(conn)
                if items is None:
                    continue
                self.requests.append(items)
                d = dict(items)
                path = os.path.join(self.spool, d["queue_name"], d["queue_id"])
                with open(path, "r+b") as f:
                    for k, v in items:
                        if k == "rcpt_offset":
                            f.seek(int(v))
                            f.write(b"D")
                conn.sendall(attrs_encode({"status": 0}))


def main():
    libexec = os.path.abspath(sys.argv[1])
    top = tempfile.mkdtemp(prefix="qmgr-e2e-")
    etc, spool = os.path.join(top, "etc"), os.path.join(top, "spool")
    os.makedirs(etc)
    for q in ("incoming", "active", "deferred", "corrupt", "hold", "defer", "bounce", "private", "public"):
        os.makedirs(os.path.join(spool, q))
    with open(os.path.join(etc, "main.cf"), "w") as f:
        f.write("queue_directory = %s\nmyhostname = qmgr.example.test\nmydomain = example.test\n"
                "mydestination =\nrelayhost =\ndefault_transport = fake\n"
                "transport_maps = inline:{gone.test=gone}\nminimal_backoff_time = 60s\n" % spool)
    os.utime(os.path.join(etc, "main.cf"), (1577836800, 1577836800))
    env = dict(os.environ, MAIL_CONFIG=etc)
    logs = open(os.path.join(top, "log"), "w+")
    rewrite = subprocess.Popen([os.path.join(libexec, "trivial-rewrite"), "-S", "-s",
                                os.path.join(spool, "private", "rewrite"), "-n", "rewrite", "-t", "unix"],
                               env=env, stderr=logs)
    agent = FakeAgent(os.path.join(spool, "private", "fake"), spool)
    agent.start()

    def put(qid, data, mode=0o700, queue="incoming"):
        path = os.path.join(spool, queue, qid)
        with open(path, "wb") as f:
            f.write(data)
        os.chmod(path, mode)
        return path

    wait_for("rewrite socket", lambda: os.path.exists(os.path.join(spool, "private", "rewrite")))
    put("4A1B2C3D4E", queue_file("sender@example.test", ["a@ok.test", "b@ok.test"]))
    qmgr = subprocess.Popen([os.path.join(libexec, "qmgr"), "-S", "-s", os.path.join(spool, "public", "qmgr"),
                             "-n", "qmgr", "-t", "unix"], env=env, stderr=logs)

    def log():
        logs.flush()
        with open(os.path.join(top, "log")) as f:
            return f.read()

    def kick(byte):
        s = socket.socket(socket.AF_UNIX)
        s.connect(os.path.join(spool, "public", "qmgr"))
        s.sendall(byte)
        s.close()

    try:
        wait_for("qmgr socket", lambda: os.path.exists(os.path.join(spool, "public", "qmgr")))
        wait_for("removal", lambda: "4A1B2C3D4E: removed" in log())
        assert "4A1B2C3D4E: from=<sender@example.test>, size=" in log()
        assert ", nrcpt=2 (queue active)" in log()
        assert not os.path.exists(os.path.join(spool, "active", "4A1B2C3D4E"))
        assert len(agent.requests) == 1, agent.requests
        d = dict(agent.requests[0])
        assert d["nexthop"] == "ok.test", d
        # A transport without an agent (and no retry service).
        put("5B1B2C3D4E", queue_file("sender@example.test", ["x@gone.test"]))
        put("6C1B2C3D4E", queue_file("sender@example.test", ["y@ok.test"], end=False))
        put("7D1B2C3D4E", queue_file("sender@example.test", ["z@ok.test"]), mode=0o600)
        put("8E1B2C3D4E", queue_file("sender@example.test", ["h@ok.test"]), queue="hold")
        kick(b"I")
        wait_for("deferral", lambda: os.path.exists(os.path.join(spool, "deferred", "5", "5B1B2C3D4E")))
        wait_for("corrupt", lambda: os.path.exists(os.path.join(spool, "corrupt", "6C1B2C3D4E")))
        text = log()
        assert "warning: connect to transport private/gone: No such file or directory" in text, text
        assert "5B1B2C3D4E: to=<x@gone.test>, relay=none, delay=" in text, text
        assert "dsn=4.3.0, status=deferred (mail transport unavailable)" in text, text
        assert "warning: 6C1B2C3D4E: message rejected: missing end record" in text, text
        assert 'warning: saving corrupt file "6C1B2C3D4E" from queue "active" to queue "corrupt"' in text, text
        assert os.path.exists(os.path.join(spool, "incoming", "7D1B2C3D4E"))
        assert os.path.exists(os.path.join(spool, "hold", "8E1B2C3D4E"))
        mtime = os.stat(os.path.join(spool, "deferred", "5", "5B1B2C3D4E")).st_mtime
        assert 55 <= mtime - time.time() <= 61, mtime - time.time()
        print("qmgr e2e: ok")
        shutil.rmtree(top, ignore_errors=True)
    finally:
        for p in (qmgr, rewrite):
            p.terminate()
            p.wait(timeout=10)


if __name__ == "__main__":
    main()
