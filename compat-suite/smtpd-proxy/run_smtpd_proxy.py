#!/usr/bin/env python3
"""The smtpd-proxy area of the compat-suite: smtpd_proxy_filter, both sides.

For each configuration under configs/ this starts a private instance of the
reference and one of ours, exactly as ../smtpd/run_smtpd.py does (whose main(),
Instance, play() and normalise() it reuses), plus, per side, a scripted
before-queue filter: a small SMTP server in this process on a free port
({filter} in main.cf/master.cf). By default the filter relays every line
it gets to a re-injection smtpd of the same instance on {port2} (a master.cf
service with `-o syslog_name=postfix/reinject -o smtpd_proxy_filter=`) and
passes its replies back; case directives change what it answers. A case
compares, after normalisation:

1. the client's dialogue (C:/S: lines, as in ../smtpd);
2. what the filter received, line by line ("F> ..."), and what it
   answered on its own ("F< ..."), per filter connection;
3. the log lines of the front smtpd (postfix/smtpd) and the re-injection
   smtpd (postfix/reinject/smtpd), and the cleanup lines and queue files
   (reference postcat) of every message the re-injection smtpd queued.

Case files are those of ../smtpd (README.md there) plus filter directives,
which may appear anywhere and apply to the whole case:

    F: reply WORD TEXT    answer a filter command whose first word is WORD
                          (EHLO, MAIL, RCPT, DATA, XFORWARD, ".", or
                          CONNECT for the greeting) with TEXT (\\r\\n for a
                          multi-line reply) instead of relaying it
    F: hangup WORD        close the filter connection when WORD arrives
    F: silent WORD        never answer WORD (smtpd_proxy_timeout cases)
    F: answer             no re-injection: the filter itself answers
                          220/250/354 and "250 2.0.0 Ok: queued as FQ1"
    F: xforward           (answer mode) announce XFORWARD in the EHLO reply

{deadport} in main.cf is a port where nothing listens (a filter that is down);
the filter also listens on the UNIX socket {instance}/filter.sock.

Waits are on conditions (the front smtpd's disconnect line, the filter's
connections closed, the re-injection smtpd's disconnect lines), each
bounded.

Trusts: its own configs and cases; the filter parses smtpd's bytes only to
split lines.
"""

import os
import re
import socket
import sys
import threading

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "smtpd"))
import run_smtpd as rs  # noqa: E402

AREA = "smtpd-proxy"
rs.HERE = HERE
rs.AREA = AREA
FRONT_END = re.compile(rb"postfix/smtpd\[\d+\]: disconnect from ")
REINJECT_END = re.compile(rb"postfix/reinject/smtpd\[\d+\]: disconnect from ")
WAIT = 10


class Filter:
    """A before-queue filter for one side: relays to the re-injection smtpd
    or answers itself, as the current case's rules say; records what it
    gets."""

    def __init__(self, upstream_port):
        self.upstream_port = upstream_port
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.lock = threading.Lock()
        self.rules = {}
        self.answer = False
        self.xforward = False
        self.record = []
        self.active = 0
        self.relayed = 0   # connections made to the re-injection smtpd
        self.conn_no = 0
        self.stopped = False
        self.usock = None
        threading.Thread(target=self._serve, args=(self.sock,), daemon=True).start()

    def listen_unix(self, path):
        self.usock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.usock.bind(path)
        os.chmod(path, 0o666)
        self.usock.listen(16)
        threading.Thread(target=self._serve, args=(self.usock,), daemon=True).start()

    def reset(self, rules, answer, xforward):
        with self.lock:
            self.rules = dict(rules)
            self.answer = answer
            self.xforward = xforward
            self.record = []
            self.conn_no = 0

    def stop(self):
        self.stopped = True
        for s in (self.sock, self.usock):
            try:
                if s:
                    s.close()
            except OSError:
                pass

    def _serve(self, sock):
        while not self.stopped:
            try:
                conn, _ = sock.accept()
            except OSError:
                return
            with self.lock:
                self.active += 1
                self.conn_no += 1
                n = self.conn_no
            threading.Thread(target=self._session, args=(conn, n), daemon=True).start()

    def _log(self, text):
        with self.lock:
            self.record.append(text)

    def _session(self, conn, n):
        up = None
        try:
            self._converse(conn, n)
        except OSError as e:
            self._log(f"(filter {n}: {e.__class__.__name__})")
        finally:
            try:
                conn.close()
            except OSError:
                pass
            with self.lock:
                self.active -= 1
        return up

    def _converse(self, conn, n):
        conn.settimeout(WAIT)
        rfile = conn.makefile("rb")
        up = uprfile = None
        self._log(f"(filter connection {n})")

        def send(text):
            conn.sendall(text.encode() + b"\r\n")
            for line in text.split("\r\n"):
                self._log("F< " + line)

        def upstream_reply():
            lines = []
            while True:
                line = uprfile.readline()
                if not line:
                    return None
                lines.append(line)
                if len(line) < 4 or line[3:4] != b"-":
                    return b"".join(lines)

        def relay(line):
            up.sendall(line + b"\r\n")
            r = upstream_reply()
            if r is None:
                return False
            conn.sendall(r)
            return True

        rule = self.rules.get("CONNECT")
        if rule and rule[0] == "hangup":
            self._log("(filter hangs up)")
            return
        if not self.answer:
            up = socket.create_connection(("127.0.0.1", self.upstream_port), timeout=WAIT)
            with self.lock:
                self.relayed += 1
            uprfile = up.makefile("rb")
            greeting = upstream_reply()
            if rule:
                send(rule[1])
            elif greeting is not None:
                conn.sendall(greeting)
        else:
            send(rule[1] if rule else "220 filter.example.org ESMTP")
        in_data = False
        try:
            while True:
                raw = rfile.readline(65536)
                if not raw:
                    self._log("(filter sees EOF)")
                    return
                line = raw.rstrip(b"\n").rstrip(b"\r")
                self._log("F> " + rs.show(line))
                if in_data and line != b".":
                    if up:
                        up.sendall(line + b"\r\n")
                    continue
                word = "." if in_data else line.split(b" ", 1)[0].split(b":", 1)[0].decode("ascii", "replace").upper()
                in_data = False
                if word == "QUIT":
                    # smtpd does not wait for this reply: answering would
                    # race with its close.
                    return
                rule = self.rules.get(word)
                if rule and rule[0] == "hangup":
                    self._log("(filter hangs up)")
                    return
                if rule and rule[0] == "silent":
                    # No answer: read until smtpd gives up (its timeout).
                    while rfile.readline(65536):
                        pass
                    self._log("(filter sees EOF)")
                    return
                if rule:
                    send(rule[1])
                    if word == "DATA" and rule[1].startswith("354"):
                        in_data = True
                    continue
                if up:
                    if word == "DATA":
                        up.sendall(line + b"\r\n")
                        r = upstream_reply()
                        if r is None:
                            return
                        conn.sendall(r)
                        in_data = r.startswith(b"354")
                        continue
                    if not relay(line):
                        return
                    continue
                # Answer mode.
                if word == "EHLO":
                    ehlo = ["250-filter.example.org", "250-PIPELINING", "250-8BITMIME"]
                    if self.xforward:
                        ehlo.append("250-XFORWARD NAME ADDR PROTO HELO SOURCE PORT IDENT")
                    send("\r\n".join(ehlo + ["250 DSN"]))
                elif word == "DATA":
                    send("354 End data with <CR><LF>.<CR><LF>")
                    in_data = True
                elif word == ".":
                    send("250 2.0.0 Ok: queued as FQ1")
                elif word == "QUIT":
                    send("221 2.0.0 Bye")
                    return
                else:
                    send("250 2.0.0 Ok")
        finally:
            if up:
                try:
                    up.close()
                except OSError:
                    pass


def read_case(path):
    """The smtpd case format plus F: directives."""
    rules, flags = {}, {"answer": False, "xforward": False}

    def own(line, _steps):
        if not line.startswith("F:"):
            return False
        words = line[2:].strip().split(" ", 2)
        if words[0] == "reply":
            rules[words[1].upper()] = ("reply", rs.decode_escapes(words[2]).decode("utf-8", "surrogateescape"))
        elif words[0] in ("hangup", "silent"):
            rules[words[1].upper()] = (words[0], "")
        elif words[0] in flags:
            flags[words[0]] = True
        else:
            raise ValueError(f"{path}: unknown filter directive {line.strip()}")
        return True
    case = rs.read_case(path, own)
    case["filter"] = (rules, flags["answer"], flags["xforward"])
    return case


def run_case(case, inst, flt, reference_postcat):
    before = inst.log_text()
    offset = len(before)
    ends = len(FRONT_END.findall(before))
    re_ends = len(REINJECT_END.findall(before))
    relayed = flt.relayed
    flt.reset(*case["filter"])
    dialogue = rs.play(case, inst)
    rs.wait_for(lambda: len(FRONT_END.findall(inst.log_text())) > ends, WAIT)
    rs.wait_for(lambda: flt.active == 0, WAIT)
    want = flt.relayed - relayed
    rs.wait_for(lambda: len(REINJECT_END.findall(inst.log_text())) >= re_ends + want, WAIT)
    with flt.lock:
        record = list(flt.record)
    log = inst.log_text()[offset:]
    lines = []
    front_done = False
    # The re-injection smtpd's sessions of one case may overlap (a filter
    # connection closes while the next opens): its lines are kept in order
    # per process, and the processes put in an order of their own text.
    reinject = {}
    for ln in log.split(b"\n"):
        if rs.HARNESS_NOISE.search(ln):
            continue
        if re.search(rb"postfix/smtpd\[", ln) and not front_done:
            lines.append(ln)
            if FRONT_END.search(ln):
                front_done = True
        elif re.search(rb"postfix/reinject/smtpd\[", ln):
            pid = re.search(rb"smtpd\[(\d+)\]", ln).group(1)
            reinject.setdefault(pid, []).append(ln)

    def without_pid(group):
        return b"\n".join(rs.QUEUE_ID.sub(b"{qid}", re.sub(rb"^.*?smtpd\[\d+\]: ", b"", ln)) for ln in group)
    for group in sorted(reinject.values(), key=without_pid):
        lines += group
    qids = []
    for ln in lines:
        m = re.search(rb"smtpd\[\d+\]: (\w+): client=", ln)
        if m and m.group(1) not in qids and m.group(1) != b"NOQUEUE":
            qids.append(m.group(1))
    queue = rs.queued_files(inst, qids, "\n".join(dialogue + ["filter:"] + record), reference_postcat)
    return {"dialogue": dialogue + ["filter:"] + record, "smtpd": lines, "qids": qids, "queue": queue}


def normalise_more(data, flt, deadport):
    data = data.replace(str(flt.port).encode(), b"{filter}").replace(str(deadport).encode(), b"{deadport}")
    data = re.sub(rb"PORT=\d+", b"PORT={n}", data)
    return data


class FilterSide(rs.SideHelper):
    """run_smtpd's side with this area's filter in front of {port2}."""

    def attach(self, inst):
        # The filter needs the side's {port2} before the instance starts:
        # the instance is written, then {filter} and {deadport} filled in.
        self.flt = Filter(inst.port2)
        self.flt.listen_unix(os.path.join(inst.dir, "filter.sock"))
        self.deadport = rs.free_port()
        for fname in ("main.cf", "master.cf"):
            path = os.path.join(inst.etc, fname)
            text = open(path).read().replace("{filter}", str(self.flt.port)).replace("{deadport}", str(self.deadport))
            inst._write(fname, text)

    def run_case(self, case, inst, reference_postcat):
        return run_case(case, inst, self.flt, reference_postcat)

    def finish(self, text):
        return normalise_more(text, self.flt, self.deadport)

    def stop(self):
        self.flt.stop()


def run_side(side, cfg, cases, root, reference_postcat):
    return rs.run_side(side, cfg, cases, root, reference_postcat, FilterSide())


def main():
    """run_smtpd's main() (configurations in parallel, the retry of a
    failing configuration, the verdicts) with this area's cases and sides."""
    return rs.main(case_reader=read_case, side_runner=run_side, jobs=3)


if __name__ == "__main__":
    sys.exit(main())
