#!/usr/bin/env python3
"""The swap area of the compat-suite: one queue, two mail systems.

An admin who replaces the reference by pf-mail keeps the queue: mail that
waits in incoming/, deferred/ or hold/ when the reference stops must be
delivered by ours when it starts, and the other way round; and the
reference's postcat(1) must print every queue file ours writes.

For each direction (writer -> deliverer) this builds one private instance
(pipeline/run_pipeline.py's Instance, the "basic" configuration) run by the
writer, and makes its messages wait in three real ways, a third each:
  deferred  qmgr runs with "defer_transports = record": the files go to
            deferred/ with a defer log, their time stamps in the future;
  hold      qmgr is absent from master.cf and header_checks says HOLD:
            cleanup puts the files in hold/;
  incoming  qmgr is absent: the files stay in incoming/.
The writer stops. Where the writer is ours, the reference's postcat prints
each waiting file (exit 0, nothing on stderr). Then the instance's main.cf
gets the deliverer's daemon/command (and meta/shlib) directories, nothing
else changes, the deliverer starts on the same queue_directory, hold is
released (postsuper -H ALL: the deliverer's, or the reference's while
ours has none) and qmgr is asked to flush (postkick public qmgr FADI, the
request postqueue -f sends). Each message's deliveries (argv,
environment, stdin of the recording pipe transport) must be identical to
those of a plain reference run of the same messages (the reference writes
and delivers without waiting), after the pipeline area's normalisation.

Cases: per direction and message, its deliveries; per file ours wrote,
the reference's postcat. Prints "swap: N cases, N identical, N known
differences". Needs root (master runs as root): exit 77 otherwise.

Trusts: its own messages and configuration; the programs under test are
only observed.
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
COMPAT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(COMPAT, "pipeline"))
import messages  # noqa: E402
import run_pipeline as rp  # noqa: E402
sys.path.insert(0, os.path.join(COMPAT, "lib"))
from retry import rerun_script  # noqa: E402

AREA = "swap"
DIRECTORY_PARAMETERS = ("daemon_directory", "command_directory", "meta_directory", "shlib_directory")
GROUPS = ("deferred", "hold", "incoming")
WAIT_QUEUE = 60          # seconds for a queue to reach the expected state
PICKUP_WAIT = 20         # seconds for one submission to be picked up


def known_differences():
    return rp.pfinstance.read_known(AREA)


def side_main(main_cf, side):
    """main.cf with side's directory parameters and nothing else changed."""
    own = {}
    for line in side.extra_main + [f"daemon_directory = {side.daemon_dir}",
                                   f"command_directory = {side.command_dir}"]:
        name, value = line.split("=", 1)
        own[name.strip()] = value.strip()
    out = []
    for line in main_cf.split("\n"):
        m = re.match(r"^(\w+)\s*=", line)
        if m and m.group(1) in own:
            out.append(f"{m.group(1)} = {own.pop(m.group(1))}")
        else:
            out.append(line)
    # A parameter the base text lacked goes at the end (before the final newline).
    extra = [f"{k} = {v}" for k, v in own.items()]
    return "\n".join(out).rstrip("\n") + "\n" + "".join(x + "\n" for x in extra)


def without_qmgr(master_cf):
    return re.sub(r"(?m)^qmgr\s.*\n", "", master_cf)


class Writer:
    """An instance whose messages are made to wait (see the module text)."""

    def __init__(self, root, writer, deliverer, cache, msgs):
        self.writer, self.deliverer, self.cache, self.msgs = writer, deliverer, cache, msgs
        self.inst = rp.Instance(root, writer, cache, rp.read_config("basic"))
        self.inst.set_port(rp.free_port())
        self.base_main = open(os.path.join(self.inst.etc, "main.cf")).read()
        self.base_master = open(os.path.join(self.inst.etc, "master.cf")).read()
        # Tool configurations for the same queue: the reference's programs
        # (postcat, postsuper) and ours, whichever side runs.
        self.ref_side = rp.reference_side(cache)
        self.etc_ref = os.path.join(self.inst.dir, "etc-ref")
        os.makedirs(self.etc_ref)
        self._put(self.etc_ref, "main.cf", side_main(self.base_main, self.ref_side))
        self._put(self.etc_ref, "master.cf", self.base_master)
        self.qids = {}           # queue ID (bytes) -> message index
        self.sendmail = {}       # message index -> (status, stdout, stderr)
        self.pickups_seen = 0
        self.notes = []

    @staticmethod
    def _put(folder, name, text):
        rp.write_config(os.path.join(folder, name), text)

    def configure(self, main_extra="", master_cf=None):
        self._put(self.inst.etc, "main.cf", self.base_main + main_extra)
        self._put(self.inst.etc, "master.cf", master_cf if master_cf is not None else self.base_master)

    def start(self):
        status, out, err = self.inst.start()
        ok = status == 0 and rp.wait_for(
            lambda: os.path.exists(os.path.join(self.inst.spool, "public", "pickup")), 10)
        if not ok:
            self.notes.append(f"{self.inst.side.label}: postfix start: exit {status}: "
                              f"{(out + err).decode(errors='replace').strip()}")
        return ok

    def submit(self, indexes):
        """Submits messages one at a time; each one's queue ID comes from the
        first pickup line after its submission."""
        pickup_line = re.compile(rb"postfix/pickup\[\d+\]: (\S+): uid=")
        for index in indexes:
            msg = self.msgs[index]
            result = self.inst.run("sendmail", msg["args"], msg["data"])
            self.sendmail[index] = result
            if result[0] != 0:
                continue
            rp.wait_for(lambda: not self.inst.queue_files("maildrop")
                        and len(pickup_line.findall(self.inst.log_text())) > self.pickups_seen, PICKUP_WAIT)
            pickups = pickup_line.findall(self.inst.log_text())
            if len(pickups) > self.pickups_seen:
                self.qids.setdefault(pickups[self.pickups_seen], index)
            self.pickups_seen = len(pickups)

    def queue_state(self):
        """{queue ID: queue name} of the waiting files."""
        state = {}
        for q in ("maildrop", "incoming", "active", "deferred", "hold"):
            for path in self.inst.queue_files(q):
                state[os.path.basename(path)] = q
        return state

    def write(self):
        groups = {g: [i for i in range(len(self.msgs)) if i % len(GROUPS) == n] for n, g in enumerate(GROUPS)}
        # deferred: qmgr runs, the transport is deferred.
        self.configure("defer_transports = record\n")
        if not self.start():
            return False
        self.submit(groups["deferred"])
        rp.wait_for(lambda: not self.inst.queue_files("maildrop", "incoming", "active"), WAIT_QUEUE)
        self.inst.stop()
        # hold: no qmgr, header_checks HOLD.
        self._put(self.inst.etc, "swap_hold", "/^/ HOLD swap test\n")
        self.configure(f"header_checks = regexp:{self.inst.etc}/swap_hold\n", without_qmgr(self.base_master))
        if not self.start():
            return False
        self.submit(groups["hold"])
        self.inst.stop()
        # incoming: no qmgr.
        self.configure("", without_qmgr(self.base_master))
        if not self.start():
            return False
        self.submit(groups["incoming"])
        self.inst.stop()
        return True

    def swap_and_deliver(self):
        """Points the instance at the deliverer's programs, starts it, releases
        and flushes; returns the recordings."""
        self.inst.side = self.deliverer
        self._put(self.inst.etc, "main.cf", side_main(self.base_main, self.deliverer))
        self._put(self.inst.etc, "master.cf", self.base_master)
        rp.make_setgid(self.deliverer)
        log_offset = len(self.inst.log_text())
        if not self.start():
            return None, log_offset
        postsuper = os.path.join(self.deliverer.command_dir, "postsuper")
        if os.path.exists(postsuper):
            status, out, err = self.inst.run("postsuper", ["-H", "ALL"])
        else:
            self.notes.append(f"{self.deliverer.label} has no postsuper: hold released by the reference's")
            status, out, err = run_tool(self.ref_side, "postsuper", ["-c", self.etc_ref, "-H", "ALL"])
        if status != 0:
            self.notes.append(f"postsuper -H ALL: exit {status}: {(out + err).decode(errors='replace').strip()}")
        status, out, err = self.inst.run("postkick", ["-c", self.inst.etc, "public", "qmgr", "FADI"])
        if status != 0:
            self.notes.append(f"postkick: exit {status}: {(out + err).decode(errors='replace').strip()}")
        rp.wait_for(lambda: not self.inst.queue_files("maildrop", "incoming", "active", "deferred", "hold"),
                    WAIT_QUEUE)
        rp.wait_for(lambda: rp._settled(self.inst.log_text()), 10)
        left = self.queue_state()
        if left:
            self.notes.append(f"{self.deliverer.label} left {len(left)} files: "
                              + ", ".join(f"{q}/{i}" for i, q in sorted(left.items())))
        self.inst.stop()
        recordings = []
        for fname in sorted(os.listdir(self.inst.rec)):
            if fname.endswith(".rec"):
                with open(os.path.join(self.inst.rec, fname), "rb") as f:
                    recordings.append(f.read())
        return recordings, log_offset



def run_tool(side, program, args):
    """One of side's commands: (status, stdout, stderr)."""
    env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C", "LC_ALL": "C", "TZ": "UTC", **side.env}
    try:
        p = subprocess.run([os.path.join(side.command_dir, program), *args],
                           capture_output=True, env=env, timeout=30)
        return p.returncode, p.stdout, p.stderr
    except (subprocess.TimeoutExpired, OSError) as e:
        return "error", b"", str(e).encode()


def deliveries(recordings, qid, result):
    recs = [r for r in recordings if re.search(rb"\bid " + re.escape(qid) + rb"\b", r)]
    return b"".join(b"delivery:\n" + r + b"\n" for r in sorted(rp.normalise(r, result) for r in recs))


def plain_reference(ref, cache, msgs, root):
    """The reference writing and delivering the same messages without waits."""
    result = rp.run_side(ref, cache, rp.read_config("basic"), msgs, root)
    return result


def run_direction(name, writer, deliverer, cache, msgs, plain, root, show_diff, verbose):
    """One direction; returns a list of (case, same, detail)."""
    import difflib
    cases = []
    w = Writer(root, writer, deliverer, cache, msgs)
    if not w.write():
        return [(f"{name}/start", False, "\n".join(w.notes))], w.notes
    state = w.queue_state()
    where = {}
    for qid, index in w.qids.items():
        where[index] = state.get(qid.decode(), "gone")
    if verbose:
        counts = {}
        for q in where.values():
            counts[q] = counts.get(q, 0) + 1
        print(f"  {name}: waiting before the swap: " + ", ".join(f"{q} {n}" for q, n in sorted(counts.items())))
    # The reference's postcat on every file ours wrote.
    if writer.label == "ours":
        for q in ("incoming", "deferred", "hold"):
            for path in sorted(w.inst.queue_files(q)):
                status, out, err = run_tool(w.ref_side, "postcat", ["-c", w.etc_ref, path])
                ok = status == 0 and not err and out
                detail = "" if ok else f"exit {status}, stderr: {err.decode(errors='replace').strip()}"
                index = w.qids.get(os.path.basename(path).encode())
                label = f"{index:02d}-{msgs[index]['name']}" if index is not None else os.path.basename(path)
                cases.append((f"{name}/postcat/{q}/{label}", bool(ok), detail))
    # Informational: our postcat on the files the reference wrote, against
    # the reference's postcat on the same files (a note, not a case).
    if writer.label == "reference" and deliverer.label == "ours":
        etc_ours = os.path.join(w.inst.dir, "etc-ours")
        os.makedirs(etc_ours)
        w._put(etc_ours, "main.cf", side_main(w.base_main, deliverer))
        w._put(etc_ours, "master.cf", w.base_master)
        files = [p for q in ("incoming", "deferred", "hold") for p in sorted(w.inst.queue_files(q))]
        differ = []
        for path in files:
            a = run_tool(w.ref_side, "postcat", ["-c", w.etc_ref, path])
            b = run_tool(deliverer, "postcat", ["-c", etc_ours, path])
            if a != b:
                differ.append(os.path.basename(path))
        w.notes.append(f"our postcat prints {len(files) - len(differ)} of {len(files)} reference-written files "
                       "as the reference's does" + (f" (differ: {' '.join(differ[:8])})" if differ else ""))
    recordings, _ = w.swap_and_deliver()
    if recordings is None:
        return cases + [(f"{name}/start-{deliverer.label}", False, "\n".join(w.notes))], w.notes
    result = {"dir": w.inst.dir, "qids": w.qids}
    for index, msg in enumerate(msgs):
        case = f"{name}/{index:02d}-{msg['name']}"
        ref_status = plain["messages"].get(index, {}).get("sendmail", ("?",))[0]
        status = w.sendmail.get(index, ("?",))[0]
        if status != ref_status:
            cases.append((case, False, f"sendmail exit {status}, plain reference {ref_status}"))
            continue
        if status != 0:
            cases.append((case, True, ""))
            continue
        qid = next((q for q, i in w.qids.items() if i == index), None)
        ref_qid = next((q for q, i in plain["qids"].items() if i == index), None)
        if qid is None or ref_qid is None:
            cases.append((case, False, "no queue id"))
            continue
        a = deliveries(plain.get("recordings", []), ref_qid, plain)
        b = deliveries(recordings, qid, result)
        detail = ""
        if a != b:
            detail = f"waited in {where.get(index)}"
            if show_diff:
                detail += "\n" + "\n".join(
                    "    " + line for line in difflib.unified_diff(
                        a.decode(errors="replace").splitlines(), b.decode(errors="replace").splitlines(),
                        "plain reference", f"{name} swap", lineterm=""))
        elif not a:
            detail = "no delivery on either side"
        cases.append((case, a == b and bool(a), detail))
    return cases, w.notes


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--ours", help="our build directory (with bin/ and libexec/)")
    ap.add_argument("--reference", default=rp.DEFAULT_REFERENCE)
    ap.add_argument("--messages", type=int, default=0, help="only the first N messages (default: all)")
    ap.add_argument("--direction", action="append", choices=("reference-to-ours", "ours-to-reference"))
    ap.add_argument("--reference-twice", action="store_true",
                    help="the reference on both sides (checks the harness)")
    ap.add_argument("--show-diff", action="store_true")
    ap.add_argument("--keep", action="store_true", help="keep the instance directories")
    ap.add_argument("-v", "--verbose", action="store_true")
    ap.add_argument("--retries", type=int, default=1,
                    help="run a direction with a failing case again, once (0: never)")
    args = ap.parse_args()
    if os.geteuid() != 0:
        print("swap: needs root (master runs as root)", file=sys.stderr)
        return 77
    ref = rp.reference_side(args.reference)
    if args.reference_twice:
        ours = rp.Side("ours", ref.command_dir, ref.daemon_dir, ref.extra_main, ref.env)
    else:
        if not args.ours:
            ap.error("--ours is required")
        ours = rp.ours_side(os.path.abspath(args.ours))
    msgs = messages.MESSAGES[:args.messages] if args.messages else messages.MESSAGES
    # Address probes and delivery reports (sendmail -bv, -v) are not
    # deliveries waiting in the queue: the pipeline area compares them.
    msgs = [m for m in msgs if not {"-bv", "-v"} & set(m["args"])]
    directions = args.direction or ["reference-to-ours", "ours-to-reference"]
    root = tempfile.mkdtemp(prefix="pf-swap-")
    os.chmod(root, 0o755)
    rp.make_setgid(ref)
    started = time.monotonic()
    plain = plain_reference(ref, args.reference, msgs, os.path.join(root, "plain"))
    known = known_differences()
    total = identical = known_count = failed = 0
    failed_directions = []
    for name in directions:
        writer, deliverer = (ref, ours) if name == "reference-to-ours" else (ours, ref)
        folder = os.path.join(root, name)
        os.makedirs(folder)
        cases, notes = run_direction(name, writer, deliverer, args.reference, msgs, plain, folder,
                                     args.show_diff, args.verbose)
        for note in notes:
            print(f"  note: {note}")
        for case, same, detail in cases:
            total += 1
            if same and case not in known:
                identical += 1
            elif not same and case in known:
                known_count += 1
            else:
                failed += 1
                if name not in failed_directions:
                    failed_directions.append(name)
                print(f"FAIL {AREA}/{case}" + (" (stale known difference)" if same else "")
                      + (f": {detail}" if detail else ""))
    if args.keep:
        print(f"kept {root}")
    else:
        shutil.rmtree(root, ignore_errors=True)
    if args.verbose:
        print(f"  {time.monotonic() - started:.0f} s")
    print(f"{AREA}: {total} cases, {identical} identical, {known_count} known differences")
    print(f"{total - failed} passed, {failed} failed")
    # A direction with a failing case runs again, alone (lib/retry.py):
    # identical then, it passes, reported FLAKY.
    options = ["--reference", args.reference, "--messages", str(args.messages)]
    options += ["--reference-twice"] if args.reference_twice else ["--ours", args.ours]
    options += ["--show-diff"] if args.show_diff else []
    if rerun_script(AREA, options, failed_directions, "--direction", retries=args.retries):
        failed = 0
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
