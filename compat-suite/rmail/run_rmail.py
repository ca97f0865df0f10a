#!/usr/bin/env python3
"""compat area rmail: our rmail(8) beside the reference's, run on the same
inputs, with a recording stub in place of /usr/lib/sendmail.

rmail execs the fixed path /usr/lib/sendmail, so the harness runs itself
in a private mount namespace (unshare -m) with an overlay on /usr/lib whose
upper layer holds the stub (nothing changes outside the namespace). The
stub records its argv, what kind of standard input it got (pipe or file)
and every byte of it, then exits as the case says (PF_RMAIL_STUB_EXIT,
PF_RMAIL_STUB_SIGNAL).

A case is a file cases/<name>.case:
  args: ARGV...                 rmail's arguments (shell-like quoting)
  stdin <<TAG [escapes] [noeol] standard input lines up to TAG (repeatable)
  stdin-repeat: COUNT TEXT      TEXT (escapes decoded) COUNT times, appended
  stub: record|absent           absent: no /usr/lib/sendmail at all
  stub-exit: N / stub-signal: NAME
  modes: pipe file              how stdin is given (default both)
Each case runs per mode on both sides with argv[0] "rmail"; the transcripts
(exit status, stdout, stderr in order, the stub's record) must be equal.
Exit 77 (skipped) when not root or when the namespace cannot be made.

Usage: run_rmail.py --ours BUILD [--reference CACHE] [--case SUBSTR] [--show-diff]
Trusts: the case files and the two programs under test (run as root in
the private namespace, each with a 10-second timeout).
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
MARK = "PF_RMAIL_IN_NAMESPACE"
STUB = r"""#!/bin/sh
d=$PF_RMAIL_RECORD
for a in "$0" "$@"; do printf '%s\0' "$a"; done > "$d/argv"
if [ -p /dev/stdin ]; then k=pipe; elif [ -f /dev/stdin ]; then k=file; else k=other; fi
echo $k > "$d/kind"
cat > "$d/stdin"
if [ -n "$PF_RMAIL_STUB_SIGNAL" ]; then kill -s "$PF_RMAIL_STUB_SIGNAL" $$; fi
exit "${PF_RMAIL_STUB_EXIT:-0}"
"""


class CaseError(Exception):
    pass


def decode_escapes(text):
    out = bytearray()
    i = 0
    raw = text.encode("utf-8", "surrogateescape")
    while i < len(raw):
        c = raw[i:i + 1]
        if c == b"\\" and i + 1 < len(raw):
            n = raw[i + 1:i + 2]
            if n == b"x":
                out += bytes([int(raw[i + 2:i + 4], 16)])
                i += 4
                continue
            out += {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"0": b"\0", b"\\": b"\\"}.get(n, b"\\" + n)
            i += 2
            continue
        out += c
        i += 1
    return bytes(out)


def parse_case(path):
    case = {"args": None, "stdin": b"", "stub": "record", "exit": None, "signal": None,
            "modes": ["pipe", "file"]}
    with open(path, encoding="utf-8", errors="surrogateescape") as f:
        lines = f.read().split("\n")
    i = 0
    while i < len(lines):
        line = lines[i]
        i += 1
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        m = re.match(r"^stdin\s*<<\s*(\S+)((?:\s+\S+)*)\s*$", line)
        if m:
            tag, opts = m.group(1), m.group(2).split()
            body = []
            while i < len(lines) and lines[i] != tag:
                body.append(lines[i])
                i += 1
            if i >= len(lines):
                raise CaseError(f"{path}: no closing {tag}")
            i += 1
            data = b"".join((decode_escapes(b) if "escapes" in opts else b.encode("utf-8", "surrogateescape")) + b"\n"
                            for b in body)
            if "noeol" in opts and data.endswith(b"\n"):
                data = data[:-1]
            case["stdin"] += data
            continue
        key, sep, value = line.partition(":")
        if not sep:
            raise CaseError(f"{path}: cannot parse: {line}")
        key, raw, value = key.strip(), value.lstrip(), value.strip()
        if key == "args":
            case["args"] = shlex.split(value)
        elif key == "stdin-repeat":
            count, _, text = raw.partition(" ")  # TEXT keeps its trailing blanks
            case["stdin"] += decode_escapes(text) * int(count)
        elif key == "stub":
            if value not in ("record", "absent"):
                raise CaseError(f"{path}: stub: {value}")
            case["stub"] = value
        elif key == "stub-exit":
            case["exit"] = str(int(value))
        elif key == "stub-signal":
            case["signal"] = value
        elif key == "modes":
            case["modes"] = value.split()
            if not case["modes"] or any(m not in ("pipe", "file") for m in case["modes"]):
                raise CaseError(f"{path}: modes: {value}")
        elif key == "description":
            pass
        else:
            raise CaseError(f"{path}: unknown directive {key}")
    if case["args"] is None:
        raise CaseError(f"{path}: no args")
    return case


def show(data):
    text = data.decode("utf-8", "backslashreplace")
    return "".join(f"| {ln}\n" for ln in text.split("\n")) if data else ""


def run_one(program, case, mode, work):
    record = os.path.join(work, "record")
    shutil.rmtree(record, ignore_errors=True)
    os.mkdir(record)
    if case["stub"] == "record":
        with open("/usr/lib/sendmail", "w") as f:
            f.write(STUB)
        os.chmod("/usr/lib/sendmail", 0o755)
    elif os.path.lexists("/usr/lib/sendmail"):
        os.unlink("/usr/lib/sendmail")
    env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C", "LC_ALL": "C", "TZ": "UTC",
           "PF_RMAIL_RECORD": record}
    if case["exit"] is not None:
        env["PF_RMAIL_STUB_EXIT"] = case["exit"]
    if case["signal"] is not None:
        env["PF_RMAIL_STUB_SIGNAL"] = case["signal"]
    stdin_path = os.path.join(work, "stdin")
    with open(stdin_path, "wb") as f:
        f.write(case["stdin"])
    argv = ["rmail"] + case["args"]
    try:
        if mode == "file":
            with open(stdin_path, "rb") as stdin:
                p = subprocess.run(argv, executable=program, stdin=stdin, capture_output=True, env=env,
                                   timeout=10, cwd=work)
        else:
            p = subprocess.run(argv, executable=program, input=case["stdin"], capture_output=True, env=env,
                               timeout=10, cwd=work)
        status = f"exit {p.returncode}" if p.returncode >= 0 else f"signal {-p.returncode}"
        out, err = p.stdout, p.stderr
    except subprocess.TimeoutExpired:
        status, out, err = "timeout", b"", b""
    text = f"-- stdin as {mode}\n{status}\nstdout:\n{show(out)}stderr:\n{show(err)}"
    try:
        with open(os.path.join(record, "argv"), "rb") as f:
            args = f.read().split(b"\0")[:-1]
        with open(os.path.join(record, "kind")) as f:
            kind = f.read().strip()
        with open(os.path.join(record, "stdin"), "rb") as f:
            data = f.read()
        text += "sendmail argv:\n" + "".join(f"  {a.decode('utf-8', 'backslashreplace')!r}\n" for a in args)
        text += f"sendmail stdin ({kind}, {len(data)} bytes):\n{show(data)}"
    except OSError:
        text += "sendmail: not run\n"
    return text


def in_namespace(opts):
    cache = opts.reference or os.path.join(SUITE, ".cache", "reference")
    ref = os.path.abspath(os.path.join(cache, "usr", "sbin", "rmail"))
    ours = os.path.abspath(os.path.join(opts.ours, "bin", "rmail")) if os.path.isdir(os.path.join(opts.ours, "bin")) else \
        os.path.abspath(os.path.join(opts.ours, "rmail"))
    for p in (ref, ours):
        if not os.access(p, os.X_OK):
            print(f"rmail: missing program {p}", file=sys.stderr)
            return 1
    top = tempfile.mkdtemp(prefix="pf-rmail-")
    try:
        upper, workdir = os.path.join(top, "upper"), os.path.join(top, "work")
        os.mkdir(upper)
        os.mkdir(workdir)
        r = subprocess.run(["mount", "-t", "overlay", "overlay", "-o",
                            f"lowerdir=/usr/lib,upperdir={upper},workdir={workdir}", "/usr/lib"],
                           capture_output=True, text=True)
        if r.returncode != 0:
            print(f"rmail: skipped: cannot overlay /usr/lib: {r.stderr.strip()}", file=sys.stderr)
            return 77
        names = sorted(n[:-5] for n in os.listdir(os.path.join(HERE, "cases")) if n.endswith(".case"))
        if opts.case:
            names = [n for n in names if any(s in n for s in opts.case)]
        identical = failed = 0
        for name in names:
            try:
                case = parse_case(os.path.join(HERE, "cases", name + ".case"))
            except (CaseError, ValueError) as e:
                print(f"  FAIL rmail/{name}: {e}")
                failed += 1
                continue
            for attempt in range(2):
                work = os.path.join(top, "run")
                os.makedirs(work, exist_ok=True)
                sides = []
                for program in (ref, ours):
                    sides.append("".join(run_one(program, case, mode, work) for mode in case["modes"]))
                if sides[0] == sides[1]:
                    break
            if opts.print_reference:
                print(f"=== rmail/{name}\n{sides[0]}", end="")
            if sides[0] == sides[1]:
                identical += 1
                if attempt:
                    print(f"FLAKY rmail/{name}: identical on retry")
            else:
                failed += 1
                print(f"  FAIL rmail/{name}: differs from the reference")
                if opts.show_diff:
                    sys.stdout.writelines(difflib.unified_diff(
                        sides[0].splitlines(True), sides[1].splitlines(True),
                        f"reference/rmail/{name}", f"ours/rmail/{name}"))
        print(f"rmail: {len(names)} cases, {identical} identical, 0 known differences")
        print(f"{identical} passed, {failed} failed")
        return 1 if failed else 0
    finally:
        subprocess.run(["umount", "/usr/lib"], capture_output=True)
        shutil.rmtree(top, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ours", required=True, help="build directory (or its bin/)")
    ap.add_argument("--reference", help="reference cache (default compat-suite/.cache/reference)")
    ap.add_argument("--case", action="append", help="substring of case names (repeatable)")
    ap.add_argument("--show-diff", action="store_true")
    ap.add_argument("--print-reference", action="store_true")
    opts = ap.parse_args()
    if os.environ.get(MARK) == "1":
        return in_namespace(opts)
    if os.geteuid() != 0:
        print("rmail: skipped: needs root (a private mount namespace)", file=sys.stderr)
        return 77
    env = dict(os.environ, **{MARK: "1"})
    probe = subprocess.run(["unshare", "-m", "--propagation", "private", "true"], capture_output=True, text=True)
    if probe.returncode != 0:
        print(f"rmail: skipped: unshare -m: {probe.stderr.strip()}", file=sys.stderr)
        return 77
    try:
        return subprocess.run(["unshare", "-m", "--propagation", "private", sys.executable,
                               os.path.abspath(__file__)] + sys.argv[1:], env=env).returncode
    except OSError as e:
        print(f"rmail: skipped: unshare: {e}", file=sys.stderr)
        return 77


if __name__ == "__main__":
    sys.exit(main())
