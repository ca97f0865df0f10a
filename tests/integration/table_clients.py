#!/usr/bin/env python3
"""socketmap:, tcp: and the other client tables: ours versus the reference.

    tests/integration/table_clients.py OURS_BIN [REFERENCE_CACHE] [-k SUBSTRING]

Starts scriptable peers on loopback (tables_peer.py beside this file: a
socketmap server on a TCP port and on a UNIX socket, a tcp_table server),
then runs every case below with the reference's postmap and with ours, in the
same empty config directory, against the same servers, and compares exit
status, stdout and the sorted stderr lines. Readiness of the peers is waited
for on their ready files (bounded), never slept for. Cases run a few at a
time; slow ones (tcp: retries ten times a second apart; proxy: without a
proxymap service waits about 100 s) start first, beside the others.

Prints "table-clients: N cases, N identical" and the differences; exit 0
only when every case is identical. Exit 77 (ctest: skipped) when the
reference is missing (compat-suite/fetch-reference.sh fetches it).
"""
import concurrent.futures
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TIMING = bool(os.environ.get("TABLE_CLIENTS_TIMING"))   # each case's seconds on stderr

SOCKETMAP_RULES = r"""
found	reply OK value one
nf	reply NOTFOUND 
temp	reply TEMP server busy
tempnr	reply TEMP
tempsp	reply TEMP    spaces first
timeout	reply TIMEOUT slow db
perm	reply PERM bad config
permnr	reply PERM
weird	reply HUH what
lower	reply ok value
okonly	reply OK
okempty	reply OK 
oknul	reply OK before\0after
okspaces	reply OK   three spaces
okutf8	reply OK caf\xc3\xa9
ok8bit	reply OK a\xffb
okctl	reply OK a\x01b\tc
nfjunk	reply NOTFOUND junk after
emptyreply	reply 
nospace	reply OKvalue
echo	echo
count	count
close	close
badlen	raw x:abc,
badterm	raw 3:abc;
neglen	raw -1:abc,
shortns	rawclose 5:abc,
noterm	rawclose 3:abc
lenonly	rawclose 12
big	big 100001
big2	big 99997
big3	big 99998
closeafter	closeafter OK first
ctl	reply TEMP a\x01b\xffc
longreason	reply TEMP xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx
utf8reason	reply PERM caf\xc3\xa9 down
UPPER	reply OK upper-case key
"""

TCP_RULES = r"""
found	reply 200 value%20one
nf	reply 500 nope
nfbare	reply 500 
temp	reply 400 busy
bad	reply 600 what
bad1	reply 100 info
bad3	reply 300 redirect
mal	reply 20x oops
mal2	reply 200value
mal3	reply 200
mal4	reply 2000 x
malctl	reply 20\x01 bad
tab	reply 200\tvalue%20after%20tab
badhex	reply 200 a%zzb
badhex2	reply 200 abc%4
badhex3	reply 200 abc%
ctl	reply 200 a%01b%FFc
nulval	reply 200 a%00b
crlf	reply 200 value\r
echo	echo
count	count
close	close
big	big 4093
big2	big 4092
big3	big 4091
big4	big 3000
closeafter	closeafter 200 first
rawnonl	rawclose 200 partial
empty	reply 200 
lower	reply 200 %2a%2A%41
utf8	reply 200 caf%C3%A9
utf8raw	reply 200 caf\xc3\xa9
spaces	reply 200 a b  c
malutf8	reply 2x0 caf\xc3\xa9\xff
UPPER	reply 200 upper-case key
"""

CASES = []


SLOW = set()
JOBS = 8   # cases at once besides the slow ones: most of their time is sleep (a fatal error sleeps 1 s)


def case(name, *args, stdin=None, config="config", setup=None, slow=False):
    """setup: memcache entries {key: value or None} stored (or deleted)
    before each side runs; such a case runs its sides one after the other.
    slow: the case waits (retries a second or more apart) for most of its
    time; slow cases start first, each on a thread of its own."""
    CASES.append((name, list(args), stdin, config, setup))
    if slow:
        SLOW.add(name)


def build_cases():
    sm = "socketmap:inet:127.0.0.1:{SM}:map"
    smu = "socketmap:unix:{SMU}:map"
    tcp = "tcp:127.0.0.1:{TCP}"
    # socketmap replies, over TCP and over a UNIX socket
    for key in ("found", "nf", "unknownkey", "temp", "tempnr", "tempsp", "timeout", "perm", "permnr", "weird",
                "lower", "okonly", "okempty", "oknul", "okspaces", "okutf8", "ok8bit", "okctl", "nfjunk",
                "emptyreply", "nospace", "echo", "count", "close", "badlen", "badterm", "neglen", "shortns",
                "noterm", "lenonly", "big", "ctl", "longreason", "utf8reason", "UPPER", "upper"):
        case(f"socketmap-{key}", "postmap", "-q", key, sm)
    for key in ("found", "nf", "temp", "perm", "echo", "count", "close", "badterm", "okutf8"):
        case(f"socketmap-unix-{key}", "postmap", "-q", key, smu)
        case(f"socketmap-local-{key}", "postmap", "-q", key, "socketmap:local:{SMU}:map")
    case("socketmap-big2", "postmap", "-q", "big2", sm)
    case("socketmap-big3", "postmap", "-q", "big3", sm)
    # keys of every shape, as the server receives them (echo)
    case("socketmap-echo-empty-mapname", "postmap", "-q", "echo", "socketmap:inet:127.0.0.1:{SM}:")
    case("socketmap-echo-mapname-colons", "postmap", "-q", "echo", "socketmap:inet:127.0.0.1:{SM}:a:b")
    case("socketmap-f-upper", "postmap", "-f", "-q", "UPPER", sm)
    # connection reuse and a server that went away between two requests
    case("socketmap-batch-reuse", "postmap", "-q", "-", sm, stdin=b"count\ncount\nfound\nnf\ncount\n")
    case("socketmap-batch-closeafter", "postmap", "-q", "-", sm, stdin=b"closeafter\ncount\ncount\n")
    case("socketmap-batch-unix", "postmap", "-q", "-", smu, stdin=b"count\nfound\ncount\n")
    case("socketmap-batch-then-temp", "postmap", "-q", "-", sm, stdin=b"count\ntemp\ncount\n")
    case("socketmap-batch-then-perm", "postmap", "-q", "-", sm, stdin=b"found\nperm\n")
    case("socketmap-batch-close", "postmap", "-q", "-", sm, stdin=b"count\nclose\n")
    case("socketmap-two-tables-share", "postmap", "-q", "-", sm, "socketmap:inet:127.0.0.1:{SM}:other",
         stdin=b"count\nnf\n")
    case("socketmap-two-tables-second", "postmap", "-q", "nf", sm, "socketmap:inet:127.0.0.1:{SM}:other")
    # dead servers and bad names
    case("socketmap-dead-inet", "postmap", "-q", "k", "socketmap:inet:127.0.0.1:{DEAD}:map")
    case("socketmap-dead-unix", "postmap", "-q", "k", "socketmap:unix:/nonexistent/sock:map")
    case("socketmap-dead-localhost", "postmap", "-q", "k", "socketmap:inet:localhost:{DEAD}:map")
    case("socketmap-no-port", "postmap", "-q", "k", "socketmap:inet:127.0.0.1:map")
    case("socketmap-no-colon", "postmap", "-q", "k", "socketmap:map")
    case("socketmap-bad-transport", "postmap", "-q", "k", "socketmap:foo:bar:map")
    case("socketmap-no-endpoint", "postmap", "-q", "k", "socketmap:inet::map")
    case("socketmap-bad-host", "postmap", "-q", "k", "socketmap:inet:bad!host:25:map")
    case("socketmap-bracket-host", "postmap", "-q", "found", "socketmap:inet:[127.0.0.1]:{SM}:map")
    case("socketmap-bad-bracket", "postmap", "-q", "k", "socketmap:inet:[127.0.0.1:{SM}:map")
    case("socketmap-numeric-garbage", "postmap", "-q", "k", "socketmap:inet:127.0.0.1:12x:map")
    case("socketmap-unknown-host", "postmap", "-q", "k", "socketmap:inet:nosuchhost.invalid:25:map")
    case("socketmap-unknown-service", "postmap", "-q", "k", "socketmap:inet:127.0.0.1:nosuchservice:map")
    case("socketmap-sequence", "postmap", "-s", sm)
    case("socketmap-delete", "postmap", "-d", "k", sm)
    case("socketmap-build", "postmap", sm)
    # tcp: replies
    for key in ("found", "nf", "nfbare", "unknownkey", "temp", "bad", "bad1", "bad3", "mal", "mal2", "mal3", "mal4",
                "malctl", "tab", "badhex", "badhex2", "badhex3", "ctl", "nulval", "crlf", "echo", "count", "empty",
                "lower", "utf8", "utf8raw", "spaces", "malutf8", "UPPER", "upper", "big3", "big4"):
        case(f"tcp-{key}", "postmap", "-q", key, tcp)
    # keys of every shape, as the tcp server receives them (echo of the quoted key)
    for label, key in (("space", "a b"), ("percent", "100%"), ("tab", "a\tb"), ("utf8", "caf\u00e9"),
                       ("latin1", b"caf\xe9"), ("ctl", b"a\x01b"), ("quote", "a\"b'c"), ("colon", "a:b@c"),
                       ("plus", "a+b=c&d"), ("long", "k" * 3000), ("del", b"a\x7fb")):
        if isinstance(key, str):
            key = key.encode()
        case(f"tcp-key-{label}", "postmap", "-q", "-", "tcp:127.0.0.1:{TCPECHO}", stdin=key + b"\n")
        case(f"socketmap-key-{label}", "postmap", "-q", "-", "socketmap:inet:127.0.0.1:{SMECHO}:m", stdin=key + b"\n")
    # with SMTPUTF8 on: keys and values must be UTF-8
    for label, key in (("utf8", "caf\u00e9"), ("latin1", b"caf\xe9"), ("upper-utf8", "CAF\u00c9")):
        if isinstance(key, str):
            key = key.encode()
        case(f"tcp-utf8on-{label}", "postmap", "-q", "-", "tcp:127.0.0.1:{TCPECHO}", stdin=key + b"\n",
             config="config-utf8")
        case(f"socketmap-utf8on-{label}", "postmap", "-q", "-", "socketmap:inet:127.0.0.1:{SMECHO}:m",
             stdin=key + b"\n", config="config-utf8")
    for key in ("okutf8", "ok8bit", "utf8reason", "ctl"):
        case(f"socketmap-utf8on-{key}", "postmap", "-q", key, sm, config="config-utf8")
    for key in ("utf8", "utf8raw", "ctl", "malutf8"):
        case(f"tcp-utf8on-{key}", "postmap", "-q", key, tcp, config="config-utf8")
    case("tcp-batch-reuse", "postmap", "-q", "-", tcp, stdin=b"count\ncount\nfound\nnf\ncount\n")
    case("tcp-batch-after-400", "postmap", "-q", "-", tcp, stdin=b"count\ntemp\n")
    case("tcp-batch-closeafter", "postmap", "-q", "-", tcp, stdin=b"closeafter\ncount\n")
    case("tcp-f-upper", "postmap", "-f", "-q", "UPPER", tcp)
    case("tcp-sequence", "postmap", "-s", tcp)
    case("tcp-delete", "postmap", "-d", "k", tcp)
    case("tcp-build", "postmap", tcp)
    case("tcp-no-port", "postmap", "-q", "k", "tcp:127.0.0.1")
    case("tcp-bad-host", "postmap", "-q", "k", "tcp:bad!host:25")
    # slow ones: ten attempts a second apart
    case("tcp-dead", "postmap", "-q", "k", "tcp:127.0.0.1:{DEAD}", slow=True)
    case("tcp-close", "postmap", "-q", "close", tcp, slow=True)
    case("tcp-big", "postmap", "-q", "big", tcp, slow=True)
    case("tcp-big2", "postmap", "-q", "big2", tcp, slow=True)
    case("tcp-rawnonl", "postmap", "-q", "rawnonl", tcp, slow=True)
    # unix:, internal:, nis:
    for key in ("root", "ROOT", "postfix", "nosuchuser", "", "daemon"):
        case(f"unix-passwd-{key or 'empty'}", "postmap", "-q", key, "unix:passwd.byname")
    for key in ("root", "postdrop", "postfix", "nosuchgroup", "ROOT", "adm"):
        case(f"unix-group-{key}", "postmap", "-q", key, "unix:group.byname")
    case("unix-batch", "postmap", "-q", "-", "unix:passwd.byname", "unix:group.byname",
         stdin=b"root\npostdrop\nnosuch\nnobody\n")
    case("unix-f", "postmap", "-f", "-q", "ROOT", "unix:passwd.byname")
    case("unix-unknown", "postmap", "-q", "root", "unix:foo")
    case("unix-sequence", "postmap", "-s", "unix:passwd.byname")
    case("unix-delete", "postmap", "-d", "root", "unix:passwd.byname")
    case("internal-query", "postmap", "-q", "k", "internal:x")
    case("internal-sequence", "postmap", "-s", "internal:x")
    case("internal-delete", "postmap", "-d", "k", "internal:x")
    case("internal-batch", "postmap", "-q", "-", "internal:x", stdin=b"a\nb\n")
    case("nis-query", "postmap", "-q", "k", "nis:mail.aliases")
    case("nis-batch", "postmap", "-q", "-", "nis:mail.aliases", "nis:other", stdin=b"a\nb\n")
    case("nis-sequence", "postmap", "-s", "nis:x")
    case("nis-delete", "postmap", "-d", "k", "nis:x")
    # memcache: configuration and a server that is not there
    case("memcache-missing-file", "postmap", "-q", "k", "memcache:{DIR}/nonexistent.cf")
    case("memcache-dead", "postmap", "-q", "k", "memcache:{DIR}/mc-dead.cf")
    case("memcache-dead-backup", "postmap", "-q", "a", "memcache:{DIR}/mc-backup.cf")
    case("memcache-bad-number", "postmap", "-q", "k", "memcache:{DIR}/mc-badnum.cf")
    case("memcache-bad-transport", "postmap", "-q", "k", "memcache:{DIR}/mc-badtransport.cf")
    case("memcache-empty-key", "postmap", "-q", "", "memcache:{DIR}/mc-dead.cf")
    case("memcache-space-key", "postmap", "-q", "a b", "memcache:{DIR}/mc-dead.cf")
    case("memcache-domain-mismatch", "postmap", "-q", "u@other.example", "memcache:{DIR}/mc-domain.cf")
    case("memcache-sequence-nobackup", "postmap", "-s", "memcache:{DIR}/mc-dead.cf")
    case("memcache-sequence-backup", "postmap", "-s", "memcache:{DIR}/mc-backup1.cf")
    # memcache: against a real memcached (skipped when it is not installed)
    if shutil.which("memcached") or os.path.exists("/usr/bin/memcached"):
        mc = "memcache:{DIR}/mc.cf"
        base = {"alice": "alice-value", "bob": None, "big": "x" * 20000, "mixed": "lower-case entry",
                "UPPERKEY": "stored upper", "user@example.com": "full address", "user": "local part",
                "example.com": "domain part", "empty": "", "utf8": "caf\u00e9", "spaced": "a b  c",
                "a": None, "zz": None, "c": None}
        for key in ("alice", "bob", "big", "mixed", "MIXED", "UPPERKEY", "upperkey", "empty", "utf8", "spaced",
                    "missing"):
            case(f"memcached-{key}", "postmap", "-q", key, mc, setup=base)
        case("memcached-f", "postmap", "-f", "-q", "UPPERKEY", mc, setup=base)
        case("memcached-batch", "postmap", "-q", "-", mc, stdin=b"alice\nbob\nmixed\nmissing\n", setup=base)
        case("memcached-keyformat-u", "postmap", "-q", "user@example.com", "memcache:{DIR}/mc-user.cf", setup=base)
        case("memcached-keyformat-d", "postmap", "-q", "user@example.com", "memcache:{DIR}/mc-dom.cf", setup=base)
        case("memcached-keyformat-d-nodomain", "postmap", "-q", "user", "memcache:{DIR}/mc-dom.cf", setup=base)
        case("memcached-domain-match", "postmap", "-q", "user@example.com", "memcache:{DIR}/mc-domain-live.cf",
             setup=base)
        case("memcached-backup-hit", "postmap", "-q", "a", "memcache:{DIR}/mc-live-backup.cf", setup=base)
        case("memcached-backup-then-cache", "postmap", "-q", "-", "memcache:{DIR}/mc-live-backup.cf",
             stdin=b"a\na\nc\n", setup=base)
        case("memcached-backup-miss", "postmap", "-q", "zz", "memcache:{DIR}/mc-live-backup.cf", setup=base)
        # (a walk of a longer backup comes out in the reference's hash-table order)
        case("memcached-backup-sequence", "postmap", "-s", "memcache:{DIR}/mc-small-backup.cf", setup=base)
        case("memcached-too-big", "postmap", "-q", "big", "memcache:{DIR}/mc-small.cf", setup=base)
        case("memcached-small-backup", "postmap", "-q", "a", "memcache:{DIR}/mc-small-backup.cf", setup=base)
        case("memcached-delete", "postmap", "-d", "alice", mc, setup=base)
        case("memcached-delete-missing", "postmap", "-d", "bob", mc, setup=base)
        case("memcached-delete-backup", "postmap", "-d", "a", "memcache:{DIR}/mc-live-backup.cf", setup=base)
    # proxy: without a proxymap service (each side waits ~100 s, in parallel)
    case("proxy-no-service", "postmap", "-q", "k", "proxy:unix:passwd.byname", config="config-proxy", slow=True)
    case("proxy-not-a-socket", "postmap", "-q", "k", "proxy:hash:/etc/aliases", config="config-proxy-file",
         slow=True)


MEMCACHE_FILES = {
    "mc-dead.cf": "memcache = inet:127.0.0.1:{DEAD}\n",
    "mc-backup.cf": "memcache = inet:127.0.0.1:{DEAD}\nbackup = inline:{{a=1, b=2}}\n",
    "mc-backup1.cf": "memcache = inet:127.0.0.1:{DEAD}\nbackup = inline:{{a=1}}\n",
    "mc-badnum.cf": "memcache = inet:127.0.0.1:{DEAD}\nmax_try = x\n",
    "mc-badtransport.cf": "memcache = foo:bar\n",
    "mc-domain.cf": "memcache = inet:127.0.0.1:{DEAD}\ndomain = example.com\n",
    "mc.cf": "memcache = inet:127.0.0.1:{MC}\n",
    "mc-user.cf": "memcache = inet:127.0.0.1:{MC}\nkey_format = %u\n",
    "mc-dom.cf": "memcache = inet:127.0.0.1:{MC}\nkey_format = %d\n",
    "mc-domain-live.cf": "memcache = inet:127.0.0.1:{MC}\ndomain = example.com\n",
    "mc-live-backup.cf": "memcache = inet:127.0.0.1:{MC}\nbackup = inline:{{a=1, b=2, c=3}}\n",
    "mc-small.cf": "memcache = inet:127.0.0.1:{MC}\ndata_size_limit = 100\n",
    "mc-small-backup.cf": "memcache = inet:127.0.0.1:{MC}\ndata_size_limit = 1\nbackup = inline:{{a=long}}\n",
}


def memcached_call(port, lines):
    """Sends raw memcached commands; returns the replies (test setup)."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(lines)
        s.shutdown(socket.SHUT_WR)
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                return data
            data += chunk


def memcached_setup(port, entries):
    out = b""
    for key, value in entries.items():
        k = key.encode()
        if value is None:
            out += b"delete " + k + b"\r\n"
        else:
            v = value.encode()
            out += b"set " + k + b" 0 0 " + str(len(v)).encode() + b"\r\n" + v + b"\r\n"
    memcached_call(port, out)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def listening(proc, port, timeout=20):
    """Whether proc listens on port within timeout seconds (False at once
    when it exits)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return True
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                return False
            time.sleep(0.05)


def start_peer(tmp, proto, listen, rules, tag):
    script = os.path.join(tmp, tag + ".rules")
    with open(script, "w", encoding="utf-8") as f:
        f.write(rules.lstrip("\n"))
    ready = os.path.join(tmp, tag + ".ready")
    proc = subprocess.Popen([sys.executable, os.path.join(HERE, "tables_peer.py"), "--proto", proto, "--listen", listen,
                             "--script", script, "--ready", ready], stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 20
    while not os.path.exists(ready):
        if proc.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"peer {tag} did not start")
        time.sleep(0.05)
    with open(ready) as f:
        return proc, int(f.read().split()[1])


def run_side(binary, env, argv, stdin, config, subst):
    out_args = []
    for a in argv:
        for k, v in subst.items():
            a = a.replace("{" + k + "}", v)
        out_args.append(a)
    full = [out_args[0], "-c", config] + out_args[1:]
    try:
        p = subprocess.run(full, executable=binary, input=stdin if stdin is not None else b"", capture_output=True,
                           env=env, cwd=config, timeout=200)
        status = f"exit {p.returncode}"
        out, err = p.stdout, p.stderr
    except subprocess.TimeoutExpired as e:
        status, out, err = "timeout", e.stdout or b"", e.stderr or b""
    err_lines = sorted(err.split(b"\n")[:-1] if err.endswith(b"\n") else err.split(b"\n"))
    return status, out, err_lines


def main():
    args = sys.argv[1:]
    only = None
    if "-k" in args:
        i = args.index("-k")
        only = args[i + 1]
        del args[i:i + 2]
    if not args:
        raise SystemExit(__doc__)
    ours = os.path.abspath(args[0])
    ref = os.path.abspath(args[1] if len(args) > 1 else os.path.join(HERE, "..", "..", "compat-suite", ".cache",
                                                                       "reference"))
    ref_postmap = os.path.join(ref, "usr", "sbin", "postmap")
    if not os.access(ref_postmap, os.X_OK):
        print(f"SKIP: no reference at {ref}")
        return 77
    if not os.access(os.path.join(ours, "postmap"), os.X_OK):
        print(f"no postmap in {ours}")
        return 2
    build_cases()
    tmp = tempfile.mkdtemp(prefix="pf-table-clients.")
    peers = []
    peers_sockets = []
    try:
        config = os.path.join(tmp, "config")
        os.mkdir(config)
        with open(os.path.join(config, "main.cf"), "w") as f:
            f.write("")
        os.utime(os.path.join(config, "main.cf"), (1577836800, 1577836800))
        smu_path = os.path.join(tmp, "sm.sock")
        p1, sm_port = start_peer(tmp, "socketmap", "inet:127.0.0.1:0", SOCKETMAP_RULES, "sm")
        p2, _ = start_peer(tmp, "socketmap", "unix:" + smu_path, SOCKETMAP_RULES, "smu")
        p3, tcp_port = start_peer(tmp, "tcp", "inet:127.0.0.1:0", TCP_RULES, "tcp")
        echo_rules = "".join(f"{k}\techo\n" for k in ("a b", "100%", "a\\tb", "caf\u00e9", "caf\\xe9", "a\\x01b",
                                                       "a\"b'c", "a:b@c", "a+b=c&d", "k" * 3000, "a\\x7fb"))
        p4, sme_port = start_peer(tmp, "socketmap", "inet:127.0.0.1:0", echo_rules, "sme")
        p5, tcpe_port = start_peer(tmp, "tcp", "inet:127.0.0.1:0", echo_rules, "tcpe")
        peers += [p1, p2, p3, p4, p5]
        mc_port = free_port()
        memcached = shutil.which("memcached") or "/usr/bin/memcached"
        # A free port is free only until someone binds it (tests beside this
        # one pick ports too): a memcached that exits at once gets another.
        for attempt in range(3) if os.path.exists(memcached) else ():
            if attempt:
                mc_port = free_port()
            mc_proc = subprocess.Popen([memcached, "-u", "root", "-l", "127.0.0.1", "-p", str(mc_port), "-U", "0",
                                        "-m", "16"], stderr=subprocess.DEVNULL)
            peers.append(mc_proc)
            if listening(mc_proc, mc_port):
                break
            if mc_proc.poll() is None or attempt == 2:
                raise SystemExit("memcached did not start")
        for name, text in (("config-utf8", "smtputf8_enable = yes\n"),
                           ("config-proxy", "queue_directory = {DIR}/queue\n"),
                           ("config-proxy-file", "queue_directory = {DIR}/queue2\n")):
            d = os.path.join(tmp, name)
            os.mkdir(d)
            with open(os.path.join(d, "main.cf"), "w") as f:
                f.write(text.replace("{DIR}", tmp))
            os.utime(os.path.join(d, "main.cf"), (1577836800, 1577836800))
        os.makedirs(os.path.join(tmp, "queue2", "private"))
        open(os.path.join(tmp, "queue2", "private", "proxymap"), "w").close()
        # The dead port stays bound, never listening, for the whole run: no
        # other test's listener can take it, connections to it are refused.
        dead = socket.socket()
        dead.bind(("127.0.0.1", 0))
        peers_sockets.append(dead)
        subst = {"MC": str(mc_port), "SM": str(sm_port), "SMU": smu_path, "TCP": str(tcp_port),
                 "DEAD": str(dead.getsockname()[1]),
                 "SMECHO": str(sme_port), "TCPECHO": str(tcpe_port), "DIR": tmp}
        for name, text in MEMCACHE_FILES.items():
            with open(os.path.join(tmp, name), "w") as f:
                f.write(text.replace("{DEAD}", subst["DEAD"]).replace("{MC}", subst["MC"])
                        .replace("{{", "{").replace("}}", "}"))
        base_env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C", "LC_ALL": "C", "TZ": "UTC"}
        ref_env = dict(base_env, LD_LIBRARY_PATH=os.path.join(ref, "usr", "lib", "postfix"))
        selected = [c for c in CASES if only is None or only in c[0]]

        def one(c):
            started = time.monotonic()
            result = one_case(c)
            if TIMING:
                print(f"case {c[0]}: {time.monotonic() - started:.1f}s", file=sys.stderr)
            return result

        def one_case(c):
            name, argv, stdin, conf, setup = c
            conf_dir = os.path.join(tmp, conf)
            if setup is not None:
                memcached_setup(mc_port, setup)
                r = run_side(ref_postmap, ref_env, argv, stdin, conf_dir, subst)
                memcached_setup(mc_port, setup)
                o = run_side(os.path.join(ours, "postmap"), base_env, argv, stdin, conf_dir, subst)
                return name, r, o
            with concurrent.futures.ThreadPoolExecutor(max_workers=2) as sides:
                fr = sides.submit(run_side, ref_postmap, ref_env, argv, stdin, conf_dir, subst)
                fo = sides.submit(run_side, os.path.join(ours, "postmap"), base_env, argv, stdin, conf_dir, subst)
                return name, fr.result(), fo.result()

        same = 0
        failed = []
        # Cases that set memcached entries run one at a time, beside the
        # rest; the slow ones (the proxy: cases wait about 100 s) start
        # first, each on a thread of its own, so that the others run while
        # they wait.
        # (Results are kept by position: two cases may share a name.)
        serial = [i for i, c in enumerate(selected) if c[4] is not None]
        slow = [i for i, c in enumerate(selected) if c[4] is None and c[0] in SLOW]
        rest = [i for i, c in enumerate(selected) if c[4] is None and c[0] not in SLOW]
        with concurrent.futures.ThreadPoolExecutor(max_workers=len(slow) + 1) as waiting, \
                concurrent.futures.ThreadPoolExecutor(max_workers=JOBS) as pool:
            serial_results = waiting.submit(lambda: [one(selected[i]) for i in serial])
            slow_results = [waiting.submit(one, selected[i]) for i in slow]
            results = dict(zip(rest, pool.map(lambda i: one(selected[i]), rest)))
            results.update(zip(slow, (f.result() for f in slow_results)))
            results.update(zip(serial, serial_results.result()))
        for i in range(len(selected)):
            name, r, o = results[i]
            if r == o:
                same += 1
            else:
                failed.append((name, r, o))
        for name, r, o in failed:
            print(f"DIFF {name}")
            for label, side in (("reference", r), ("ours", o)):
                print(f"  {label}: {side[0]}")
                for line in side[1].split(b"\n")[:5]:
                    if line:
                        print("    out|", line[:300].decode("utf-8", "backslashreplace"))
                for line in side[2]:
                    print("    err|", line[:300].decode("utf-8", "backslashreplace"))
        print(f"table-clients: {len(selected)} cases, {same} identical")
        return 0 if same == len(selected) else 1
    finally:
        for sock in peers_sockets:
            sock.close()
        for p in peers:
            p.terminate()
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
