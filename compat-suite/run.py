#!/usr/bin/env python3
"""Differential test runner of the compat-suite: the reference oracle.

Runs every case twice, once with the reference's programs (Debian 12's
Postfix 3.7.11, unpacked by fetch-reference.sh) and once with ours, in the
same freshly made temporary config directory, normalises the host-dependent
values listed in NORMALISATION.md, and compares exit codes, stdout, stderr
(as a sorted multiset of lines), the files a case names, and the list of
files left in the config directory. The reference's behaviour is the truth;
nothing expected is stored.

Cases are data files under cases/<area>/<name>.case (format: README.md);
the area config-corpus is generated here from ../shared/corpus/MANIFEST.tsv.
A case that differs fails unless known-differences lists it; a listed case
that now matches fails too ("stale known difference"), so the list shrinks.

Trusts: the case files and the corpus (they are ours). Programs under test
run with a bounded timeout, in their own process group, with a small fixed
environment. Python 3 standard library only.
"""

import argparse
import concurrent.futures
import csv
import difflib
import glob
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import threading

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
CASES_DIR = os.path.join(HERE, "cases")
KNOWN_DIFFERENCES = os.path.join(HERE, "known-differences")
DEFAULT_REFERENCE = os.path.join(HERE, ".cache", "reference")
FETCH_SCRIPT = os.path.join(HERE, "fetch-reference.sh")
# Queue files made by the live reference (queue-fixtures/make-fixtures.sh).
QUEUE_FIXTURES = os.path.join(HERE, "queue-fixtures", "files")

DEFAULT_TIMEOUT = 30          # seconds, per program run
# Cases run at once. Most of a case's time is waiting, not CPU: a program
# that stops on a fatal error sleeps a second first (the reference does,
# and ours as it), so a case of twenty failing commands takes forty seconds.
JOBS = 8
RETRIES = 0                   # --retries
OLD_MTIME = 1577836800        # 2020-01-01T00:00:00Z: the reference re-reads a young main.cf
CHILD_ENV = {
    "PATH": "/usr/sbin:/usr/bin:/sbin:/bin",
    "LANG": "C",
    "LC_ALL": "C",
    "TZ": "UTC",
}

# Commands the config-corpus area runs on every configuration file.
CORPUS_COMMANDS = ["-n", "-nx", "-M", "-Mx", "-F", "-P"]
MAIN_KINDS = ("main.cf", "main.cf-fragment")
MASTER_KINDS = ("master.cf", "master.cf-fragment")


class CaseError(Exception):
    """A malformed case file or an input that cannot be found."""


# ---------------------------------------------------------------------------
# Case model and parser

class Case:
    """One case: input files, the commands to run, what to compare."""

    def __init__(self, area, name, origin):
        self.area = area
        self.name = name
        self.origin = origin          # file path or "generated from ..."
        self.files = []               # [(name, [source, ...])] in order of appearance
        self.symlinks = []            # [(name, target template)]
        self.dirs = []                # [name]
        self.runs = []                # [[argv...]]
        self.pins = {}                # run index -> "reference" | "ours" (run@SIDE:)
        self.stdin = None             # list of sources or None
        self.env = {}
        self.compare = []             # file names compared byte for byte
        self.timeout = DEFAULT_TIMEOUT
        self.normalise = set()        # extra rules a case asks for (normalise:)

    @property
    def full_name(self):
        return f"{self.area}/{self.name}"

    def add_source(self, fname, source, append):
        for entry in self.files:
            if entry[0] == fname:
                if not append:
                    raise CaseError(f"file {fname} given twice (use 'append')")
                entry[1].append(source)
                return
        if append:
            raise CaseError(f"append to {fname} before any 'file {fname}'")
        self.files.append((fname, [source]))


_HEREDOC = re.compile(r"^(file|append|stdin|run)\b\s*(\S*)\s*<<\s*(\S+)((?:\s+\S+)*)\s*$")
_ASSIGN = re.compile(r"^(file|append|stdin)\b\s*(\S*)\s*=\s*(.*)$")
_ESCAPE = re.compile(rb"\\(x[0-9A-Fa-f]{2}|[\\nrt0])")


def decode_escapes(data):
    """\\xHH, \\n, \\r, \\t, \\0 and \\\\ in bytes, for 'escapes' heredocs and 'text'."""
    table = {b"\\": b"\\", b"n": b"\n", b"r": b"\r", b"t": b"\t", b"0": b"\0"}

    def sub(m):
        s = m.group(1)
        if s[:1] == b"x":
            return bytes([int(s[1:], 16)])
        return table[s]
    return _ESCAPE.sub(sub, data)


def parse_source(text):
    """The right-hand side of 'file NAME = ...': a tuple describing bytes."""
    words = text.split(None, 2)
    if not words:
        raise CaseError("empty source")
    kind = words[0]
    if kind == "empty" and len(words) == 1:
        return ("bytes", b"")
    if kind in ("share", "corpus", "queue-fixture") and len(words) == 2:
        return (kind, words[1])
    if kind == "reference-dynamicmaps" and len(words) == 1:
        return ("reference-dynamicmaps", None)
    if kind == "text":
        rest = text.split(None, 1)[1] if len(words) > 1 else ""
        return ("bytes", decode_escapes(rest.encode("utf-8", "surrogateescape")))
    if kind == "repeat" and len(words) == 3 and words[1].isdigit():
        return ("bytes", decode_escapes(words[2].encode("utf-8", "surrogateescape")) * int(words[1]))
    raise CaseError(f"unknown source: {text!r}")


def parse_case(path, area):
    name = os.path.basename(path)[:-len(".case")]
    case = Case(area, name, path)
    with open(path, "rb") as f:
        raw = f.read()
    lines = raw.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    i = 0
    while i < len(lines):
        lineno = i + 1
        line = lines[i].decode("utf-8", "surrogateescape")
        i += 1
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        try:
            m = _HEREDOC.match(stripped)
            if m:
                what, fname, tag, opts = m.group(1), m.group(2), m.group(3), m.group(4).split()
                body = []
                while True:
                    if i >= len(lines):
                        raise CaseError(f"heredoc <<{tag} not terminated")
                    if lines[i] == tag.encode():
                        i += 1
                        break
                    body.append(lines[i])
                    i += 1
                for opt in opts:
                    if opt not in ("escapes", "noeol", "expand"):
                        raise CaseError(f"unknown heredoc option {opt!r}")
                if what == "run":
                    # One argument per line, verbatim (escapes decoded per line).
                    if fname or "noeol" in opts or "expand" in opts:
                        raise CaseError("run <<TAG takes no name and only the 'escapes' option")
                    if not body or not body[0]:
                        raise CaseError("run <<TAG: needs a program on its first line")
                    if "escapes" in opts:
                        body = [decode_escapes(b) for b in body]
                    case.runs.append([b.decode("utf-8", "surrogateescape") for b in body])
                    continue
                data = b"".join(b + b"\n" for b in body)
                if "escapes" in opts:
                    data = decode_escapes(data)
                if "noeol" in opts and data.endswith(b"\n"):
                    data = data[:-1]
                _add(case, what, fname, ("expand" if "expand" in opts else "bytes", data))
                continue
            m = _ASSIGN.match(stripped)
            if m:
                _add(case, m.group(1), m.group(2), parse_source(m.group(3).strip()))
                continue
            key, sep, value = stripped.partition(":")
            key = key.strip()
            value = value.strip()
            if key == "symlink" and sep:
                lname, arrow, target = value.partition("->")
                if not arrow:
                    raise CaseError("symlink: NAME -> TARGET")
                case.symlinks.append((lname.strip(), target.strip()))
            elif key == "mkdir" and sep:
                case.dirs.extend(value.split())
            elif key in ("run", "run@reference", "run@ours") and sep:
                argv = shlex.split(value)
                if not argv:
                    raise CaseError("run: needs a program")
                if key != "run":
                    case.pins[len(case.runs)] = key.split("@", 1)[1]
                case.runs.append(argv)
            elif key == "compare" and sep:
                case.compare.extend(value.split())
            elif key == "env" and sep:
                ename, eq, evalue = value.partition("=")
                if not eq:
                    raise CaseError("env: NAME=VALUE")
                case.env[ename.strip()] = evalue
            elif key == "timeout" and sep:
                case.timeout = int(value)
            elif key == "normalise" and sep:
                for word in value.split():
                    if word not in ("queue-ids", "arrival-times", "dates"):
                        raise CaseError(f"unknown normalise rule {word!r}")
                    case.normalise.add(word)
            elif key == "description" and sep:
                pass
            else:
                raise CaseError(f"cannot parse: {line!r}")
        except (CaseError, ValueError) as e:
            raise CaseError(f"{path}:{lineno}: {e}") from None
    if not case.runs:
        raise CaseError(f"{path}: no 'run:' line")
    return case


def _add(case, what, fname, source):
    if what == "stdin":
        if fname:
            raise CaseError("stdin takes no name")
        if case.stdin is None:
            case.stdin = []
        case.stdin.append(source)
    else:
        if not fname or fname.startswith("/") or ".." in fname.split("/"):
            raise CaseError(f"bad file name {fname!r}")
        case.add_source(fname, source, what == "append")


def load_hand_written_cases():
    cases = []
    if not os.path.isdir(CASES_DIR):
        return cases
    for area in sorted(os.listdir(CASES_DIR)):
        adir = os.path.join(CASES_DIR, area)
        if not os.path.isdir(adir):
            continue
        for fn in sorted(os.listdir(adir)):
            if fn.endswith(".case"):
                cases.append(parse_case(os.path.join(adir, fn), area))
    return cases


# ---------------------------------------------------------------------------
# Generated cases: config-corpus

def locate_corpus():
    env = os.environ.get("PF_CORPUS")
    if env:
        return env
    return os.path.normpath(os.path.join(REPO, "..", "shared", "corpus"))


def read_manifest(corpus):
    path = os.path.join(corpus, "MANIFEST.tsv")
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE))


def _corpus_case(name, origin, files, command):
    case = Case("config-corpus", f"{name}:{command}", origin)
    for fname, sources in files:
        for k, src in enumerate(sources):
            case.add_source(fname, src, k > 0)
    case.runs.append(["postconf", "-c", "{config}", command])
    return case


def _override_lines(corpus, local_file):
    """Non-comment lines of a docker-mailserver style override file."""
    with open(os.path.join(corpus, local_file), "rb") as f:
        text = f.read().decode("utf-8", "surrogateescape")
    return [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.strip().startswith("#")]


def generate_corpus_cases(corpus):
    """One case per configuration file of the MANIFEST and postconf command.

    main.cf kinds run as main.cf beside the stock master.cf; master.cf kinds
    as master.cf beside an empty main.cf (fragments appended to the stock
    master.cf); a project with both kinds also gets each main.cf x master.cf
    pair. Override files (lines for 'postconf -e' / 'postconf -P', as
    docker-mailserver applies them) are applied to the project's own file.
    """
    rows = read_manifest(corpus)
    stock_master = ("share", "master.cf.dist")
    cases = []
    by_project = {}
    for row in rows:
        kind, lf = row["kind"], row["local_file"]
        project = lf.split("/", 1)[0]
        origin = f"generated from MANIFEST.tsv: {lf} ({kind})"
        if kind in MAIN_KINDS:
            main = [("main.cf", [("corpus", lf)]), ("master.cf", [stock_master])]
            cases += [_corpus_case(lf, origin, main, c) for c in CORPUS_COMMANDS]
            by_project.setdefault(project, ([], []))[0].append(lf)
        elif kind in MASTER_KINDS:
            msrc = [("corpus", lf)] if kind == "master.cf" else [stock_master, ("corpus", lf)]
            master = [("main.cf", [("bytes", b"")]), ("master.cf", msrc)]
            cases += [_corpus_case(lf, origin, master, c) for c in CORPUS_COMMANDS]
            by_project.setdefault(project, ([], []))[1].append((lf, msrc))
    for project, (mains, masters) in sorted(by_project.items()):
        for mlf in mains:
            for slf, msrc in masters:
                name = f"{mlf}+{slf.split('/', 1)[1]}"
                origin = f"generated from MANIFEST.tsv: {mlf} with {slf}"
                files = [("main.cf", [("corpus", mlf)]), ("master.cf", msrc)]
                cases += [_corpus_case(name, origin, files, c) for c in CORPUS_COMMANDS]
    # Override files: the lines are applied with postconf, and the
    # edited file is compared (then listed, to see what the edit means).
    for row in rows:
        kind, lf = row["kind"], row["local_file"]
        if not kind.startswith(("main.cf-override", "master.cf-override")):
            continue
        project = lf.split("/", 1)[0]
        is_main = kind.startswith("main.cf")
        target = "main.cf" if is_main else "master.cf"
        base = [r["local_file"] for r in rows
                if r["local_file"].startswith(project + "/") and r["kind"] == target]
        case = Case("config-corpus", f"{lf}:{'-e' if is_main else '-P'}",
                    f"generated from MANIFEST.tsv: {lf} ({kind}) applied to {base[:1]}")
        if is_main:
            case.add_source("main.cf", ("corpus", base[0]) if base else ("bytes", b""), False)
            case.add_source("master.cf", stock_master, False)
        else:
            case.add_source("main.cf", ("bytes", b""), False)
            case.add_source("master.cf", ("corpus", base[0]) if base else stock_master, False)
        # One call per line, as docker-mailserver applies them: several new
        # names in one 'postconf -e' are appended in hash-table order, which
        # the reference randomises from run to run.
        flag = "-e" if is_main else "-P"
        for line in _override_lines(corpus, lf):
            case.runs.append(["postconf", "-c", "{config}", flag, line])
        case.runs.append(["postconf", "-c", "{config}", "-n" if is_main else "-P"])
        case.compare.append(target)
        cases.append(case)
    return cases


# ---------------------------------------------------------------------------
# Sides: where the programs of the reference and of ours live

class Side:
    def __init__(self, label, bindirs, daemon_dir, env):
        self.label = label
        self.bindirs = bindirs
        self.daemon_dir = daemon_dir
        self.env = env

    def resolve(self, program):
        for d in self.bindirs:
            p = os.path.join(d, program)
            if os.path.isfile(p) and os.access(p, os.X_OK):
                return p
        return None


def reference_side(cache):
    lib = os.path.join(cache, "usr", "lib", "postfix")
    env = dict(CHILD_ENV)
    # Harmless with the patched RUNPATH; lets an unpatched unpack work too.
    env["LD_LIBRARY_PATH"] = lib
    return Side("reference", [os.path.join(cache, "usr", "sbin"), os.path.join(lib, "sbin")],
                os.path.join(lib, "sbin"), env)


def ours_side(bindir):
    bindir = os.path.abspath(bindir)
    parent = os.path.dirname(bindir)
    daemon_dir = os.path.join(parent, "libexec")
    if not os.path.isdir(daemon_dir) and os.path.isdir(os.path.join(parent, "lib", "postfix", "sbin")):
        daemon_dir = os.path.join(parent, "lib", "postfix", "sbin")
    env = dict(CHILD_ENV)
    # A sanitizer build of ours takes its options from the caller's environment.
    for name in ("ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS"):
        if name in os.environ:
            env[name] = os.environ[name]
    return Side("ours", [bindir, daemon_dir], daemon_dir, env)


# ---------------------------------------------------------------------------
# Running a case on one side

class Inputs:
    """Resolves case sources to bytes (reference's share/ files, the corpus)."""

    def __init__(self, reference, corpus):
        self.share = os.path.join(reference, "usr", "share", "postfix")
        self.reference_lib = os.path.join(reference, "usr", "lib", "postfix")
        self.corpus = corpus
        self._cache = {}
        self._lock = threading.Lock()

    def data(self, source, config):
        kind, arg = source
        if kind == "bytes":
            return arg
        if kind == "expand":
            return arg.replace(b"{config}", config.encode())
        if kind == "reference-dynamicmaps":
            # The reference's table plugins by absolute path, so that a
            # main.cf with meta_directory = {config} loads them from the
            # cache (its compiled-in meta_directory is /etc/postfix).
            lines = [f"{t}\t{self.reference_lib}/postfix-{t}.so\tdict_{t}_open" + (f"\tmkmap_{t}_open" if t in ("cdb", "lmdb") else "")
                     for t in ("cdb", "lmdb", "mysql", "pcre")]
            return "".join(ln + "\n" for ln in lines).encode()
        key = (kind, arg)
        with self._lock:
            if key not in self._cache:
                base = {"share": self.share, "queue-fixture": QUEUE_FIXTURES}.get(kind, self.corpus)
                path = os.path.join(base, arg)
                if not os.path.normpath(path).startswith(os.path.normpath(base) + os.sep):
                    raise CaseError(f"{kind} {arg}: outside {base}")
                try:
                    with open(path, "rb") as f:
                        self._cache[key] = f.read()
                except OSError as e:
                    raise CaseError(f"{kind} {arg}: {e.strerror}") from None
            return self._cache[key]


def substitute(arg, config):
    def sub(m):
        if m.group(1) == "config":
            return config
        return os.path.join(config, m.group(2))
    return re.sub(r"\{(config|path:([^{}]+))\}", sub, arg)


def prepare(case, config, side, inputs):
    if os.path.lexists(config):
        shutil.rmtree(config)
    os.mkdir(config, 0o755)
    os.chmod(config, 0o755)
    for d in case.dirs:
        os.makedirs(os.path.join(config, d), exist_ok=True)
    for fname, sources in case.files:
        path = os.path.join(config, fname)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            for src in sources:
                f.write(inputs.data(src, config))
        os.chmod(path, 0o644)
        os.utime(path, (OLD_MTIME, OLD_MTIME))
    for lname, target in case.symlinks:
        target = target.replace("{daemon_directory}", side.daemon_dir)
        target = target.replace("{command_directory}", side.bindirs[0])
        os.symlink(substitute(target, config), os.path.join(config, lname))
    for d in case.dirs:
        os.utime(os.path.join(config, d), (OLD_MTIME, OLD_MTIME))


def run_program(argv, side, case, config, stdin_data):
    """Runs one command; returns (exit description, stdout, stderr, pid)."""
    program = argv[0]
    path = side.resolve(program)
    if path is None:
        return f"program not found: {program}", b"", b"", None
    args = []
    for a in argv:
        m = _GLOB.fullmatch(a)
        if m:
            # {glob:PATTERN}: the sorted matches under the config directory,
            # one argument each (the pattern itself when nothing matches).
            found = sorted(glob.glob(os.path.join(config, m.group(1))))
            args.extend(found or [substitute(m.group(1), config)])
        else:
            args.append(substitute(a, config))
    env = dict(side.env)
    env.update(case.env)
    try:
        proc = subprocess.Popen(
            args, executable=path, cwd=config, env=env,
            stdin=subprocess.PIPE if stdin_data is not None else subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            start_new_session=True, umask=0o022)
    except OSError as e:
        return f"cannot execute {program}: {e.strerror}", b"", b"", None
    try:
        out, err = proc.communicate(stdin_data, timeout=case.timeout)
        rc = proc.returncode
        status = f"exit {rc}" if rc >= 0 else f"killed by signal {-rc}"
    except subprocess.TimeoutExpired:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except OSError:
            pass
        out, err = proc.communicate()
        status = f"timeout after {case.timeout} s"
    return status, out, err, proc.pid


_GLOB = re.compile(r"\{glob:([^{}]+)\}")
# Queue directories whose file names are queue IDs (normalise: queue-ids).
_QUEUE_DIRS = {"maildrop", "incoming", "active", "deferred", "hold", "corrupt"}
_ARRIVAL = re.compile(rb"^(\| message_arrival_time: ).*$", re.M)
# RFC 5322 dates (a Received: header that smtpd adds; normalise: dates).
_RFC5322_DATE = re.compile(rb"\b(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), [ 0-9]?[0-9] [A-Z][a-z]{2} [0-9]{4} "
                           rb"[0-9]{2}:[0-9]{2}:[0-9]{2} [+-][0-9]{4}(?: \([A-Za-z0-9+-]+\))?")


def queue_ids_left(config):
    """Names of the files left in queue directories under config."""
    ids = set()
    for root, dirs, files in os.walk(config):
        parts = os.path.relpath(root, config).split(os.sep)
        if _QUEUE_DIRS.intersection(parts):
            ids.update(f for f in files if re.fullmatch(r"[0-9A-Za-z]{6,}", f))
    return ids


def normalise_case(case, data, ids):
    """The rules a case asked for with normalise: (NORMALISATION.md rule 5)."""
    if "queue-ids" in case.normalise:
        for qid in sorted(ids, key=len, reverse=True):
            data = re.sub(rb"(?<![0-9A-Za-z])" + re.escape(qid.encode()) + rb"(?![0-9A-Za-z])", b"{queue_id}", data)
    if "arrival-times" in case.normalise:
        data = _ARRIVAL.sub(rb"\1{time}", data)
    if "dates" in case.normalise:
        data = _RFC5322_DATE.sub(b"{date}", data)
    return data


_HOST_PARAMS = re.compile(rb"^(myhostname|mydomain|mynetworks) = .*$")
# postalias -s / -q - lines of the build time that postalias stores (rule 4).
_BUILD_TIME = re.compile(rb"^(YP_LAST_MODIFIED:\t)[0-9]{10}$")


def normalise(data, config, pid):
    """Host-dependent values only; each rule is explained in NORMALISATION.md.

    Returns (normalised bytes, whether the pid was replaced)."""
    data = data.replace(config.encode(), b"{config}")
    replaced = False
    if pid is not None:
        data, n = re.subn(rb"(?<![0-9])" + str(pid).encode() + rb"(?![0-9])", b"{process_id}", data)
        replaced = n > 0
    out = []
    lines = data.split(b"\n")
    i = 0
    while i < len(lines):
        line = lines[i]
        m = _HOST_PARAMS.match(line)
        if m:
            out.append(m.group(1) + b" = {host-dependent}")
            # A long value folded by 'postconf -f' goes on in indented lines.
            while i + 1 < len(lines) and lines[i + 1][:1] in (b" ", b"\t"):
                i += 1
        elif _BUILD_TIME.match(line):
            out.append(_BUILD_TIME.match(line).group(1) + b"{build_time}")
        else:
            out.append(line)
        i += 1
    return b"\n".join(out), replaced


def blob(title, data):
    """A block of the transcript: title, then each line prefixed with '| '."""
    parts = [title.encode() + b"\n"]
    if data:
        lines = data.split(b"\n")
        last_complete = lines[-1] == b""
        if last_complete:
            lines.pop()
        parts += [b"| " + ln + b"\n" for ln in lines]
        if not last_complete:
            parts.append(b"\\ no newline at end\n")
    return b"".join(parts)


def run_case_on(case, side, config, inputs, sides=None):
    """(transcript bytes, whether a pid was normalised) of one case on one side.

    A command written run@reference: or run@ours: runs that side's program
    whichever side the case runs for (sides maps the names to Sides), so a
    file made by one side can be read by the other."""
    try:
        prepare(case, config, side, inputs)
    except CaseError:
        raise
    except OSError as e:
        return f"cannot prepare: {e}\n".encode(), False
    stdin_data = None
    if case.stdin is not None:
        stdin_data = b"".join(inputs.data(s, config) for s in case.stdin)
    parts = []
    saw_pid = False
    seen_ids = set()
    for index, argv in enumerate(case.runs):
        pin = case.pins.get(index)
        run_side = side
        if pin:
            run_side = (sides or {}).get(pin)
            if run_side is None:
                raise CaseError(f"run@{pin}: that side is not available in this mode")
        status, out, err, pid = run_program(argv, run_side, case, config, stdin_data)
        if case.normalise:
            seen_ids |= queue_ids_left(config)
        shown = (f"[{pin}] " if pin else "") + " ".join(shlex.quote(a) for a in argv)
        parts.append(f"$ {shown}\n{status}\n".encode("utf-8", "surrogateescape"))
        out, r1 = normalise(out, config, pid)
        err, r2 = normalise(err, config, pid)
        saw_pid = saw_pid or r1 or r2
        parts.append(blob("stdout:", out))
        err_lines = err.split(b"\n")
        if err_lines and err_lines[-1] == b"":
            err_lines.pop()
        parts.append(blob("stderr (sorted lines):", b"".join(ln + b"\n" for ln in sorted(err_lines))))
    for fname in case.compare:
        path = os.path.join(config, fname)
        try:
            st = os.lstat(path)
            with open(path, "rb") as f:
                data = f.read().replace(config.encode(), b"{config}")
            parts.append(blob(f"file {fname} (mode {st.st_mode & 0o7777:04o}):", data))
        except OSError as e:
            parts.append(f"file {fname}: {e.strerror}\n".encode())
    listing = []
    for root, dirs, files in os.walk(config):
        dirs.sort()
        for n in sorted(dirs + files):
            rel = os.path.relpath(os.path.join(root, n), config)
            listing.append(rel + ("/" if n in dirs else ""))
    parts.append(("files left: " + " ".join(sorted(listing)) + "\n").encode())
    ids = seen_ids | queue_ids_left(config)
    return normalise_case(case, b"".join(parts), ids), saw_pid


def run_case(case, ref, ours, inputs):
    """(identical?, reference transcript, ours transcript, error)."""
    parent = tempfile.mkdtemp(prefix="pf-compat-")
    config = os.path.join(parent, "config")
    try:
        retries_left = RETRIES
        for attempt in range(1, 3 + RETRIES):
            sides = {"reference": ref, "ours": ours}
            t_ref, pid_ref = run_case_on(case, ref, config, inputs, sides)
            t_ours, pid_ours = run_case_on(case, ours, config, inputs, sides)
            if t_ref == t_ours:
                if attempt > 1 and not (pid_ref or pid_ours):
                    print(f"  FLAKY {case.full_name}: identical on attempt {attempt}", file=sys.stderr)
                break
            # A pid may by chance equal another number of the output; then the
            # pid rule of the normalisation changed that too. New pids next time.
            if pid_ref or pid_ours:
                continue
            # --retries: a difference that goes away when the case runs again
            # came from the machine (load, timing), and is reported as FLAKY.
            if retries_left == 0:
                break
            retries_left -= 1
        return t_ref == t_ours, t_ref, t_ours, None
    except CaseError as e:
        return False, b"", b"", str(e)
    finally:
        shutil.rmtree(parent, ignore_errors=True)


# ---------------------------------------------------------------------------
# Known differences, reporting, main

def read_known_differences(path):
    known = {}
    if not os.path.exists(path):
        return known
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            name, tab, reason = line.partition("\t")
            if not tab or not reason.strip() or "/" not in name:
                raise CaseError(f"{path}:{n}: expected '<area>/<case-name><TAB><reason>'")
            known[name] = reason.strip()
    return known


def ensure_reference(cache, explicit):
    postconf = os.path.join(cache, "usr", "sbin", "postconf")
    stamped = any(n.startswith(".fetched-") for n in os.listdir(cache)) if os.path.isdir(cache) else False
    if os.path.exists(postconf) and (stamped or explicit):
        return
    print(f"run.py: fetching the reference into {cache}", file=sys.stderr)
    subprocess.run(["sh", FETCH_SCRIPT, cache], check=True, timeout=900)


def diff_text(t_ref, t_ours, name):
    a = t_ref.decode("utf-8", "backslashreplace").splitlines(keepends=True)
    b = t_ours.decode("utf-8", "backslashreplace").splitlines(keepends=True)
    return "".join(difflib.unified_diff(a, b, f"reference/{name}", f"ours/{name}"))


def print_reference(cases, ref, inputs):
    for c in cases:
        parent = tempfile.mkdtemp(prefix="pf-compat-")
        try:
            transcript, _ = run_case_on(c, ref, os.path.join(parent, "config"), inputs, {"reference": ref, "ours": ref})
        except CaseError as e:
            transcript = f"bad case: {e}\n".encode()
        finally:
            shutil.rmtree(parent, ignore_errors=True)
        sys.stdout.flush()
        sys.stdout.buffer.write(f"=== {c.full_name}\n".encode() + transcript)
        sys.stdout.buffer.flush()
    return 0


def main():
    ap = argparse.ArgumentParser(description="Compare our programs against the reference Postfix.")
    ap.add_argument("--ours", help="directory with our programs (e.g. <build>/bin); required unless --print-reference or --list")
    ap.add_argument("--reference", help=f"reference cache (default {DEFAULT_REFERENCE})")
    ap.add_argument("--area", action="append", help="only this area (repeatable)")
    ap.add_argument("--case", action="append", help="only cases whose area/name contains this")
    ap.add_argument("--show-diff", action="store_true", help="print unified diffs of differing cases")
    ap.add_argument("--list", action="store_true", help="list the selected cases and exit")
    ap.add_argument("--print-reference", action="store_true",
                    help="run the selected cases on the reference only and print their transcripts (for writing cases)")
    ap.add_argument("-j", type=int, default=JOBS, help=f"cases run in parallel (default {JOBS})")
    ap.add_argument("--retries", type=int, default=0,
                    help="run a differing case up to N more times; one that then matches is reported FLAKY")
    opts = ap.parse_args()
    global RETRIES
    RETRIES = max(0, opts.retries)
    if not opts.ours and not opts.print_reference and not opts.list:
        ap.error("--ours is required")

    reference = os.path.abspath(opts.reference or DEFAULT_REFERENCE)
    try:
        cases = load_hand_written_cases()
        want_corpus = not opts.area or "config-corpus" in opts.area
        corpus = locate_corpus()
        corpus_error = None
        if want_corpus:
            try:
                cases += generate_corpus_cases(corpus)
            except OSError as e:
                corpus_error = f"cannot read the corpus at {corpus}: {e} (set PF_CORPUS)"
        known = read_known_differences(KNOWN_DIFFERENCES)
    except CaseError as e:
        print(f"run.py: {e}", file=sys.stderr)
        print("0 passed, 1 failed")
        return 1

    names = set()
    for c in cases:
        if c.full_name in names:
            print(f"run.py: duplicate case {c.full_name}", file=sys.stderr)
            print("0 passed, 1 failed")
            return 1
        names.add(c.full_name)
    all_names = set(names)
    if opts.area:
        unknown = sorted(set(opts.area) - {c.area for c in cases} - {"config-corpus"})
        if unknown:
            print(f"run.py: no such area: {', '.join(unknown)}", file=sys.stderr)
            print("0 passed, 1 failed")
            return 1
        cases = [c for c in cases if c.area in opts.area]
    if opts.case:
        cases = [c for c in cases if any(s in c.full_name for s in opts.case)]

    if opts.list:
        for c in cases:
            print(c.full_name)
        return 0

    try:
        ensure_reference(reference, opts.reference is not None)
    except (subprocess.SubprocessError, OSError) as e:
        print(f"run.py: cannot fetch the reference: {e}", file=sys.stderr)
        print("0 passed, 1 failed")
        return 1

    ref = reference_side(reference)
    inputs = Inputs(reference, corpus)
    if opts.print_reference:
        return print_reference(cases, ref, inputs)
    ours = ours_side(opts.ours)

    results = {}
    # The cases with the most commands start first: a long case started
    # last would run alone at the end.
    by_length = sorted(cases, key=lambda c: -len(c.runs))
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, opts.j)) as pool:
        futures = {pool.submit(run_case, c, ref, ours, inputs): c for c in by_length}
        for fut in concurrent.futures.as_completed(futures):
            results[futures[fut].full_name] = fut.result()

    passed = failed = 0
    areas = sorted({c.area for c in cases} | ({"config-corpus"} if corpus_error else set()))
    for area in areas:
        acases = [c for c in cases if c.area == area]
        identical = knowndiff = 0
        problems = []
        for c in acases:
            same, t_ref, t_ours, err = results[c.full_name]
            listed = c.full_name in known
            if err:
                failed += 1
                problems.append(f"  FAIL {c.full_name}: bad case: {err}")
            elif same and not listed:
                identical += 1
                passed += 1
            elif same and listed:
                identical += 1
                failed += 1
                problems.append(f"  FAIL {c.full_name}: stale known difference (it matches now; remove it from known-differences)")
            elif listed:
                knowndiff += 1
                passed += 1
            else:
                failed += 1
                problems.append(f"  FAIL {c.full_name}: differs from the reference")
            if opts.show_diff and not same and not err:
                problems.append(diff_text(t_ref, t_ours, c.full_name).rstrip("\n"))
        if area == "config-corpus" and corpus_error:
            failed += 1
            problems.append(f"  FAIL config-corpus: {corpus_error}")
        print(f"{area}: {len(acases)} cases, {identical} identical, {knowndiff} known differences")
        for p in problems:
            print(p)

    # An entry naming no case is a typo or a leftover: fail on it when its
    # area was run in full (the area of an entry is the part before '/').
    if not opts.case:
        run_areas = set(opts.area) if opts.area else None
        for name in sorted(set(known) - all_names):
            if run_areas is None or name.split("/", 1)[0] in run_areas:
                failed += 1
                print(f"  FAIL {name}: listed in known-differences but no such case")
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
