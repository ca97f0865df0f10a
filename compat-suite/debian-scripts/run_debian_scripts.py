#!/usr/bin/env python3
"""compat area debian-scripts: Debian's postfix-add-filter,
postfix-add-policy and postfix-collate, ours (src/cmd/scripts) beside the
reference's (the package's /usr/sbin copies).

The two add-* scripts edit the fixed path /etc/postfix/master.cf, so the
harness runs itself in a private mount namespace (unshare -m) with an
overlay on /etc whose upper layer holds a fresh /etc/postfix for every run
(nothing changes outside the namespace). After a run the transcript holds
the exit status, stdout, stderr (for Python tracebacks only the last line;
Perl's "at FILE line N." normalised), and every file left in /etc/postfix
with its mode and content (backup names master.cf.<seconds> normalised).

A case is a file cases/<name>.case:
  script: postfix-add-filter | postfix-add-policy | postfix-collate
  args: ARGV...            shell-like quoting; {log} is the case's log file
  master: none | dist      no master.cf, or the reference's master.cf.dist
  master <<TAG ... TAG     master.cf given inline
  log <<TAG ... TAG        a log file (for postfix-collate), also on stdin
Exit 77 (skipped) when not root or when the namespace cannot be made.

Usage: run_debian_scripts.py --ours BUILD [--scripts DIR] [--reference CACHE]
                             [--case SUBSTR] [--show-diff] [--print-reference]
Trusts: the case files and the scripts under test (run as root inside the
private namespace, 20 seconds each).
"""

import argparse
import difflib
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
SUITE = os.path.dirname(HERE)
REPO = os.path.dirname(SUITE)
MARK = "PF_DEBIAN_SCRIPTS_IN_NAMESPACE"


class CaseError(Exception):
    pass


def parse_case(path):
    case = {"script": None, "args": "", "master": None, "log": None}
    with open(path, encoding="utf-8", errors="surrogateescape") as f:
        lines = f.read().split("\n")
    i = 0
    while i < len(lines):
        line = lines[i]
        i += 1
        if not line.strip() or line.startswith("#"):
            continue
        m = re.match(r"^(master|log) <<(\w+)$", line)
        if m:
            body = []
            while i < len(lines) and lines[i] != m.group(2):
                body.append(lines[i] + "\n")
                i += 1
            if i >= len(lines):
                raise CaseError(f"unterminated {m.group(1)}")
            i += 1
            case[m.group(1)] = "".join(body)
            continue
        key, sep, value = line.partition(":")
        if not sep or key not in case:
            raise CaseError(f"bad line: {line}")
        value = value.strip()
        if key == "master":
            value = {"none": None, "dist": "@dist"}.get(value, "@bad")
            if value == "@bad":
                raise CaseError("master: none or dist")
        case[key] = value
    if case["script"] not in ("postfix-add-filter", "postfix-add-policy", "postfix-collate"):
        raise CaseError("missing or bad script")
    return case


def normalise(text, program):
    text = text.replace(program, "SCRIPT")
    text = re.sub(r" at SCRIPT line \d+", " at SCRIPT line N", text)
    return text


def run_one(program, case, cache, work):
    etc = "/etc/postfix"
    shutil.rmtree(etc, ignore_errors=True)
    os.mkdir(etc, 0o755)
    if case["master"] == "@dist":
        shutil.copy(os.path.join(cache, "usr", "share", "postfix", "master.cf.dist"), etc + "/master.cf")
    elif case["master"] is not None:
        with open(etc + "/master.cf", "w", encoding="utf-8", errors="surrogateescape") as f:
            f.write(case["master"])
    if os.path.exists(etc + "/master.cf"):
        os.chmod(etc + "/master.cf", 0o644)
    log = os.path.join(work, "maillog")
    with open(log, "w", encoding="utf-8", errors="surrogateescape") as f:
        f.write(case["log"] or "")
    argv = [program] + shlex.split(case["args"].replace("{log}", log))
    with open(log, "rb") as stdin:
        try:
            r = subprocess.run(argv, stdin=stdin, capture_output=True, timeout=20, cwd=work)
            code, out, err = r.returncode, r.stdout, r.stderr
        except subprocess.TimeoutExpired:
            code, out, err = "timeout", b"", b""
    err_text = err.decode("utf-8", "surrogateescape")
    if "Traceback (most recent call last)" in err_text:
        err_text = "Traceback: " + err_text.rstrip("\n").split("\n")[-1] + "\n"
    text = f"exit {code}\nstdout:\n{out.decode('utf-8', 'surrogateescape')}\nstderr:\n{err_text}"
    for name in sorted(os.listdir(etc)):
        path = os.path.join(etc, name)
        shown = re.sub(r"^master\.cf\.\d{9,}$", "master.cf.TIME", name)
        st = os.stat(path)
        with open(path, encoding="utf-8", errors="surrogateescape") as f:
            text += f"--- {shown} mode {st.st_mode & 0o7777:o}\n{f.read()}"
    return normalise(text, program)


def in_namespace(opts):
    cache = opts.reference or os.path.join(SUITE, ".cache", "reference")
    ref_dir = os.path.abspath(os.path.join(cache, "usr", "sbin"))
    our_dir = os.path.abspath(opts.scripts or os.path.join(REPO, "src", "cmd", "scripts"))
    top = tempfile.mkdtemp(prefix="pf-debian-scripts-")
    try:
        upper, workdir = os.path.join(top, "upper"), os.path.join(top, "work")
        os.mkdir(upper)
        os.mkdir(workdir)
        r = subprocess.run(["mount", "-t", "overlay", "overlay", "-o",
                            f"lowerdir=/etc,upperdir={upper},workdir={workdir}", "/etc"],
                           capture_output=True, text=True)
        if r.returncode != 0:
            print(f"debian-scripts: skipped: cannot overlay /etc: {r.stderr.strip()}", file=sys.stderr)
            return 77
        names = sorted(n[:-5] for n in os.listdir(os.path.join(HERE, "cases")) if n.endswith(".case"))
        if opts.case:
            names = [n for n in names if any(s in n for s in opts.case)]
        identical = failed = 0
        for name in names:
            try:
                case = parse_case(os.path.join(HERE, "cases", name + ".case"))
            except (CaseError, ValueError) as e:
                print(f"  FAIL debian-scripts/{name}: {e}")
                failed += 1
                continue
            sides = []
            for d in (ref_dir, our_dir):
                program = os.path.join(d, case["script"])
                if not os.access(program, os.X_OK):
                    sides.append(f"missing program {program}\n")
                    continue
                work = tempfile.mkdtemp(dir=top)
                sides.append(run_one(program, case, cache, work))
                shutil.rmtree(work, ignore_errors=True)
            if opts.print_reference:
                print(f"=== debian-scripts/{name}\n{sides[0]}", end="")
            if sides[0] == sides[1]:
                identical += 1
            else:
                failed += 1
                print(f"  FAIL debian-scripts/{name}: differs from the reference")
                if opts.show_diff:
                    sys.stdout.writelines(difflib.unified_diff(
                        sides[0].splitlines(True), sides[1].splitlines(True),
                        f"reference/{name}", f"ours/{name}"))
        print(f"debian-scripts: {len(names)} cases, {identical} identical, 0 known differences")
        print(f"{identical} passed, {failed} failed")
        return 1 if failed else 0
    finally:
        subprocess.run(["umount", "/etc"], capture_output=True)
        shutil.rmtree(top, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ours", required=True, help="build directory (unused: the scripts are not built)")
    ap.add_argument("--scripts", help="our scripts (default src/cmd/scripts of this tree)")
    ap.add_argument("--reference", help="reference cache (default compat-suite/.cache/reference)")
    ap.add_argument("--case", action="append")
    ap.add_argument("--show-diff", action="store_true")
    ap.add_argument("--print-reference", action="store_true")
    opts = ap.parse_args()
    if os.environ.get(MARK) == "1":
        return in_namespace(opts)
    if os.geteuid() != 0:
        print("debian-scripts: skipped: needs root (a private mount namespace)", file=sys.stderr)
        return 77
    probe = subprocess.run(["unshare", "-m", "--propagation", "private", "true"], capture_output=True)
    if probe.returncode != 0:
        print("debian-scripts: skipped: cannot make a mount namespace", file=sys.stderr)
        return 77
    env = dict(os.environ, **{MARK: "1"})
    return subprocess.run(["unshare", "-m", "--propagation", "private", sys.executable,
                           os.path.abspath(__file__)] + sys.argv[1:], env=env).returncode


if __name__ == "__main__":
    sys.exit(main())
