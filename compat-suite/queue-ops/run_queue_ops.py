#!/usr/bin/env python3
"""The queue-ops area of the compat-suite: the queue commands of both sides
on one and the same queue.

The queue comes from build_queue.py (driven through the reference, cached in
compat-suite/.cache/queue-ops). It is unpacked once into a temporary
directory; every configuration below points queue_directory at that one
copy, so both sides read the very same directories (same readdir order).
No mail system runs: postqueue finds no showq socket and, as root, runs the
showq daemon of its daemon_directory directly, as the reference does.

Cases (each compares exit status, stdout and stderr after normalisation):
  postqueue -p and -j: the reference's postqueue with the reference's showq
    against ours with ours, and across (the reference's postqueue reading
    our showq, ours reading the reference's): the wire protocol both ways;
  mailq and sendmail -bp (which hand over to postqueue -p);
  postcat FILE and postcat -q ID for every queue file;
  qshape (the reference's perl script) over the queue, once with the
    reference's postconf on PATH and once with ours;
  bad input, on a second copy of the queue with damage added: a truncated
    file, garbage records, a file in the wrong hash directory, files that
    are not queue files, a file without sender, one with two senders, one
    not ready (mode 0600): postqueue -p/-j and postcat on each.
Prints "queue-ops: N cases, N identical, N known differences", a FAIL line
per failing case, and exits 0 only when nothing failed. Known differences
are listed in compat-suite/known-differences (same rules as the
suite's: a listed case that now matches fails too).

Trusts: its own inputs. Runs as root (postqueue's fallback needs it):
exit 77 (skipped) otherwise.
"""

import argparse
import concurrent.futures
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
COMPAT = os.path.dirname(HERE)
REPO = os.path.dirname(COMPAT)
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(COMPAT, "lib"))
import build_queue  # noqa: E402
import pfinstance  # noqa: E402

DEFAULT_REFERENCE = os.path.join(COMPAT, ".cache", "reference")
AREA = "queue-ops"
OLD_MTIME = 1577836800
QUEUES = ("maildrop", "incoming", "active", "deferred", "hold")


class Side:
    def __init__(self, label, commands, daemons, meta, shlib, env):
        self.label, self.commands, self.daemons, self.meta, self.shlib, self.env = \
            label, commands, daemons, meta, shlib, env


def sides(cache, ours):
    lib = os.path.join(cache, "usr/lib/postfix")
    ref = Side("reference", os.path.join(cache, "usr/sbin"), os.path.join(lib, "sbin"),
               os.path.join(cache, "etc/postfix"), lib, {"LD_LIBRARY_PATH": lib})
    our = Side("ours", os.path.join(ours, "bin"), os.path.join(ours, "libexec"),
               os.path.join(REPO, "master.cf.d"), ours, {})
    return ref, our


def write_config(root, name, commands_side, daemons_side, spool, extra=()):
    """A config directory: commands of one side, daemons of another."""
    etc = os.path.join(root, name)
    os.makedirs(etc)
    data = os.path.join(root, "data")
    os.makedirs(data, exist_ok=True)
    text = "\n".join([
        "compatibility_level = 3.6",
        f"queue_directory = {spool}",
        f"data_directory = {data}",
        f"command_directory = {commands_side.commands}",
        f"daemon_directory = {daemons_side.daemons}",
        f"meta_directory = {commands_side.meta}",
        f"shlib_directory = {commands_side.shlib}",
        "mail_owner = postfix",
        "setgid_group = postdrop",
        "myhostname = mail.example.com",
        "mydomain = example.com",
        "inet_interfaces = loopback-only",
        "inet_protocols = ipv4",
        "smtputf8_enable = yes",
        "",
    ])
    # A setting of extra replaces the line above that names it.
    for line in extra:
        name = line.split("=")[0].strip()
        text = re.sub(rf"(?m)^{name} = .*$", lambda _m: line, text) if re.search(rf"(?m)^{name} =", text) \
            else text + line + "\n"
    for fname, content in (("main.cf", text), ("master.cf", "")):
        path = os.path.join(etc, fname)
        with open(path, "w") as f:
            f.write(content)
        os.utime(path, (OLD_MTIME, OLD_MTIME))
    return etc


def run(side, etc, argv, cwd, path_first=None):
    env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C", "LC_ALL": "C", "TZ": "UTC",
           "MAIL_CONFIG": etc, **side.env}
    if path_first:
        env["PATH"] = path_first + ":" + env["PATH"]
    program = argv[0]
    exe = program if os.path.isabs(program) else os.path.join(side.commands, program)
    try:
        p = subprocess.run([exe, *argv[1:]], capture_output=True, env=env, cwd=cwd, timeout=120,
                           stdin=subprocess.DEVNULL)
        return p.returncode, p.stdout, p.stderr
    except subprocess.TimeoutExpired:
        return "timeout", b"", b""
    except OSError as e:
        return "not found", b"", str(e).encode()


def normaliser(root, ref, our):
    subs = [(re.escape(ref.daemons.encode()), b"<daemon_directory>"),
            (re.escape(our.daemons.encode()), b"<daemon_directory>"),
            (re.escape(ref.commands.encode()), b"<command_directory>"),
            (re.escape(our.commands.encode()), b"<command_directory>"),
            (re.escape(root.encode()), b"<root>")]

    def norm(result):
        status, out, err = result
        text = b"exit %s\nstdout:\n" % str(status).encode() + out + b"stderr:\n" + err
        for pattern, repl in subs:
            text = re.sub(pattern, repl, text)
        # Each side has config directories of its own.
        return re.sub(rb"<root>/([\w-]*?)etc-(ref|ours)\b", rb"<root>/\1etc-SIDE", text)
    return norm


def queue_files(spool):
    """(queue, relative path, name) of every file in the queues."""
    found = []
    for q in QUEUES:
        for base, dirs, files in os.walk(os.path.join(spool, q)):
            dirs.sort()
            for f in sorted(files):
                found.append((q, os.path.relpath(os.path.join(base, f), spool), f))
    return found


def unpack(tar_path, spool):
    os.makedirs(spool)
    with tarfile.open(tar_path) as tar:
        tar.extractall(spool, numeric_owner=True)
    os.chmod(spool, 0o755)
    for d in ("public", "private", "pid"):
        os.makedirs(os.path.join(spool, d), exist_ok=True)


# Record framing of queue files, for the hand-made bad files.
def record(rtype, data):
    out = bytearray(rtype.encode())
    n = len(data)
    while True:
        b = n & 0x7f
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            break
    return bytes(out) + data


def hashed_path(spool, queue, qid):
    """Where the default hash_queue_names/hash_queue_depth put qid."""
    if queue in ("deferred", "defer"):
        return os.path.join(spool, queue, qid[0], qid)
    return os.path.join(spool, queue, qid)


def write_queue_file(spool, queue, qid, content, mode=0o700):
    path = hashed_path(spool, queue, qid)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(content)
    os.chown(path, pwd_uid("postfix"), -1)
    os.chmod(path, mode)
    return path


def pwd_uid(name):
    import pwd
    return pwd.getpwnam(name).pw_uid


def damage(spool):
    """Adds bad input to a queue copy; returns the files it touched."""
    files = [f for f in queue_files(spool) if f[0] == "deferred"]
    touched = []
    # A truncated file.
    q, rel, qid = files[0]
    path = os.path.join(spool, rel)
    size = os.path.getsize(path)
    with open(path, "r+b") as f:
        f.truncate(size // 2)
    touched.append(("truncated", q, rel, qid))
    # Garbage records in the middle.
    q, rel, qid = files[1]
    path = os.path.join(spool, rel)
    with open(path, "r+b") as f:
        data = bytearray(f.read())
        mid = len(data) // 3
        data[mid:mid + 64] = bytes((i * 37 + 11) % 256 for i in range(64))
        f.seek(0)
        f.write(data)
    touched.append(("garbage", q, rel, qid))
    # A file in the wrong hash directory.
    q, rel, qid = files[2]
    src = os.path.join(spool, rel)
    wrong = "0" if qid[0] != "0" else "1"
    dst = os.path.join(spool, q, wrong, qid)
    os.makedirs(os.path.dirname(dst), exist_ok=True)
    os.rename(src, dst)
    touched.append(("wrong-directory", q, os.path.relpath(dst, spool), qid))
    # A size record that does not parse.
    q, rel, qid = files[3]
    path = os.path.join(spool, rel)
    with open(path, "r+b") as f:
        data = bytearray(f.read())
        if data[:1] == b"C":
            data[2:5] = b"x9z"
        f.seek(0)
        f.write(data)
    touched.append(("bad-size-record", q, rel, qid))
    # Files that are not queue files.
    for name, content in (("notes.txt", b"just some text\n"), ("README", b"hello\n")):
        path = os.path.join(spool, "hold", name)
        with open(path, "wb") as f:
            f.write(content)
        os.chmod(path, 0o700)
        touched.append(("not-a-queue-id", "hold", os.path.relpath(path, spool), name))
    path = write_queue_file(spool, "hold", "ABCDEF12345", b"This is not a queue file at all.\n" * 20)
    touched.append(("not-a-queue-file", "hold", os.path.relpath(path, spool), "ABCDEF12345"))
    # Records without an end, and a file not yet ready.
    head, body = head_and_body()
    cases = {
        "not-ready": ("BADF00D0003", head + record("S", b"s@example.org") + record("R", b"r@example.org") + body
                      + record("E", b"")),
        "no-end": ("BADF00D0004", head + record("S", b"s@example.org") + record("R", b"r@example.org") + body),
    }
    for what, (qid, content) in cases.items():
        path = write_queue_file(spool, "deferred", qid, content, 0o600 if what == "not-ready" else 0o700)
        touched.append((what, "deferred", os.path.relpath(path, spool), qid))
    # A symbolic link and a directory where a queue file should be.
    os.symlink("/etc/passwd", hashed_path(spool, "hold", "CAFE0000001"))
    os.makedirs(hashed_path(spool, "hold", "CAFE0000002"))
    return touched


def head_and_body():
    head = record("C", b"%15d %15d %15d %15d %15d %15d" % (40, 200, 0, 0, 40, 0)) + record("T", b"1700000000 0")
    body = record("M", b"") + record("N", b"Subject: x") + record("N", b"") + record("N", b"body") + record("X", b"")
    return head, body


def add_sender_trouble(spool, what):
    """A file whose recipients come before any sender, or with two senders,
    alone in its queue copy: the reference's showq dies on either (see
    known-differences), which would hide everything after it."""
    head, body = head_and_body()
    if what == "no-sender":
        qid = "BADF00D0001"
        content = head + record("R", b"r1@example.org") + record("R", b"r2@example.org") + body + record("E", b"")
    else:
        qid = "BADF00D0002"
        content = (head + record("S", b"one@example.org") + record("R", b"r1@example.org")
                   + record("S", b"two@example.org") + record("R", b"r2@example.org") + body + record("E", b""))
    path = write_queue_file(spool, "deferred", qid, content)
    return [(what, "deferred", os.path.relpath(path, spool), qid)]


def read_known():
    """{area/case: reason} from compat-suite/known-differences."""
    return {f"{AREA}/{name}": reason for name, reason in pfinstance.read_known(AREA).items()}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--ours", required=True, help="our build directory (bin/ and libexec/)")
    ap.add_argument("--reference", default=DEFAULT_REFERENCE)
    ap.add_argument("--show-diff", action="store_true", help="(differences are always shown)")
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory")
    ap.add_argument("-j", type=int, default=2, help="cases at a time")
    args = ap.parse_args()
    if os.geteuid() != 0:
        print(f"{AREA}: skipped (needs root)")
        return 77
    ours = os.path.abspath(args.ours)
    cache = os.path.abspath(args.reference)
    ref, our = sides(cache, ours)
    tar_path = build_queue.ensure(cache)

    root = tempfile.mkdtemp(prefix="queue-ops-")
    os.chmod(root, 0o755)
    norm = normaliser(root, ref, our)
    cases = []  # (name, thunk_ref, thunk_ours)
    try:
        spool = os.path.join(root, "spool")
        unpack(tar_path, spool)
        etc_ref = write_config(root, "etc-ref", ref, ref, spool)
        etc_our = write_config(root, "etc-ours", our, our, spool)
        etc_ref_oursd = write_config(root, "etc-ref-oursd", ref, our, spool)
        etc_our_refd = write_config(root, "etc-ours-refd", our, ref, spool)

        def pq(side, etc, flag, sp=spool):
            return lambda: run(side, etc, ["postqueue", flag], sp)

        for flag in ("-p", "-j"):
            cases.append((f"postqueue{flag}", pq(ref, etc_ref, flag), pq(our, etc_our, flag)))
            cases.append((f"postqueue{flag}/reference-client-our-showq", pq(ref, etc_ref, flag),
                          pq(ref, etc_ref_oursd, flag)))
            cases.append((f"postqueue{flag}/our-client-reference-showq", pq(ref, etc_ref, flag),
                          pq(our, etc_our_refd, flag)))
        # Other settings that change the listing.
        for label, extra in (("long-ids", ["enable_long_queue_ids = yes"]), ("ascii", ["smtputf8_enable = no"]),
                             ("empty-address", ["empty_address_recipient = <>"])):
            e_ref = write_config(root, f"etc-ref-{label}", ref, ref, spool, extra)
            e_our = write_config(root, f"etc-ours-{label}", our, our, spool, extra)
            for flag in ("-p", "-j"):
                cases.append((f"postqueue{flag}/{label}", pq(ref, e_ref, flag), pq(our, e_our, flag)))
        # mailq and sendmail -bp hand over to the side's postqueue -p.
        for side, etc in ((ref, etc_ref), (our, etc_our)):
            link_dir = os.path.join(root, "mailq-" + side.label)
            os.makedirs(link_dir)
            os.symlink(os.path.join(side.commands, "sendmail"), os.path.join(link_dir, "mailq"))
        cases.append(("sendmail-bp", (lambda: run(ref, etc_ref, ["sendmail", "-bp"], spool)),
                      (lambda: run(our, etc_our, ["sendmail", "-bp"], spool))))
        cases.append(("mailq", (lambda: run(ref, etc_ref, [os.path.join(root, "mailq-reference", "mailq")], spool)),
                      (lambda: run(our, etc_our, [os.path.join(root, "mailq-ours", "mailq")], spool))))
        for q, rel, qid in queue_files(spool):
            cases.append((f"postcat/{rel}", (lambda r=rel: run(ref, etc_ref, ["postcat", r], spool)),
                          (lambda r=rel: run(our, etc_our, ["postcat", r], spool))))
            if q != "maildrop":
                cases.append((f"postcat-q/{q}/{qid}", (lambda i=qid: run(ref, etc_ref, ["postcat", "-q", i], spool)),
                              (lambda i=qid: run(our, etc_our, ["postcat", "-q", i], spool))))
        # qshape measures ages from "now": run it at a fixed time, ten
        # minutes after the newest file of the queue.
        qshape = os.path.join(cache, "usr/sbin/qshape")
        now = 600 + max(os.lstat(os.path.join(spool, rel)).st_mtime for _q, rel, _i in queue_files(spool))
        perl = ["/usr/bin/perl", "-e",
                f"BEGIN {{ *CORE::GLOBAL::time = sub () {{ {int(now)} }}; }} $0 = '{qshape}'; "
                f"do '{qshape}'; die $@ if $@;", "--"]
        for qargs in ([], ["deferred"], ["-s", "deferred"], ["hold"], ["-s", "-p", "hold", "incoming", "active"],
                      ["-b", "4", "-t", "1", "-m", "2", "deferred", "hold"]):
            name = "qshape" + ("/" + "_".join(qargs) if qargs else "")
            cases.append((name,
                          (lambda a=qargs: run(ref, etc_ref, [*perl, *a], spool, path_first=ref.commands)),
                          (lambda a=qargs: run(our, etc_our, [*perl, *a], spool, path_first=our.commands))))

        # Bad input on a second copy.
        bad = os.path.join(root, "bad-spool")
        unpack(tar_path, bad)
        touched = damage(bad)
        bad_ref = write_config(root, "bad-etc-ref", ref, ref, bad)
        bad_our = write_config(root, "bad-etc-ours", our, our, bad)
        for flag in ("-p", "-j"):
            cases.append((f"bad/postqueue{flag}", pq(ref, bad_ref, flag, bad), pq(our, bad_our, flag, bad)))
        # Sender trouble: each alone in a copy of its own.
        solo = []
        for what in ("no-sender", "two-senders"):
            sp = os.path.join(root, what + "-spool")
            unpack(tar_path, sp)
            t = add_sender_trouble(sp, what)
            e_ref = write_config(root, what + "-etc-ref", ref, ref, sp)
            e_our = write_config(root, what + "-etc-ours", our, our, sp)
            for flag in ("-p", "-j"):
                cases.append((f"{what}/postqueue{flag}", pq(ref, e_ref, flag, sp), pq(our, e_our, flag, sp)))
            solo += [(*x, sp, e_ref, e_our) for x in t]
        for item in [(*t, bad, bad_ref, bad_our) for t in touched] + solo:
            what, q, rel, qid, sp, e_ref, e_our = item
            for pc in (["postcat", rel], ["postcat", "-q", qid], ["postcat", "-e", "-q", qid]):
                name = f"bad/{what}/" + "_".join(pc[1:-1] + ["file" if pc[-1] == rel else "id"])
                cases.append((name, (lambda a=pc, e=e_ref, d=sp: run(ref, e, a, d)),
                              (lambda a=pc, e=e_our, d=sp: run(our, e, a, d))))

        known = read_known()

        def compare(case):
            name, r, o = case
            return name, norm(r()), norm(o())

        results = []
        with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.j)) as pool:
            results = list(pool.map(compare, cases))
        # A case that differs is run once more, alone: one identical on the
        # second run (timing on a loaded machine) passes, reported FLAKY.
        by_name = {c[0]: c for c in cases}
        for i, (name, r, o) in enumerate(results):
            if r != o and f"{AREA}/{name}" not in known:
                again = compare(by_name[name])
                if again[1] == again[2]:
                    print(f"FLAKY {AREA}/{name}: identical on retry")
                    results[i] = again
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)
        else:
            print(f"{AREA}: kept {root}")

    identical = known_count = 0
    failed = []
    for name, r, o in results:
        full = f"{AREA}/{name}"
        same = r == o
        if same and full not in known:
            identical += 1
        elif not same and full in known:
            known_count += 1
        else:
            failed.append((full, r, o, same))
    names = {f"{AREA}/{n}" for n, _r, _o in results}
    for k in known:
        if k not in names:
            failed.append((k, b"", b"", None))
    print(f"{AREA}: {len(results)} cases, {identical} identical, {known_count} known differences")
    for full, r, o, same in failed:
        why = "stale known difference" if same else ("listed case does not exist" if same is None else "differs")
        print(f"FAIL {full}: {why}")
        if same is False:
            import difflib
            diff = difflib.unified_diff(r.decode(errors="replace").splitlines(),
                                        o.decode(errors="replace").splitlines(),
                                        "reference", "ours", lineterm="", n=2)
            for i, line in enumerate(diff):
                if i > 40:
                    print("    ...")
                    break
                print("    " + (line if len(line) <= 300 else line[:300] + "..."))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
