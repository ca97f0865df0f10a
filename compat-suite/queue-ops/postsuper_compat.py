#!/usr/bin/env python3
"""Compat area "postsuper": every postsuper(1) operation applied to two
copies of the same queue, one by the reference 3.7.11 and one by ours; the
two runs must print the same lines (stdout, stderr, exit status), log the
same lines to maillog_file, and leave the same files in the same places
with the same modes, owners and contents.

Each case builds a queue directory from a list of entries (queue files
from queue-fixtures/files, log files, temporary files, FIFOs, symlinks,
stray directories), named after their inode as the reference names them
unless the case gives a name on purpose (for the -s repairs). Because each
copy has its own inodes, inode numbers inside names are normalised to the
label of the entry they belong to; nothing else is normalised except the
pid and time stamp of log lines; stderr and the log are compared as sorted
lines, because directory order differs between copies whose names differ.

Usage: postsuper_compat.py --ours BUILD/bin [--reference CACHE] [--case SUBSTR]
                           [--show-diff] [--list]
Needs root (postsuper is root-only); exits 77 without root or reference.
"""
import argparse
import difflib
import grp
import hashlib
import os
import pwd
import re
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "..", "queue-fixtures", "files")
DEFAULT_REFERENCE = os.path.join(HERE, "..", ".cache", "reference")
SAFE = "0123456789BCDFGHJKLMNPQRSTVWXYZbcdfghjklmnpqrstvwxyz"
OLD = time.mktime((2020, 1, 1, 0, 0, 0, 0, 0, -1))
QUEUES = ["maildrop", "incoming", "active", "deferred", "hold", "corrupt", "defer", "bounce", "trace", "flush",
          "saved"]


def enc(value, base, pad=0):
    out = ""
    while value:
        out = SAFE[value % base] + out
        value //= base
    return out.rjust(pad, "0")


# ---------------------------------------------------------------- cases
# An entry: dict(label, queue, and optionally
#   fixture   queue-fixtures/files name (default deferred-done)
#   mode      file mode (default 0700; logs 0600)
#   kind      file | fifo | symlink | dir | text
#   name      explicit file name ("{id}" is the inode-derived ID)
#   where     "hashed" (default) | "top" | "dir:<subdirs>" placement
#   long      long queue ID
#   age       age in days (mtime); default: 2020-01-01
#   logs      [log queue names] with a log file named after this entry
#   text      content for kind text
# A case: dict(name, main (extra main.cf lines), entries, runs
#   (argument lists after "postsuper -c {config}"; "!raw" prefix = as is),
#   stdin, user, mkdirs (extra directories), rmdirs (queues to remove)).

def msg(label, queue, **kw):
    d = dict(label=label, queue=queue)
    d.update(kw)
    return d


BASIC = [msg("m1", "incoming"), msg("m2", "active"), msg("m3", "deferred", logs=["defer", "bounce", "trace"]),
         msg("m4", "hold"), msg("m5", "maildrop", fixture="maildrop-simple"),
         msg("m6", "deferred", fixture="incoming-simple", logs=["defer"]), msg("m7", "hold", fixture="hold-simple")]

CASES = []


def case(name, runs, entries=None, main=None, **kw):
    c = dict(name=name, runs=runs, entries=BASIC if entries is None else entries, main=main or [])
    c.update(kw)
    CASES.append(c)


# Default: -s -p on a clean queue does nothing.
case("default-clean", [[]])
case("default-verbose-free", [["-p"]])
# -d by ID.
case("d-one-deferred-logs", [["-d", "{id:m3}"]])
for lab in ["m1", "m2", "m4", "m5", "m6"]:
    case(f"d-one-{lab}", [["-d", f"{{id:{lab}}}"]])
case("d-missing", [["-d", "ABCDEF0123"]])
case("d-invalid", [["-d", "../etc/passwd"], ["-d", ""], ["-d", "a-b"]])
case("d-several", [["-d", "{id:m1}", "-d", "{id:m4}", "-d", "NOPE", "-d", "{id:m1}"]])
case("d-in-queue", [["-d", "{id:m4}", "deferred"], ["-d", "{id:m4}", "hold"]])
case("d-stdin", [["-d", "-"]], stdin="{id:m1}\n\n{id:m3}\nbad id\nNOPE\n{id:m7}")
case("d-invalid-queue", [["-d", "{id:m1}", "corrupt"], ["-d", "NOPE", "incoming", "saved"]])
case("d-all", [["-d", "ALL"]])
case("d-all-deferred", [["-d", "ALL", "deferred"]])
case("d-all-defer-logs", [["-d", "ALL", "defer", "trace"]])
case("d-all-odd-files", [["-d", "ALL"]], entries=BASIC + [
    msg("t1", "incoming", mode=0o600, name="12345.6789"), msg("f1", "hold", kind="fifo", name="FIFO1"),
    msg("s1", "deferred", kind="symlink", name="LINK1", where="dir:D"),
    msg("x1", "active", kind="dir", name="subdir"), msg("g1", "hold", name="junk.name")])
case("d-all-twice", [["-d", "ALL", "-d", "ALL"]])
case("d-all-and-one", [["-d", "{id:m1}", "-d", "ALL", "hold"]])
# -h / -H.
case("h-one", [["-h", "{id:m3}"], ["-h", "{id:m5}"], ["-h", "{id:m4}"]])
case("h-all", [["-h", "ALL"]])
case("h-all-deferred", [["-h", "ALL", "deferred"]])
case("h-stdin", [["-h", "-"]], stdin="{id:m1}\n{id:m2}\n")
case("H-one", [["-H", "{id:m4}"], ["-H", "{id:m1}"]])
case("H-all", [["-H", "ALL"]])
case("H-all-hashed-hold", [["-H", "ALL"]], main=["hash_queue_names = deferred, defer, hold"])
case("h-then-H", [["-h", "ALL", "-H", "ALL"]])
case("H-then-h", [["-H", "ALL", "-h", "ALL"]])
# -r.
case("r-one", [["-r", "{id:m3}"], ["-r", "{id:m5}"]])
case("r-all", [["-r", "ALL"]])
case("r-all-hold", [["-r", "ALL", "hold"]])
case("r-stdin", [["-r", "-"]], stdin="{id:m4}\n{id:m6}\n")
# -e / -f.
case("e-one", [["-e", "{id:m3}"], ["-e", "{id:m3}"], ["-e", "{id:m5}"]])
case("e-all", [["-e", "ALL"]])
case("f-one-hold", [["-f", "{id:m4}"], ["-f", "{id:m2}"]])
case("f-all", [["-f", "ALL"]])
case("e-all-hold-only", [["-e", "ALL", "hold"]])
case("e-nonready", [["-e", "ALL"], ["-e", "{id:t1}"]], entries=BASIC + [
    msg("t1", "deferred", mode=0o600), msg("x2", "hold", mode=0o710)])
# -p.
case("p-temp-files", [["-p"]], entries=BASIC + [
    msg("t1", "incoming", mode=0o600, name="12345.6789", age=8), msg("t2", "incoming", mode=0o600,
                                                                     name="22345.6789", age=1),
    msg("t3", "maildrop", mode=0o644, name="old", age=30), msg("l1", "defer", kind="text", name="OLDLOG",
                                                             mode=0o600, age=30, where="dir:O"),
    msg("f1", "hold", kind="fifo", name="FIFO1"), msg("s1", "active", kind="symlink", name="LINK1"),
    msg("x1", "maildrop", kind="dir", name="x")])
# -s structure.
case("s-wrong-hash-dir", [["-s"]], entries=BASIC + [
    msg("w1", "deferred", where="top", logs=["defer"]), msg("w2", "deferred", where="dir:0"),
    msg("w3", "incoming", where="dir:A")])
case("s-depth-2", [["-s"]], main=["hash_queue_depth = 2"])
case("s-depth-2-hold", [["-s"]], main=["hash_queue_depth = 2", "hash_queue_names = deferred, defer, hold, bounce"])
case("s-depth-2-then-1", [["-s"]], main=["hash_queue_depth = 2"], post_main=["hash_queue_depth = 1"])
case("s-unhash", [["-s"]], main=["hash_queue_names = hold"])
case("s-maildrop-hashed", [["-s"]], main=["hash_queue_names = maildrop"])
case("s-misnamed", [["-s"]], entries=BASIC + [
    msg("n1", "deferred", name="ABCDE12345", logs=["defer", "bounce"]), msg("n2", "incoming", name="0000012"),
    msg("n3", "hold", name="FFFFF0x1")])
case("s-misnamed-then-d", [["-s", "-d", "{id:m1}"]], entries=BASIC + [msg("n1", "active", name="ABCDE12345")])
case("s-misnamed-then-d-all", [["-s", "-d", "ALL", "hold"]], entries=BASIC + [msg("n1", "active", name="ABCDE12345")])
# No message-queue name of five characters or fewer: for one (say hold/AB) the
# reference decodes the inode number from beyond the name's end, so its verdict
# ("bogus file name" or a rename to <garbage>#FIX) depends on the previous
# directory entry, i.e. on the filesystem's readdir order; CI saw both.
case("s-bogus-names", [["-s"]], entries=BASIC + [
    msg("b1", "incoming", name="hello.world"), msg("b2", "deferred", name="ABCDEXYZ", where="dir:A"),
    msg("b3", "hold", name="ABCDEFG"), msg("b4", "active", name="ABCDE1_2"),
    msg("b5", "defer", kind="text", name="not.a.log", mode=0o600)])
case("s-fix-leftover", [["-s"]], entries=BASIC + [
    msg("x1", "deferred", name="{id}#FIX", where="top"), msg("x2", "hold", name="ABCDE1#FIX"),
    msg("x3", "defer", kind="text", name="ABCDE1#FIX", mode=0o600), msg("x4", "incoming", name="#FIX")])
case("s-long-ids", [["-s"], ["-S"]], main=["enable_long_queue_ids = yes"], entries=[
    msg("l1", "deferred", long=True, logs=["defer"]), msg("l2", "hold", long=True),
    msg("l3", "incoming", long=True, name="4dQ3Bm6YnbzBBBB"), msg("m1", "active")])
case("s-long-to-short", [["-s"]], entries=[
    msg("l1", "deferred", long=True, logs=["defer"]), msg("l2", "hold", long=True), msg("m1", "active")])
case("S-long-mismatch", [["-S"]], main=["enable_long_queue_ids = yes"], entries=[
    msg("l1", "deferred", long=True, name="4dQ3Bm6Ynbz1xN", logs=["defer"]), msg("l2", "hold", long=True)])
case("s-stray-dirs", [["-s"]], entries=BASIC + [
    msg("d1", "maildrop", kind="dir", name="sub"), msg("d2", "incoming", kind="dir", name="long-dir"),
    msg("d3", "deferred", kind="dir", name="Q"), msg("d4", "hold", name="KEEP", kind="text", where="dir:long2"),
    msg("d5", "active", kind="dir", name="B")])
case("s-named-queues", [["-s", "deferred", "defer"]], entries=BASIC + [msg("w1", "deferred", where="top")])
case("s-hashed-file-blocks", [["-s"]], main=["hash_queue_depth = 1"], entries=BASIC + [
    msg("k1", "deferred", kind="text", name="K", mode=0o700)])
# Order of operations and summaries.
case("mixed-order", [["-h", "{id:m1}", "-r", "{id:m4}", "-d", "{id:m3}", "-e", "{id:m6}", "-H", "{id:m7}"]])
case("all-summaries", [["-d", "NOPE", "-r", "NOPE", "-h", "NOPE", "-H", "NOPE", "-e", "NOPE", "-f", "NOPE", "-s"]])
case("verbose-d", [["-v", "-d", "{id:m3}"]])
case("verbose-d-all", [["-v", "-d", "ALL", "hold"]])
# Errors.
case("usage-bad-option", [["-x"]])
case("usage-relative-c", ["!raw postsuper -c etc -d ALL"])
case("usage-no-arg", [["-d"]])
case("invalid-directory", [["-s", "nosuch"], ["-d", "ALL", "corrupt"], ["-p", "saved"]])
case("missing-queue-dir", [["-d", "ALL", "hold"], ["-s"]], rmdirs=["hold"])
case("missing-queue-directory", [["-d", "ALL"]], main=["queue_directory = /nonexistent/postsuper"])
case("not-root", [["-d", "ALL"], ["-x"]], user="nobody")
case("options-after-queue", [["-d", "ALL", "hold", "-v"]])
# More queue shapes.
case("d-all-trace", [["-d", "ALL", "trace"], ["-p"]])
case("stdin-crlf", [["-h", "-"]], stdin="{id:m1}\r\n{id:m2}\n")
case("stdin-no-newline", [["-H", "-"]], stdin="{id:m4}\n{id:m7}")
case("H-target-exists", [["-H", "{id:m4}"]], entries=BASIC + [msg("c1", "deferred", name="{id}")])
case("s-depth-3", [["-s"]], main=["hash_queue_depth = 3"])
case("long-ids-hold-release", [["-h", "ALL", "-H", "ALL", "-e", "ALL"]], main=["enable_long_queue_ids = yes"],
     entries=[msg("l1", "deferred", long=True, logs=["defer"]), msg("l2", "active", long=True),
              msg("l3", "incoming", long=True)])
case("long-ids-d-one", [["-d", "{id:l1}"], ["-r", "{id:l2}"]], main=["enable_long_queue_ids = yes"],
     entries=[msg("l1", "deferred", long=True, logs=["defer", "trace"]), msg("l2", "hold", long=True)])
case("mail-config-env", [["-d", "{id:m1}"]], env={"MAIL_CONFIG": "{config}"}, no_c=True)
case("mail-verbose-env", [["-d", "{id:m1}"]], env={"MAIL_VERBOSE": "1"})
case("default-with-everything", [[]], entries=BASIC + [
    msg("w1", "deferred", where="top"), msg("n1", "incoming", name="ABCDE12345"),
    msg("t1", "incoming", mode=0o600, name="12345.6789", age=8), msg("f1", "hold", kind="fifo", name="FIFO1"),
    msg("b1", "active", name="bad.name"), msg("d1", "hold", kind="dir", name="X1")])


# The 300-message queue that build_queue.py drives through the reference
# (incoming, active, deferred, hold, maildrop, defer logs): every
# operation on copies of it. Its names do not match the copies' inodes,
# so -s renames every message file.
BIG = dict(entries=[], tar=True)
case("big-default", [[]], **BIG)
case("big-d-all", [["-d", "ALL"]], **BIG)
case("big-d-all-deferred", [["-d", "ALL", "deferred", "defer"]], **BIG)
case("big-d-stdin", [["-d", "-"]], stdin="{ids:deferred}\n{ids:hold}", **BIG)
case("big-h-all", [["-h", "ALL"]], **BIG)
case("big-H-all", [["-H", "ALL"]], **BIG)
case("big-r-all", [["-r", "ALL"]], **BIG)
case("big-r-stdin", [["-r", "-"]], stdin="{ids:active}\n{ids:incoming}", **BIG)
case("big-e-all", [["-e", "ALL"]], **BIG)
case("big-f-all", [["-f", "ALL"]], **BIG)
case("big-f-stdin", [["-f", "-"]], stdin="{ids:hold}\n{ids:deferred}", **BIG)
case("big-s-then-d", [["-s", "-d", "-"]], stdin="{ids:hold}", **BIG)
case("big-S-long", [["-S"]], main=["enable_long_queue_ids = yes"], **BIG)
case("big-depth-2", [["-s"], ["-d", "ALL", "deferred"]], main=["hash_queue_depth = 2"], **BIG)


def queue_tar():
    """The cached 300-message queue (built by build_queue.py when missing)."""
    sys.path.insert(0, HERE)
    import build_queue  # noqa: E402
    return build_queue.ensure()


# ---------------------------------------------------------------- running

class Side:
    def __init__(self, name, program, env):
        self.name = name
        self.program = program
        self.env = env


def make_tree(root, c, reference_cache):
    if os.path.exists(root):
        shutil.rmtree(root)
    for d in ["etc", "q", "log"]:
        os.makedirs(os.path.join(root, d))
    pw = pwd.getpwnam("postfix")
    os.chown(os.path.join(root, "log"), pw.pw_uid, pw.pw_gid)
    main = [f"queue_directory = {root}/q", f"meta_directory = {reference_cache}/etc/postfix",
            f"shlib_directory = {reference_cache}/usr/lib/postfix",
            f"daemon_directory = {reference_cache}/usr/lib/postfix/sbin",
            f"command_directory = {reference_cache}/usr/sbin",
            f"maillog_file = {root}/log/maillog", "maillog_file_prefixes = /tmp", "compatibility_level = 3.6"]
    main += c.get("main", [])
    with open(os.path.join(root, "etc", "main.cf"), "w") as f:
        f.write("\n".join(main) + "\n")
    os.utime(os.path.join(root, "etc", "main.cf"), (OLD, OLD))
    q = os.path.join(root, "q")
    for name in QUEUES:
        if name not in c.get("rmdirs", []):
            os.makedirs(os.path.join(q, name), mode=0o700)
    hashed = {"deferred", "defer"}
    depth = 1
    long_ids = False
    for line in main:
        k, _, v = line.partition("=")
        k, v = k.strip(), v.strip()
        if k == "hash_queue_names":
            hashed = set(re.split(r"[\s,]+", v)) - {""}
        elif k == "hash_queue_depth":
            depth = int(v)
    labels = {}  # inode -> label
    ids = {}     # label -> id
    if c.get("tar"):
        import tarfile
        with tarfile.open(queue_tar()) as tar:
            members = [m for m in tar.getmembers()
                       if m.name.split("/")[0] in QUEUES and (m.isfile() or m.isdir())]
            tar.extractall(q, members=members)
        for dirpath, _dirnames, filenames in os.walk(q):
            for n in filenames:
                p = os.path.join(dirpath, n)
                labels[os.lstat(p).st_ino] = "T:" + os.path.relpath(p, q)
    for index, e in enumerate(c["entries"]):
        usec = (index * 0x3C3B7 + 0x1F3A5) % 0x100000
        seconds = 1700000000 + index
        queue = e["queue"]
        kind = e.get("kind", "file")
        qdir = os.path.join(q, queue)
        os.makedirs(qdir, exist_ok=True)
        tmp = os.path.join(qdir, f"tmp.{index}")
        if kind == "fifo":
            os.mkfifo(tmp, 0o600)
        elif kind == "symlink":
            os.symlink("/etc/passwd", tmp)
        elif kind == "dir":
            os.mkdir(tmp, 0o700)
        else:
            data = e.get("text", "text\n").encode() if kind == "text" else \
                open(os.path.join(FIXTURES, e.get("fixture", "deferred-done")), "rb").read()
            with open(tmp, "wb") as f:
                f.write(data)
        st = os.lstat(tmp)
        labels[st.st_ino] = e["label"]
        if e.get("long"):
            ident = enc(seconds, 52, 6) + enc(usec % 1000000, 52, 4) + "z" + enc(st.st_ino, 51)
        else:
            ident = "%05X%X" % (usec, st.st_ino)
        name = e.get("name", "{id}").replace("{id}", ident)
        ids[e["label"]] = name
        where = e.get("where", "hashed")
        key = ident if not e.get("long") else "%05X" % (usec % 1000000)
        if where == "top":
            sub = ""
        elif where.startswith("dir:"):
            sub = where[4:] + "/"
        else:
            sub = "".join(key[i] + "/" for i in range(depth)) if queue in hashed else ""
        target = os.path.join(qdir, sub + name)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        os.rename(tmp, target)
        if kind in ("file", "text"):
            os.chmod(target, e.get("mode", 0o700))
        if kind != "symlink":
            when = time.time() - e["age"] * 86400 if "age" in e else OLD
            os.utime(target, (when, when))
        for log in e.get("logs", []):
            lsub = "".join(key[i] + "/" for i in range(depth)) if log in hashed else ""
            lpath = os.path.join(q, log, lsub + name)
            os.makedirs(os.path.dirname(lpath), exist_ok=True)
            with open(lpath, "w") as f:
                f.write(f"<{log} log of {e['label']}>\n")
            os.chmod(lpath, 0o600)
            labels[os.lstat(lpath).st_ino] = e["label"] + "." + log
            os.utime(lpath, (OLD, OLD))
    for dirpath, dirnames, filenames in os.walk(q):
        os.lchown(dirpath, pw.pw_uid, pw.pw_gid)
        for n in filenames + dirnames:
            os.lchown(os.path.join(dirpath, n), pw.pw_uid, pw.pw_gid)
    if c.get("post_main"):
        with open(os.path.join(root, "etc", "main.cf"), "a") as f:
            f.write("\n".join(c["post_main"]) + "\n")
        os.utime(os.path.join(root, "etc", "main.cf"), (OLD, OLD))
    return labels, ids


def normaliser(labels, originals=frozenset()):
    """Rewrites the inode part of queue IDs made from a file's inode. The
    names the queue started with are left alone: their inode parts come
    from the machine that built the queue and may equal an inode here."""
    pairs = []
    for ino, label in labels.items():
        pairs.append(("%X" % ino, label))
        pairs.append((enc(ino, 51), label))
    pairs.sort(key=lambda p: -len(p[0]))

    def token(m):
        t = m.group(0)
        if t in originals:
            return t
        for s, label in pairs:
            if len(t) > len(s) and t.endswith(s):
                return t[: -len(s)] + "<ino:" + label + ">"
            if t.endswith(s + "#FIX") and len(t) > len(s) + 4:
                return t[: -len(s) - 4] + "<ino:" + label + ">#FIX"
        return t

    def norm(text):
        return re.sub(r"[0-9A-Za-z_#]+", token, text)
    return norm


def listing(root, norm):
    out = []
    q = os.path.join(root, "q")
    now = time.time()
    for dirpath, dirnames, filenames in os.walk(q):
        dirnames.sort()
        for n in sorted(dirnames + filenames):
            p = os.path.join(dirpath, n)
            st = os.lstat(p)
            rel = os.path.relpath(p, q)
            kind = "d" if os.path.isdir(p) and not os.path.islink(p) else \
                "l" if os.path.islink(p) else "p" if (st.st_mode & 0o170000) == 0o010000 else "f"
            owner = pwd.getpwuid(st.st_uid).pw_name
            line = f"{kind} {st.st_mode & 0o7777:04o} {owner} {norm(rel)}"
            if kind == "f":
                line += " %d %s" % (st.st_size, hashlib.sha1(open(p, "rb").read()).hexdigest()[:8])
                line += " recent" if now - st.st_mtime < 3600 else ""
            out.append(line)
    return sorted(out, key=lambda s: s.split(" ", 3)[3])


def run_case(c, side, reference_cache, keep):
    root = f"/tmp/postsuper-compat-{side.name}"
    labels, ids = make_tree(root, c, reference_cache)
    originals = set()
    if c.get("tar"):  # a queue built elsewhere (build_queue.py), copied in
        for _dirpath, _dirnames, filenames in os.walk(os.path.join(root, "q")):
            originals.update(filenames)
    norm = normaliser(labels, frozenset(originals))
    transcript = []

    def queue_ids(queue):
        names = []
        for _dirpath, _dirnames, filenames in os.walk(os.path.join(root, "q", queue)):
            names += filenames
        return "\n".join(sorted(names))

    def subst(text):
        text = text.replace("{config}", os.path.join(root, "etc"))
        text = re.sub(r"\{ids:(\w+)\}", lambda m: queue_ids(m.group(1)), text)
        return re.sub(r"\{id:(\w+)\}", lambda m: ids[m.group(1)], text)

    for r in c["runs"]:
        if isinstance(r, str) and r.startswith("!raw "):
            argv = subst(r[5:]).split()
        else:
            argv = ["postsuper"] + ([] if c.get("no_c") else ["-c", os.path.join(root, "etc")]) + \
                [subst(a) for a in r]
        stdin = subst(c.get("stdin", "")).encode()
        pre = []
        if c.get("user"):
            pre = ["setpriv", "--reuid", c["user"], "--regid", "nogroup", "--clear-groups"]
        # argv[0] stays "postsuper" on both sides: exec the side's program
        # through the -a option of the shell's exec.
        cmd = pre + ["bash", "-c", 'exec -a postsuper "$@"', "x", side.program] + argv[1:]
        env = dict(side.env, **{k: subst(v) for k, v in c.get("env", {}).items()})
        p = subprocess.run(cmd, input=stdin, capture_output=True, env=env, cwd=root, timeout=60)
        transcript.append("$ " + norm(" ".join(argv).replace(root, "ROOT")))
        transcript.append(f"exit {p.returncode}")
        # stderr and the log as sorted lines (as the compat-suite does):
        # directory order differs between two copies whose names differ.
        for stream, data in (("stdout", p.stdout), ("stderr", p.stderr)):
            lines = [f"{stream}: " + norm(line.replace(root, "ROOT"))
                     for line in data.decode("utf-8", "replace").splitlines()]
            transcript += sorted(lines) if stream == "stderr" else lines
    transcript.append("-- maillog")
    log = os.path.join(root, "log", "maillog")
    if os.path.exists(log):
        lines = []
        for line in open(log, errors="replace").read().splitlines():
            line = re.sub(r"^\w{3} [ \d]\d \d\d:\d\d:\d\d \S+ ", "", line)
            line = re.sub(r"\[\d+\]", "[PID]", line)
            lines.append(norm(line.replace(root, "ROOT")))
        transcript += sorted(lines)
    transcript.append("-- files")
    transcript += listing(root, norm)
    if not keep:
        shutil.rmtree(root, ignore_errors=True)
    return transcript


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ours", required=True)
    ap.add_argument("--reference", default=DEFAULT_REFERENCE)
    ap.add_argument("--case", action="append")
    ap.add_argument("--show-diff", action="store_true")
    ap.add_argument("--print", action="store_true", help="print both transcripts")
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--list", action="store_true")
    args = ap.parse_args()
    selected = [c for c in CASES if not args.case or any(s in c["name"] for s in args.case)]
    if args.list:
        for c in selected:
            print(c["name"])
        return 0
    if os.geteuid() != 0:
        print("postsuper compat: needs root; skipped", file=sys.stderr)
        return 77
    ref = os.path.abspath(args.reference)
    if not os.path.exists(os.path.join(ref, "usr/sbin/postsuper")):
        print("postsuper compat: no reference; skipped", file=sys.stderr)
        return 77
    base_env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C", "LC_ALL": "C", "TZ": "UTC"}
    reference = Side("reference", os.path.join(ref, "usr/sbin/postsuper"),
                     dict(base_env, LD_LIBRARY_PATH=os.path.join(ref, "usr/lib/postfix")))
    ours = Side("ours", os.path.join(os.path.abspath(args.ours), "postsuper"), dict(base_env))
    identical = 0
    failed = []
    for c in selected:
        a = run_case(c, reference, ref, args.keep)
        b = run_case(c, ours, ref, args.keep)
        if args.print:
            print(f"==== {c['name']} (reference)\n" + "\n".join(a))
            print(f"==== {c['name']} (ours)\n" + "\n".join(b))
        if a == b:
            identical += 1
        else:
            failed.append(c["name"])
            print(f"FAIL postsuper/{c['name']}")
            if args.show_diff:
                sys.stdout.writelines(l + "\n" for l in difflib.unified_diff(a, b, "reference", "ours", lineterm=""))
    print(f"postsuper: {len(selected)} cases, {identical} identical, 0 known differences")
    print(f"{identical} passed, {len(failed)} failed")
    return 0 if not failed else 1


if __name__ == "__main__":
    sys.exit(main())
