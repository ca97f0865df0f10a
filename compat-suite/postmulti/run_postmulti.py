#!/usr/bin/env python3
"""compat area postmulti: our postmulti(1) (and the postfix(1) hand-off to
multi_instance_wrapper) beside the reference's, on the same multi-instance
set-ups.

postmulti insists on the default configuration directory /etc/postfix, so
each case runs in a worker process of its own (this script again, under
unshare -m: a private mount namespace), which, per side, lays an overlay
on /etc whose upper layer holds that run's configuration: /etc/postfix is
the primary instance, new instances made by "postmulti -e create" land in
/etc/postfix-<name> of the same upper layer, so nothing changes outside
the namespace. Queue and data directories live
under the run's temporary folder. Standard error is a pseudo-terminal,
because both implementations print their diagnostics on stderr only when
it is a terminal (otherwise they go to syslog alone).

A case is a file cases/<name>.case, lines:
  main: LINE                 a line for the primary main.cf (replaces the
                             harness's line for the same parameter)
  instance: DIR [name=N] [group=G] [enable=yes|no] [unlisted] [nomaster]
                             a secondary instance made before the run: DIR
                             (under /etc) with main.cf (queue/data under
                             the run folder) and master.cf; listed in the
                             primary's multi_instance_directories unless
                             "unlisted"
  run: ARGV...               a command (shell-like quoting); argv[0] is
                             postmulti, postfix or postconf of the side
                             (repeatable, run in order)
  env: NAME=VALUE            in every command's environment
  nometa: yes                no main.cf.proto/master.cf.proto in meta_directory
{tmp} in a line stands for the run folder.
The transcript (per command: argv, exit status, stdout, stderr; then every
file under the /etc upper layer with its mode, owner and contents, and the
directories below the run folder's spool/ and lib/ with modes and owners)
must be identical on both sides (main.cf files compared as sorted lines:
postconf -e appends parameters in hash-table order) after normalising the run folder and the
side's program directories.

Several workers run at once (-j): most of a case's time is waiting, not
CPU (the reference reads a main.cf that postconf -e has just written only
once it is two seconds old, and a program stopping on a fatal error sleeps
a second). A differing case runs once more (lib/retry.py: FLAKY when then
identical).

Usage: run_postmulti.py --ours BUILD [--reference CACHE] [--case SUBSTR]
       [--show-diff] [--print-reference] [--self-test] [-j N] [--retries N]
Exit 77 (skipped) when not root or when the namespace cannot be made.
Trusts: the case files and the two implementations (run as root in the
private namespace, each command with a 30-second timeout).
"""

import argparse
import concurrent.futures
import difflib
import grp
import json
import os
import pwd
import shlex
import shutil
import stat
import subprocess
import sys
import tempfile
import threading

HERE = os.path.dirname(os.path.abspath(__file__))
SUITE = os.path.dirname(HERE)
REPO = os.path.dirname(SUITE)
MARK = "PF_POSTMULTI_IN_NAMESPACE"
JOBS = 6               # cases at once: they mostly wait (see outside())
WORKER_TIMEOUT = 600   # seconds for one worker (a case runs each command with a 30-second bound)
OLD_MTIME = 1577836800  # 2020-01-01: the reference re-reads a young main.cf
AREA = "postmulti"

sys.path.insert(0, os.path.join(SUITE, "lib"))
from retry import retry_units  # noqa: E402


class CaseError(Exception):
    pass


def parse_case(path):
    case = {"main": [], "instances": [], "runs": [], "nometa": False, "env": {}}
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            key, sep, value = line.partition(":")
            if not sep:
                raise CaseError(f"line {n}: no 'key:'")
            value = value.strip()
            if key == "main":
                case["main"].append(value)
            elif key == "instance":
                words = shlex.split(value)
                if not words or not words[0].startswith("/etc/"):
                    raise CaseError(f"line {n}: instance needs a directory under /etc")
                inst = {"dir": words[0], "listed": True, "master": True, "settings": {}}
                for w in words[1:]:
                    if w == "unlisted":
                        inst["listed"] = False
                    elif w == "nomaster":
                        inst["master"] = False
                    elif "=" in w:
                        k, v = w.split("=", 1)
                        inst["settings"][k] = v
                    else:
                        raise CaseError(f"line {n}: bad instance word {w!r}")
                case["instances"].append(inst)
            elif key == "run":
                argv = shlex.split(value)
                if not argv or argv[0] not in ("postmulti", "postfix", "postconf"):
                    raise CaseError(f"line {n}: run: postmulti, postfix or postconf")
                case["runs"].append(argv)
            elif key == "env":
                name, eq, val = value.partition("=")
                if not eq or not name:
                    raise CaseError(f"line {n}: env: NAME=VALUE")
                case["env"][name] = val
            elif key == "nometa":
                case["nometa"] = value == "yes"
            else:
                raise CaseError(f"line {n}: unknown key {key!r}")
    if not case["runs"]:
        raise CaseError("no run: line")
    return case


class Side:
    def __init__(self, label, command_dir, daemon_dir, shlib_dir, meta_src, env):
        self.label = label
        self.command_dir = command_dir
        self.daemon_dir = daemon_dir
        self.shlib_dir = shlib_dir
        self.meta_src = meta_src
        self.env = env


def write_old(path, text, mode=0o644):
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, mode)
    os.utime(path, (OLD_MTIME, OLD_MTIME))


def run_pty(argv, env, cwd, timeout=30):
    """Runs argv with stderr on a pseudo-terminal; (status, stdout, stderr)."""
    master, slave = os.openpty()
    chunks = []

    def reader():
        while True:
            try:
                data = os.read(master, 4096)
            except OSError:
                break
            if not data:
                break
            chunks.append(data)

    t = threading.Thread(target=reader, daemon=True)
    t.start()
    try:
        p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=slave, env=env,
                             cwd=cwd, start_new_session=True)
    except OSError as e:
        os.close(slave)
        os.close(master)
        return "not found", b"", str(e).encode()
    os.close(slave)
    try:
        out, _ = p.communicate(timeout=timeout)
        status = p.returncode
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, 9)
        out, _ = p.communicate()
        status = "timeout"
    t.join(5)
    os.close(master)
    err = b"".join(chunks).replace(b"\r\n", b"\n")
    return status, out, err


def describe_tree(root, contents):
    lines = []
    if not os.path.isdir(root):
        return [f"  (no {os.path.basename(root)})"]
    for dirpath, dirnames, filenames in os.walk(root):
        # Our queue-file pool (src/queue/queue_file_pool.h), an addition
        # of ours that the reference does not have.
        if not contents and "recycle" in dirnames:
            dirnames.remove("recycle")
        dirnames.sort()
        for name in sorted(dirnames) + sorted(filenames):
            path = os.path.join(dirpath, name)
            st = os.lstat(path)
            try:
                owner = pwd.getpwuid(st.st_uid).pw_name
            except KeyError:
                owner = str(st.st_uid)
            try:
                group = grp.getgrgid(st.st_gid).gr_name
            except KeyError:
                group = str(st.st_gid)
            rel = os.path.relpath(path, root)
            kind = "d" if stat.S_ISDIR(st.st_mode) else "l" if stat.S_ISLNK(st.st_mode) else "f"
            lines.append(f"  {kind} {stat.S_IMODE(st.st_mode):04o} {owner}:{group} {rel}")
            if kind == "f" and contents:
                with open(path, "rb") as f:
                    data = f.read().decode("utf-8", "backslashreplace")
                body = data.splitlines()
                # postconf -e appends new parameters in hash-table order,
                # different from run to run: main.cf as a sorted set.
                if name == "main.cf":
                    body.sort()
                lines.extend("    | " + l for l in body)
    return lines


def run_side(side, case, work):
    """One side's transcript."""
    if os.path.exists(work):
        subprocess.run(["umount", "/etc"], capture_output=True)
        shutil.rmtree(work)
    upper, wdir = os.path.join(work, "upper"), os.path.join(work, "work")
    for d in (upper, wdir, os.path.join(upper, "postfix"), os.path.join(work, "spool", "postfix"),
              os.path.join(work, "lib")):
        os.makedirs(d)
    meta = os.path.join(work, "meta")
    shutil.copytree(side.meta_src, meta, symlinks=True)
    ref_share = os.path.join(OPTS.reference_cache, "usr", "share", "postfix")
    if not case["nometa"]:
        shutil.copy(os.path.join(ref_share, "main.cf.dist"), os.path.join(meta, "main.cf.proto"))
        shutil.copy(os.path.join(ref_share, "master.cf.dist"), os.path.join(meta, "master.cf.proto"))
    sub = lambda s: s.replace("{tmp}", work).replace("{command_directory}", side.command_dir)
    listed = [i["dir"] for i in case["instances"] if i["listed"]]
    main = [
        "compatibility_level = 3.6",
        f"queue_directory = {work}/spool/postfix",
        f"data_directory = {work}/lib/postfix",
        f"command_directory = {side.command_dir}",
        f"daemon_directory = {side.daemon_dir}",
        f"meta_directory = {meta}",
        f"shlib_directory = {side.shlib_dir}",
    ]
    if listed:
        main.append("multi_instance_directories = " + " ".join(listed))
    for line in (sub(l) for l in case["main"]):
        # A case's line replaces the harness's line for the same parameter.
        name = line.split("=", 1)[0].strip()
        same = [i for i, l in enumerate(main) if l.split("=", 1)[0].strip() == name]
        if same:
            main[same[0]] = line
        else:
            main.append(line)
    master_text = open(os.path.join(ref_share, "master.cf.dist")).read()
    write_old(os.path.join(upper, "postfix", "main.cf"), "\n".join(main) + "\n")
    write_old(os.path.join(upper, "postfix", "master.cf"), master_text)
    for inst in case["instances"]:
        cdir = os.path.join(upper, inst["dir"][len("/etc/"):])
        os.makedirs(cdir, exist_ok=True)
        name = os.path.basename(inst["dir"])
        # As "postmulti -e create" makes them: the shared directories copied.
        lines = main[:1] + main[3:7] + [f"queue_directory = {work}/spool/{name}", f"data_directory = {work}/lib/{name}"]
        os.makedirs(f"{work}/spool/{name}", exist_ok=True)
        for k, v in inst["settings"].items():
            key = {"name": "multi_instance_name", "group": "multi_instance_group",
                   "enable": "multi_instance_enable"}.get(k, k)
            lines.append(f"{key} = {sub(v)}")
        write_old(os.path.join(cdir, "main.cf"), "\n".join(lines) + "\n")
        if inst["master"]:
            write_old(os.path.join(cdir, "master.cf"), master_text)
    r = subprocess.run(["mount", "-t", "overlay", "overlay", "-o", f"lowerdir=/etc,upperdir={upper},workdir={wdir}",
                        "/etc"], capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"cannot overlay /etc: {r.stderr.strip()}")
    out = []
    try:
        env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C", "LC_ALL": "C", "TZ": "UTC", **side.env,
               **{k: sub(v) for k, v in case["env"].items()}}
        for argv in case["runs"]:
            argv = [sub(a) for a in argv]
            status, so, se = run_pty([os.path.join(side.command_dir, argv[0])] + argv[1:], env, work)
            out.append("$ " + shlex.join(argv))
            out.append(f"exit {status}")
            out.extend("stdout: " + l for l in so.decode("utf-8", "backslashreplace").splitlines())
            out.extend("stderr: " + l for l in se.decode("utf-8", "backslashreplace").splitlines())
    finally:
        subprocess.run(["umount", "/etc"], capture_output=True)
    out.append("/etc (changed):")
    out.extend(describe_tree(upper, True))
    for top in ("spool", "lib"):
        out.append(f"{top}:")
        out.extend(describe_tree(os.path.join(work, top), False))
    text = "\n".join(out) + "\n"
    for path, label in sorted([(side.command_dir, "{command_directory}"), (side.daemon_dir, "{daemon_directory}"),
                               (side.shlib_dir, "{shlib_directory}"), (work, "{tmp}")],
                              key=lambda p: -len(p[0])):
        text = text.replace(path, label)
    return text


OPTS = None


def make_sides(opts):
    """(reference, ours): the two implementations (ours is the reference
    again with --self-test)."""
    cache = os.path.abspath(opts.reference or os.path.join(SUITE, ".cache", "reference"))
    opts.reference_cache = cache
    build = os.path.abspath(opts.ours)
    if os.path.basename(build) == "bin":
        build = os.path.dirname(build)
    lib = os.path.join(cache, "usr/lib/postfix")
    ref = Side("reference", os.path.join(cache, "usr/sbin"), os.path.join(lib, "sbin"), lib,
               os.path.join(cache, "etc/postfix"), {"LD_LIBRARY_PATH": lib})
    ours = Side("ours", os.path.join(build, "bin"), os.path.join(build, "libexec"), build,
                os.path.join(REPO, "master.cf.d"), {})
    if opts.self_test:
        ours = ref
    return ref, ours


def in_namespace(opts):
    """A worker, in a private mount namespace of its own: runs each case
    named by --one on both sides (one after the other, the same run
    folder) and prints {name: {"sides": [reference, ours]}} (or {"error":
    text} for a malformed case) as JSON on stdout."""
    global OPTS
    OPTS = opts
    ref, ours = make_sides(opts)
    results = {}
    for name in opts.one:
        top = tempfile.mkdtemp(prefix="pf-postmulti-")
        try:
            case = parse_case(os.path.join(HERE, "cases", name + ".case"))
            work = os.path.join(top, "run")
            results[name] = {"sides": [run_side(side, case, work) for side in (ref, ours)]}
        except (CaseError, ValueError) as e:
            results[name] = {"error": str(e)}
        except (OSError, RuntimeError, subprocess.SubprocessError) as e:
            results[name] = {"error": f"harness error: {e!r}"}
        finally:
            subprocess.run(["umount", "/etc"], capture_output=True)
            shutil.rmtree(top, ignore_errors=True)
    json.dump(results, sys.stdout)
    return 0


def run_worker(opts, names):
    """Runs the cases names in a new worker process (unshare -m: every
    worker lays its own overlay on /etc, so workers run side by side);
    {name: result} as in_namespace() prints it."""
    argv = ["unshare", "-m", "--propagation", "private", sys.executable, os.path.abspath(__file__),
            "--ours", opts.ours]
    if opts.reference:
        argv += ["--reference", opts.reference]
    if opts.self_test:
        argv.append("--self-test")
    for name in names:
        argv += ["--one", name]
    env = dict(os.environ, **{MARK: "1"})
    try:
        p = subprocess.run(argv, env=env, capture_output=True, timeout=WORKER_TIMEOUT)
        results = json.loads(p.stdout)
        problem = None
    except subprocess.TimeoutExpired:
        problem = f"worker still running after {WORKER_TIMEOUT} s"
    except ValueError:
        tail = p.stderr.decode("utf-8", "backslashreplace").strip().splitlines()[-3:]
        problem = f"worker failed (exit {p.returncode}): {' | '.join(tail)}"
    if problem:
        results = {name: {"error": problem} for name in names}
    return results


def outside(opts):
    """The area's run: every case in a worker of its own, opts.jobs at
    once (they mostly wait: see the header); a differing case runs once
    more (lib/retry.py) and passes, reported FLAKY, when it is then
    identical."""
    for side in make_sides(opts):
        if not os.access(os.path.join(side.command_dir, "postmulti"), os.X_OK):
            print(f"{AREA}: missing program {side.command_dir}/postmulti", file=sys.stderr)
            return 1
    names = sorted(n[:-5] for n in os.listdir(os.path.join(HERE, "cases")) if n.endswith(".case"))
    if opts.case:
        names = [n for n in names if any(s in n for s in opts.case)]
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, opts.jobs)) as pool:
        results = {}
        for part in pool.map(lambda n: run_worker(opts, [n]), names):
            results.update(part)
    if opts.print_reference:
        for name in names:
            r = results[name]
            print(f"=== {AREA}/{name}\n" + (r["sides"][0] if "sides" in r else f"(error: {r['error']})\n"), end="")
        return 0

    def same(result):
        return "sides" in result and result["sides"][0] == result["sides"][1]

    differing = [n for n in names if "sides" in results[n] and not same(results[n])]

    def again(name):
        second = run_worker(opts, [name])[name]
        return same(second), second
    retried = retry_units(differing, again, lambda name, _r: f"FLAKY {AREA}/{name}: identical on retry",
                          jobs=max(1, opts.jobs), retries=opts.retries)
    identical = failed = 0
    for name in names:
        r = results[name]
        if "error" in r:
            print(f"  FAIL {AREA}/{name}: {r['error']}")
            failed += 1
        elif same(r) or retried.get(name, (False,))[0]:
            identical += 1
        else:
            failed += 1
            print(f"  FAIL {AREA}/{name}: differs from the reference")
            if opts.show_diff:
                ref_text, ours_text = r["sides"]
                sys.stdout.writelines(difflib.unified_diff(
                    ref_text.splitlines(True), ours_text.splitlines(True),
                    f"reference/{AREA}/{name}", f"ours/{AREA}/{name}"))
    print(f"{AREA}: {len(names)} cases, {identical} identical, 0 known differences")
    print(f"{identical} passed, {failed} failed")
    return 1 if failed else 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ours", required=True, help="build directory (or its bin/)")
    ap.add_argument("--reference", help="reference cache (default compat-suite/.cache/reference)")
    ap.add_argument("--case", action="append", help="substring of case names (repeatable)")
    ap.add_argument("--show-diff", action="store_true")
    ap.add_argument("--print-reference", action="store_true")
    ap.add_argument("--self-test", action="store_true", help="the reference against itself (checks the harness)")
    ap.add_argument("-j", "--jobs", type=int, default=JOBS, help=f"cases run at once (default {JOBS})")
    ap.add_argument("--retries", type=int, default=1, help="run a differing case once more (0: never)")
    ap.add_argument("--one", action="append", default=[], help=argparse.SUPPRESS)
    opts = ap.parse_args()
    if os.environ.get(MARK) == "1":
        return in_namespace(opts)
    if os.geteuid() != 0:
        print(f"{AREA}: skipped: needs root (a private mount namespace)", file=sys.stderr)
        return 77
    probe = subprocess.run(["unshare", "-m", "--propagation", "private", "true"], capture_output=True, text=True)
    if probe.returncode != 0:
        print(f"{AREA}: skipped: unshare -m: {probe.stderr.strip()}", file=sys.stderr)
        return 77
    return outside(opts)


if __name__ == "__main__":
    sys.exit(main())
