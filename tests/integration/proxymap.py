#!/usr/bin/env python3
"""proxymap(8) and proxy: tables, ours versus the reference, on running systems.

    tests/integration/proxymap.py BUILD_DIR [--reference CACHE] [--show-diff] [--keep] [-k SUBSTRING]

Starts two private instances in a temporary directory, each with its own
master, proxymap/proxywrite services and postlogd (maillog_file): the
reference's (from the compat-suite cache) and ours (BUILD_DIR/bin and
BUILD_DIR/libexec). Each has its own copy of the same tables and the same
main.cf (proxy_read_maps, proxy_write_maps). Then every case below runs on
both, in order, with that side's own postmap/postalias against that side's
running proxymap: found, not found, case folding, every table type,
unapproved tables, malformed names, missing files, deletes through
proxywrite, tables rebuilt or removed while proxymap runs (it restarts),
tables that are not watched (it does not).

A case's result is the exit status, stdout, stderr, and the log lines that
appeared during the case (proxymap's warnings, the clients' fatal errors,
"has changed -- restarting"), with the instance directory and pids
normalised. The log is synchronised with a marker line written by the
side's own postlog after each case (postlogd keeps the order in which
lines arrive), so nothing sleeps to wait. Cases with a "files" step also
show the mode, owner and content of a table proxywrite changed.

Beyond the side-by-side cases, a few checks speak our own request protocol
(dict/dict_proxy.h) to our proxymap directly: a sequence walk through the
proxy must list what the reference's "postmap -s" lists from the file.

Prints "proxymap: N cases, N identical" and the differences; exit 0 only
when all are identical. Exit 77 (ctest: skipped) when not root or without
the reference (compat-suite/fetch-reference.sh).
"""
import argparse
import difflib
import os
import pwd
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "compat-suite", "lib"))
from pfinstance import (DEFAULT_REFERENCE, OLD_MTIME, ours_side, reference_side as _reference_side,  # noqa: E402
                        wait_for, wait_master_gone, write_config)


def reference_side(cache):
    """The reference with its meta files copied into each instance's etc."""
    return _reference_side(cache, meta_directory="{etc}")
CASE_TIMEOUT = 60

MASTER_CF = """\
proxymap  unix  -       -       n       -       -       proxymap
proxywrite unix -       -       n       -       1       proxymap
postlog   unix-dgram n  -       n       -       1       postlogd
"""

# {t}: the side's table directory.
MAIN_CF_TABLES = """\
max_idle = 3600
max_use = 1000
virtual_alias_maps = proxy:hash:{t}/virt
proxy_read_maps = $virtual_alias_maps proxy:hash:{t}/tab proxy:proxy:hash:{t}/tab2
  proxy:btree:{t}/bt proxy:cdb:{t}/cdbt proxy:lmdb:{t}/lm proxy:texthash:{t}/tt
  proxy:regexp:{t}/re proxy:pcre:{t}/pc proxy:cidr:{t}/ci proxy:inline:{{k1=v1, k2=v2}}
  proxy:static:fixed proxy:unionmap:{{hash:{t}/tab, hash:{t}/tab2}}
  unionmap:{{proxy:hash:{t}/u1, hash:{t}/notproxied}} {{proxy:hash:{t}/braced}}
  proxy:hash:{t}/missing proxy:regexp:{t}/missing-re proxy:nosuchtype:{t}/x
  proxy:hash:{t}/wtab proxy:hash:{t}/aliases proxy:hash:{t}/utf
  proxy:hash:{t}/gone proxy:texthash:{t}/tt2
  hash:{t}/plain proxy:hash:/jailtab
proxy_write_maps = proxy:hash:{t}/wtab proxy:btree:{t}/wbt proxy:hash:{t}/aliases
  proxy:hash:{t}/wmissing-dir/x
"""

TABLES = {
    "tab": "foo bar\nFoo2 baz\nuser@example.com hit\nspaced key value\n",
    "tab2": "foo from-tab2\nonly2 two\n",
    "virt": "info@example.com someone@example.net\n",
    "bt": "b1 btree-one\n",
    "cdbt": "c1 cdb-one\n",
    "lm": "l1 lmdb-one\n",
    "tt": "Foo2 baz\nfoo bar\n",
    "tt2": "t2 old\n",
    "re": "/^a(.*)$/ got-a $1\n/^b/ got-b\n",
    "pc": "/^p(\\d+)$/ digits $1\n/^Q/ upper-q\n",
    "ci": "192.168.0.0/16 private\n10.1.2.3 exact\n",
    "u1": "u1key union-one\n",
    "braced": "bkey braced-value\n",
    "wtab": "del1 one\ndel2 two\nkeep kept\n",
    "aliases": "root: admin\npostmaster: root\n",
    "utf": "stra\u00dfe street\n\u00e9t\u00e9 summer\n",
    "gone": "g here\n",
    "plain": "p plain\n",
    "notproxied": "n no\n",
}
BUILD = {"tab": "hash", "tab2": "hash", "virt": "hash", "bt": "btree", "cdbt": "cdb", "lm": "lmdb",
         "u1": "hash", "braced": "hash", "wtab": "hash", "utf": "hash", "gone": "hash", "plain": "hash",
         "notproxied": "hash"}


class Instance:
    """One private system under <root>/<label>."""

    def __init__(self, root, side, cache):
        self.side = side
        self.dir = os.path.join(root, side.label)
        self.etc = os.path.join(self.dir, "etc")
        self.spool = os.path.join(self.dir, "spool")
        self.data = os.path.join(self.dir, "data")
        self.t = os.path.join(self.dir, "t")
        self.log = os.path.join(self.dir, "maillog")
        for d in (self.etc, self.spool, self.data, self.t):
            os.makedirs(d)
        os.chmod(self.dir, 0o755)
        shutil.chown(self.data, "postfix")
        shutil.chown(self.t, "postfix")
        if side.label == "reference":
            # The table plugins by absolute path; the rest of the
            # reference's meta files beside them.
            meta = os.path.join(cache, "etc", "postfix")
            for name in os.listdir(meta):
                src = os.path.join(meta, name)
                (shutil.copytree if os.path.isdir(src) else shutil.copy)(src, os.path.join(self.etc, name))
            lib = os.path.join(cache, "usr/lib/postfix")
            self._write("dynamicmaps.cf", "".join(
                f"{t}\t{lib}/postfix-{t}.so\tdict_{t}_open" + (f"\tmkmap_{t}_open" if t in ("cdb", "lmdb") else "") + "\n"
                for t in ("cdb", "lmdb", "pcre")))
        main = [
            "compatibility_level = 3.6",
            f"queue_directory = {self.spool}",
            f"data_directory = {self.data}",
            f"daemon_directory = {side.daemon_dir}",
            f"command_directory = {side.command_dir}",
            *[line.replace("{etc}", self.etc) for line in side.extra_main],
            "mail_owner = postfix",
            "setgid_group = postdrop",
            "inet_interfaces = loopback-only",
            "inet_protocols = ipv4",
            "myhostname = mail.example.com",
            f"maillog_file = {self.log}",
            "maillog_file_prefixes = /tmp",
            MAIN_CF_TABLES.format(t=self.t),
        ]
        self._write("main.cf", "\n".join(main))
        self._write("master.cf", MASTER_CF)
        for name, text in TABLES.items():
            self.write_table(name, text)
        # Inside the jail of a chrooted proxymap: /jailtab.
        with open(os.path.join(self.spool, "jailtab"), "w") as f:
            f.write("j in-the-jail\n")
        self.run("postmap", [f"hash:{self.spool}/jailtab"])

    def _write(self, fname, text):
        write_config(os.path.join(self.etc, fname), text)

    def write_table(self, name, text, build=True, mtime=OLD_MTIME):
        path = os.path.join(self.t, name)
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        os.utime(path, (mtime, mtime))
        kind = BUILD.get(name)
        if build and kind:
            prog = "postalias" if name == "aliases" else "postmap"
            status, out, err = self.run(prog, [f"{kind}:{path}"])
            if status != 0:
                raise RuntimeError(f"{self.side.label}: {prog} {kind}:{path}: {err.decode(errors='replace')}")
            suffix = {"hash": ".db", "btree": ".db", "cdb": ".cdb", "lmdb": ".lmdb"}[kind]
            os.utime(path + suffix, (mtime, mtime))
            shutil.chown(path + suffix, "postfix")
        if name == "aliases":
            status, out, err = self.run("postalias", [f"hash:{path}"])
            os.utime(path + ".db", (mtime, mtime))
            shutil.chown(path + ".db", "postfix")

    def run(self, program, args, stdin=b"", timeout=CASE_TIMEOUT):
        env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8", "TZ": "UTC", "MAIL_CONFIG": self.etc,
               **self.side.env}
        argv = [os.path.join(self.side.command_dir, program), "-c", self.etc, *args]
        try:
            p = subprocess.run(argv, input=stdin, capture_output=True, env=env, timeout=timeout, cwd=self.dir)
            return p.returncode, p.stdout, p.stderr
        except subprocess.TimeoutExpired:
            return "timeout", b"", b""

    def postfix(self, *args):
        env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C", "MAIL_CONFIG": self.etc, **self.side.env}
        p = subprocess.run([os.path.join(self.side.command_dir, "postfix"), "-c", self.etc, *args],
                           capture_output=True, env=env, timeout=60)
        return p.returncode, p.stdout + p.stderr

    def start(self):
        status, text = self.postfix("start")
        ok = status == 0 and wait_for(lambda: all(
            os.path.exists(os.path.join(self.spool, *p)) for p in (("private", "proxymap"), ("private", "proxywrite"),
                                                                   ("public", "postlog"))), 15)
        return ok, text

    def stop(self):
        self.postfix("stop")
        wait_master_gone(self.spool)

    def proxymap_pids(self):
        exe = os.path.realpath(os.path.join(self.side.daemon_dir, "proxymap"))
        pids = []
        for pid in os.listdir("/proc"):
            if pid.isdigit():
                try:
                    if os.readlink(f"/proc/{pid}/exe") == exe:
                        pids.append(int(pid))
                except OSError:
                    pass
        return pids

    def reload(self, master_cf):
        """New master.cf; waits until the old proxymap processes are gone."""
        self._write("master.cf", master_cf)
        self.postfix("reload")
        wait_for(lambda: not self.proxymap_pids(), 20)

    def log_bytes(self):
        try:
            with open(self.log, "rb") as f:
                return f.read()
        except OSError:
            return b""

    def mark(self, text):
        """Writes a marker through postlogd and waits until it is in the log."""
        self.run("postlog", ["-t", "pfmark", text])
        needle = text.encode()
        wait_for(lambda: needle in self.log_bytes(), 20)


def normalise(data, inst):
    data = data.replace(inst.dir.encode(), b"{dir}")
    data = re.sub(rb"(?m)^\w{3} [ \d]\d \d\d:\d\d:\d\d \S+ ", b"", data)
    data = re.sub(rb"\[\d+\]", b"[pid]", data)
    return data


# A case: (name, steps). A step is one of
#   ("run", program, [args], stdin)       a command on the side
#   ("table", name, text, mtime)          rewrite (and rebuild) a table file
#   ("touch", file, mtime)                set a file's time stamp
#   ("remove", file)                      delete a file
#   ("stat", file)                        mode, owner and size of a file
def q(key, table, *extra):
    return ("run", "postmap", [*extra, "-q", key, table], b"")


# Differences that are not proxymap's, with the component that owes the fix.
# A listed case that becomes identical fails ("stale"), so the list only
# shrinks.
_APPLICATION_ERROR = ("dict_proxy client: a 'try again' reply is shown as 'Application error' by the "
                      "reference (errno 0), ours shows strerror(EAGAIN)")
KNOWN = {}
CLIENT_LOG_CASES = {"client-logs-fatal"}


def cases():
    T = "{t}"
    C = []

    def add(name, *steps):
        C.append((name, list(steps)))

    # Found and not found, hash.
    add("hash-found", q("foo", f"proxy:hash:{T}/tab"))
    add("hash-fold", q("FOO", f"proxy:hash:{T}/tab"))
    add("hash-nofold", q("FOO", f"proxy:hash:{T}/tab", "-f"))
    add("hash-notfound", q("nope", f"proxy:hash:{T}/tab"))
    add("hash-address", q("user@example.com", f"proxy:hash:{T}/tab"))
    add("hash-spaced-key", q("spaced", f"proxy:hash:{T}/tab"))
    add("hash-stdin", ("run", "postmap", ["-q", "-", f"proxy:hash:{T}/tab"],
                       b"foo\nnope\nuser@example.com\nFOO2\n"))
    add("hash-two-tables", ("run", "postmap", ["-q", "only2", f"proxy:hash:{T}/tab", f"proxy:hash:{T}/tab2"], b""))
    add("hash-first-wins", ("run", "postmap", ["-q", "foo", f"proxy:hash:{T}/tab2", f"proxy:hash:{T}/tab"], b""))
    add("hash-double-proxy", q("foo", f"proxy:proxy:hash:{T}/tab"))
    add("hash-approved-double", q("only2", f"proxy:hash:{T}/tab2"))
    add("hash-virtual-alias-maps", q("info@example.com", f"proxy:hash:{T}/virt"))
    add("postalias-query", ("run", "postalias", ["-q", "postmaster", f"proxy:hash:{T}/aliases"], b""))
    add("postalias-query-miss", ("run", "postalias", ["-q", "nobody", f"proxy:hash:{T}/aliases"], b""))
    add("utf8-fold", q("STRASSE", f"proxy:hash:{T}/utf"))
    add("utf8-fold-2", q("\u00c9T\u00c9", f"proxy:hash:{T}/utf"))
    add("utf8-bad-key", ("run", "postmap", ["-q", "\udcff", f"proxy:hash:{T}/utf"], b""))
    # Other table types.
    add("btree-found", q("b1", f"proxy:btree:{T}/bt"))
    add("btree-notfound", q("b2", f"proxy:btree:{T}/bt"))
    add("cdb-found", q("c1", f"proxy:cdb:{T}/cdbt"))
    add("lmdb-found", q("l1", f"proxy:lmdb:{T}/lm"))
    add("texthash-found", q("foo", f"proxy:texthash:{T}/tt"))
    add("texthash-folded-lookup", q("Foo2", f"proxy:texthash:{T}/tt"))
    add("texthash-nofold", q("Foo2", f"proxy:texthash:{T}/tt", "-f"))
    add("regexp-match", q("abc", f"proxy:regexp:{T}/re"))
    add("regexp-second", q("bcd", f"proxy:regexp:{T}/re"))
    add("regexp-nomatch", q("zzz", f"proxy:regexp:{T}/re"))
    add("pcre-match", q("p123", f"proxy:pcre:{T}/pc"))
    add("pcre-fold", q("q", f"proxy:pcre:{T}/pc"))
    add("cidr-match", q("192.168.3.4", f"proxy:cidr:{T}/ci"))
    add("cidr-exact", q("10.1.2.3", f"proxy:cidr:{T}/ci"))
    add("cidr-nomatch", q("10.1.2.4", f"proxy:cidr:{T}/ci"))
    add("inline", q("k2", "proxy:inline:{k1=v1, k2=v2}"))
    add("static", q("anything", "proxy:static:fixed"))
    add("unionmap-in-proxy", q("foo", f"proxy:unionmap:{{hash:{T}/tab, hash:{T}/tab2}}"))
    add("approved-in-unionmap", q("u1key", f"proxy:hash:{T}/u1"))
    add("approved-in-braces", q("bkey", f"proxy:hash:{T}/braced"))
    # Refused.
    add("unapproved-not-proxy-element", q("p", f"proxy:hash:{T}/plain"))
    add("unapproved-inside-unionmap", q("n", f"proxy:hash:{T}/notproxied"))
    add("unapproved-other", q("foo", f"proxy:hash:{T}/other"))
    add("unapproved-type", q("foo", "proxy:nosuch:/x"))
    add("unapproved-postalias", ("run", "postalias", ["-q", "root", f"proxy:hash:{T}/other"], b""))
    add("bad-name", q("foo", "proxy:hash"))
    add("write-unapproved", ("run", "postmap", ["-d", "foo", f"proxy:hash:{T}/tab"], b""))
    add("client-logs-fatal", q("foo", f"proxy:hash:{T}/other2"))
    # Missing files and unknown types, approved.
    add("missing-hash", q("foo", f"proxy:hash:{T}/missing"))
    add("missing-hash-again", q("foo", f"proxy:hash:{T}/missing"))
    add("missing-regexp", q("foo", f"proxy:regexp:{T}/missing-re"))
    add("approved-unknown-type", q("foo", f"proxy:nosuchtype:{T}/x"))
    # Client-side refusals (no request reaches the server).
    add("no-sequence", ("run", "postmap", ["-s", f"proxy:hash:{T}/tab"], b""))
    add("no-sequence-postalias", ("run", "postalias", ["-s", f"proxy:hash:{T}/aliases"], b""))
    add("no-create", ("run", "postmap", [f"proxy:hash:{T}/tab"], b""))
    add("no-incremental", ("run", "postmap", ["-i", f"proxy:hash:{T}/wtab"], b"x y\n"))
    # Writes through proxywrite.
    add("delete", ("run", "postmap", ["-d", "del1", f"proxy:hash:{T}/wtab"], b""),
        ("run", "postmap", ["-q", "del1", f"hash:{T}/wtab"], b""),
        ("run", "postmap", ["-q", "keep", f"hash:{T}/wtab"], b""))
    add("delete-missing-key", ("run", "postmap", ["-d", "never", f"proxy:hash:{T}/wtab"], b""))
    add("delete-stdin", ("run", "postmap", ["-d", "-", f"proxy:hash:{T}/wtab"], b"del2\nnever\n"),
        ("run", "postmap", ["-s", f"hash:{T}/wtab"], b""))
    add("delete-postalias", ("run", "postalias", ["-d", "postmaster", f"proxy:hash:{T}/aliases"], b""),
        ("run", "postalias", ["-q", "postmaster", f"hash:{T}/aliases"], b""),
        ("run", "postalias", ["-q", "root", f"hash:{T}/aliases"], b""))
    add("delete-creates-table", ("run", "postmap", ["-d", "k", f"proxy:btree:{T}/wbt"], b""), ("stat", "wbt.db"))
    add("delete-no-directory", ("run", "postmap", ["-d", "k", f"proxy:hash:{T}/wmissing-dir/x"], b""))
    # The reader still has wtab open: its file changed, so it restarts.
    add("reader-sees-delete", q("del1", f"proxy:hash:{T}/wtab"), q("keep", f"proxy:hash:{T}/wtab"))
    # Tables changed while proxymap runs.
    add("changed-before", q("foo", f"proxy:hash:{T}/tab"), q("t2", f"proxy:texthash:{T}/tt2"))
    add("texthash-not-watched", ("table", "tt2", "t2 new\n", OLD_MTIME + 500), q("t2", f"proxy:texthash:{T}/tt2"))
    add("hash-rebuilt", ("table", "tab", "foo rebuilt\n", OLD_MTIME + 1000), q("foo", f"proxy:hash:{T}/tab"),
        q("Foo2", f"proxy:hash:{T}/tab"))
    add("texthash-reread-after-restart", q("t2", f"proxy:texthash:{T}/tt2"))
    add("hash-touched", q("only2", f"proxy:hash:{T}/tab2"), ("touch", "tab2.db", OLD_MTIME + 2000),
        q("only2", f"proxy:hash:{T}/tab2"))
    add("lmdb-touched-not-restart", q("l1", f"proxy:lmdb:{T}/lm"), ("table", "lm", "l1 lmdb-new\n", OLD_MTIME + 3000),
        q("l1", f"proxy:lmdb:{T}/lm"))
    add("hash-removed", q("g", f"proxy:hash:{T}/gone"), ("remove", "gone.db"), q("g", f"proxy:hash:{T}/gone"),
        q("g", f"proxy:hash:{T}/gone"))
    add("hash-recreated", ("table", "gone", "g back\n", OLD_MTIME + 4000), q("g", f"proxy:hash:{T}/gone"))
    # A chrooted proxymap opens tables inside the jail (queue_directory),
    # on demand, after the chroot.
    add("chroot-reload", ("reload", MASTER_CF.replace("-       n       -       -       proxymap",
                                                      "-       y       -       -       proxymap")))
    add("chroot-inside-jail", q("j", "proxy:hash:/jailtab"))
    add("chroot-outside-jail", q("foo", f"proxy:hash:{T}/tab"))
    add("chroot-unapproved", q("foo", "proxy:hash:/other"))
    return C


# The clients' own log lines (a command's fatal error, also on its
# stderr): compared only where a case asks for them (see KNOWN).
CLIENT_LINE = re.compile(rb" postfix/(postmap|postalias)\[\d+\]: ")


def run_case(inst, name, steps, index, keep_client_lines=False):
    out = []
    before = len(inst.log_bytes())
    for step in steps:
        kind = step[0]
        if kind == "run":
            _, program, args, stdin = step
            args = [a.replace("{t}", inst.t) for a in args]
            status, stdout, stderr = inst.run(program, args, stdin)
            out.append(b"$ %s %s\n" % (program.encode(), b" ".join(
                a.encode("utf-8", "surrogateescape") for a in step[2])))
            out.append(b"exit %s\n" % str(status).encode())
            out.append(normalise(stdout, inst))
            out.append(b"stderr:\n" + normalise(stderr, inst))
        elif kind == "table":
            _, tname, text, mtime = step
            inst.write_table(tname, text, True, mtime)
        elif kind == "touch":
            _, fname, mtime = step
            os.utime(os.path.join(inst.t, fname), (mtime, mtime))
        elif kind == "remove":
            os.unlink(os.path.join(inst.t, step[1]))
        elif kind == "reload":
            inst.reload(step[1])
        elif kind == "stat":
            st = os.stat(os.path.join(inst.t, step[1]))
            out.append(b"stat %s: mode %o owner %s\n" % (step[1].encode(), st.st_mode & 0o7777,
                                                         pwd.getpwuid(st.st_uid).pw_name.encode()))
    marker = f"end of case {index} {name}"
    inst.mark(marker)
    log = inst.log_bytes()[before:]
    lines = [normalise(ln, inst) for ln in log.split(b"\n")
             if ln and b"pfmark" not in ln and (keep_client_lines or not CLIENT_LINE.search(ln))]
    out.append(b"log:\n" + b"".join(ln + b"\n" for ln in lines))
    return b"".join(out)


def ours_only_checks(inst, ref_inst):
    """Our request protocol against our proxymap: what the reference cannot
    be asked directly, compared with what the reference shows otherwise."""
    results = []

    def call(service, attrs):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(20)
        s.connect(os.path.join(inst.spool, "private", service))
        replies = []
        for a in attrs:
            msg = "".join(f"{k}={v}\n" for k, v in a) + "\n"
            s.sendall(msg.encode())
            buf = b""
            while not buf.endswith(b"\n\n"):
                chunk = s.recv(65536)
                if not chunk:
                    break
                buf += chunk
            replies.append(dict(line.split("=", 1) for line in buf.decode().split("\n") if "=" in line))
        s.close()
        return replies

    def walk(service, table):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(20)
        s.connect(os.path.join(inst.spool, "private", service))
        fn, pairs = "first", []
        for _ in range(1000):
            s.sendall(f"request=sequence\ntable={table}\nflags=0\nfunction={fn}\n\n".encode())
            buf = b""
            while not buf.endswith(b"\n\n"):
                chunk = s.recv(65536)
                if not chunk:
                    break
                buf += chunk
            r = dict(line.split("=", 1) for line in buf.decode().split("\n") if "=" in line)
            if r.get("status") != "0":
                pairs.append(f"end status={r.get('status')}")
                break
            pairs.append(f"{r['key']}\t{r['value']}")
            fn = "next"
        s.close()
        return pairs

    for table in ("tab2", "bt", "virt"):
        kind = "btree" if table == "bt" else "hash"
        mine = walk("proxymap", f"{kind}:{inst.t}/{table}")
        status, stdout, _ = ref_inst.run("postmap", ["-s", f"{kind}:{ref_inst.t}/{table}"])
        theirs = sorted(stdout.decode().splitlines()) + ["end status=1"]
        got = sorted(mine[:-1]) + mine[-1:]
        results.append((f"sequence-{table}", theirs, got))
    r = call("proxywrite", [[("request", "update"), ("table", f"hash:{inst.t}/wtab"), ("flags", "0"),
                             ("key", "added"), ("value", "new value")],
                            [("request", "lookup"), ("table", f"hash:{inst.t}/wtab"), ("flags", "0"),
                             ("key", "added")],
                            [("request", "update"), ("table", f"hash:{inst.t}/tab"), ("flags", "0"),
                             ("key", "x"), ("value", "y")]])
    results.append(("update-through-proxywrite", ["0", "0 new value", "4"],
                    [r[0].get("status"), f"{r[1].get('status')} {r[1].get('value')}", r[2].get("status")]))
    status, stdout, _ = inst.run("postmap", ["-q", "added", f"hash:{inst.t}/wtab"])
    results.append(("update-on-disk", ["0 new value"], [f"{status} {stdout.decode().strip()}"]))
    r = call("proxymap", [[("request", "update"), ("table", f"hash:{inst.t}/wtab"), ("flags", "0"),
                           ("key", "k"), ("value", "v")],
                          [("request", "bogus")]])
    results.append(("reader-refuses-update", ["4", "3"], [r[0].get("status"), r[1].get("status")]))
    return results


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("build", help="our build directory (with bin/ and libexec/)")
    ap.add_argument("--reference", default=DEFAULT_REFERENCE)
    ap.add_argument("--show-diff", action="store_true")
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("-k", dest="only", help="only cases whose name contains this")
    args = ap.parse_args()
    if os.geteuid() != 0:
        print("proxymap: needs root (master runs as root)", file=sys.stderr)
        return 77
    if not os.path.exists(os.path.join(args.reference, "usr/sbin/postmap")):
        print("proxymap: no reference (compat-suite/fetch-reference.sh)", file=sys.stderr)
        return 77
    build = os.path.abspath(args.build)
    if os.path.basename(build) == "bin":
        build = os.path.dirname(build)
    root = tempfile.mkdtemp(prefix="pf-proxymap-")
    os.chmod(root, 0o755)
    sides = [reference_side(args.reference), ours_side(build)]
    insts = []
    failed = 0
    try:
        for side in sides:
            inst = Instance(root, side, args.reference)
            ok, text = inst.start()
            if not ok:
                print(f"proxymap: {side.label} instance did not start: {text.decode(errors='replace')}")
                print(inst.log_bytes().decode(errors="replace"))
                return 1
            insts.append(inst)
        all_cases = [c for c in cases() if not args.only or args.only in c[0]]
        total = identical = known = 0
        extra_total = extra_ok = 0
        for index, (name, steps) in enumerate(all_cases):
            if name == "chroot-reload" and not args.only:
                # Our protocol checks, while proxymap is not yet chrooted.
                for cname, want, got in ours_only_checks(insts[1], insts[0]):
                    extra_total += 1
                    if want == got:
                        extra_ok += 1
                    else:
                        failed += 1
                        print(f"FAIL proxymap/ours-only/{cname}")
                        if args.show_diff:
                            print(f"    want {want}\n    got  {got}")
            results = [run_case(inst, name, steps, index, name in CLIENT_LOG_CASES) for inst in insts]
            total += 1
            same = results[0] == results[1]
            if same and name not in KNOWN:
                identical += 1
                continue
            if not same and name in KNOWN:
                known += 1
                continue
            failed += 1
            print(f"FAIL proxymap/{name}" + (" (stale known difference)" if same else ""))
            if args.show_diff:
                for line in difflib.unified_diff(results[0].decode(errors="replace").splitlines(),
                                                 results[1].decode(errors="replace").splitlines(),
                                                 "reference", "ours", lineterm=""):
                    print("    " + line)
        print(f"proxymap: {total} cases, {identical} identical, {known} known differences; "
              f"{extra_total} protocol checks on ours, {extra_ok} passed")
    finally:
        for inst in insts:
            inst.stop()
        if args.keep:
            print(f"kept {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
