#!/bin/bash
# Regenerates every queue-file fixture of the compat area "queue-files" from
# the live reference (Postfix 3.7.11 unpacked by fetch-reference.sh): runs a
# private reference instance (master as root, loopback only, its own queue
# directory under /tmp), feeds it mail through the reference's sendmail and
# smtpd, lets it write queue files, and copies them to files/. Damaged
# variants are derived from those files by this script only (truncation,
# flipped bytes), never by hand.
#
# Usage: compat-suite/queue-fixtures/make-fixtures.sh [REFERENCE_CACHE]
# Needs root (master), the users/groups postfix and postdrop, python3.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
REF=$(cd "${1:-$HERE/../.cache/reference}" && pwd)
OUT=$HERE/files
SBIN=$REF/usr/sbin
LIBEXEC=$REF/usr/lib/postfix/sbin
export LD_LIBRARY_PATH=$REF/usr/lib/postfix
export TZ=UTC LANG=C LC_ALL=C
W=$(mktemp -d /tmp/queue-fixtures-XXXXXX)
chmod 0755 "$W"
MASTER_PID=
SMTP_PORT=${QUEUE_FIXTURE_PORT:-24025}

cleanup() {
    stop_master || true
    rm -rf "$W"
}
trap cleanup EXIT
[ -n "${KEEP:-}" ] && trap "stop_master" EXIT

# instance NAME: a fresh config and queue directory; main.cf extras on stdin.
instance() {
    ETC=$W/$1/etc
    Q=$W/$1/spool
    mkdir -p "$ETC" "$Q" "$W/$1/data"
    for d in incoming active deferred hold corrupt bounce defer trace flush saved private; do
        mkdir -p "$Q/$d"; chown postfix "$Q/$d"; chmod 0700 "$Q/$d"
    done
    mkdir -p "$Q/maildrop" "$Q/public" "$Q/pid"
    chown postfix:postdrop "$Q/maildrop" "$Q/public"
    chmod 1730 "$Q/maildrop"; chmod 0710 "$Q/public"
    chown postfix "$W/$1/data"
    cat > "$ETC/main.cf" <<CF
compatibility_level = 3.6
queue_directory = $Q
data_directory = $W/$1/data
daemon_directory = $LIBEXEC
command_directory = $SBIN
meta_directory = $REF/etc/postfix
shlib_directory = $REF/usr/lib/postfix
mail_owner = postfix
setgid_group = postdrop
myhostname = mx.example.test
mydomain = example.test
myorigin = example.test
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
maillog_file = $W/$1/maillog
maillog_file_prefixes = /tmp
smtputf8_enable = no
biff = no
CF
    cat >> "$ETC/main.cf"
    touch -d '2020-01-01' "$ETC/main.cf"
}

# services LIST: master.cf with the named services (all unprivileged, no chroot).
services() {
    {
        for s in "$@"; do
            case $s in
                smtpd) echo "127.0.0.1:$SMTP_PORT inet n - n - - smtpd" ;;
                postlog) echo "postlog unix-dgram n - n - 1 postlogd" ;;
                pickup) echo "pickup unix n - n 60 1 pickup" ;;
                qmgr) echo "qmgr unix n - n 300 1 qmgr" ;;
                rewrite) echo "rewrite unix - - n - - trivial-rewrite" ;;
                bounce|defer|trace) echo "$s unix - - n - 0 bounce" ;;
                error|retry) echo "$s unix - - n - - error" ;;
                cleanup) echo "cleanup unix n - n - 0 cleanup" ;;
                proxymap) echo "proxymap unix - - n - - proxymap" ;;
                *) echo "$s unix - - n - - $s" ;;
            esac
        done
    } > "$ETC/master.cf"
    touch -d '2020-01-01' "$ETC/master.cf"
}

start_master() {
    "$LIBEXEC/master" -c "$ETC" -d &
    MASTER_PID=$!
    # Wait (bounded) until master has made its sockets.
    for _ in $(seq 100); do
        [ -e "$Q/public/pickup" ] || [ -e "$Q/private/cleanup" ] && break
        sleep 0.1
    done
}

stop_master() {
    if [ -n "$MASTER_PID" ]; then
        kill -TERM "$MASTER_PID" 2>/dev/null || true
        wait "$MASTER_PID" 2>/dev/null || true
        MASTER_PID=
    fi
}

# wait_files DIR COUNT [PERM]: until COUNT complete (mode 0700) files are under DIR.
wait_files() {
    for _ in $(seq 300); do
        n=$(find "$1" -type f -perm "${3:--0700}" | wc -l)
        [ "$n" -ge "$2" ] && return 0
        sleep 0.1
    done
    echo "timeout waiting for $2 files in $1 (have $n)" >&2
    ls -lR "$W" >&2; cat "$W"/*/maillog >&2 || true
    return 1
}

send() { MAIL_CONFIG=$ETC "$SBIN/sendmail" "$@"; }

# save DIR NAME: the only file in DIR whose content matches GREP, as NAME.
save() {
    local f
    f=$(grep -l -a -- "$3" $(find "$1" -type f) | sed -n 1p)
    [ -n "$f" ] || { echo "no file in $1 with $3" >&2; exit 1; }
    cp "$f" "$OUT/$2"
    echo "$2 <- ${f#$W/}"
}

rm -rf "$OUT"
mkdir -p "$OUT"

# ---- maildrop: files as postdrop writes them (no pickup running) ----
instance maildrop </dev/null
services postlog cleanup rewrite
start_master
printf 'Subject: maildrop simple\n\nhello from maildrop\n' | send -f alice@example.test bob@example.net
printf 'Subject: maildrop dsn\nFrom: Alice <alice@example.test>\n\nbody line\n\n  indented\n' |
    send -F 'Alice Example' -N success,delay -R hdrs -V env-maildrop-1 -f alice@example.test bob@example.net carol@example.org
wait_files "$Q/maildrop" 2
save "$Q/maildrop" maildrop-simple 'maildrop simple'
save "$Q/maildrop" maildrop-dsn 'maildrop dsn'
stop_master

# ---- incoming / hold: cleanup output, no qmgr ----
instance incoming <<CF
delay_warning_time = 4h
virtual_alias_maps = inline:{ {alias@example.net=one@example.org,two@example.org} }
header_checks = regexp:$W/incoming/etc/header_checks
smtpd_recipient_restrictions = permit_mynetworks, reject
smtpd_relay_restrictions = permit_mynetworks, reject
smtpd_reject_unlisted_recipient = no
local_recipient_maps =
smtpd_client_restrictions =
mynetworks = 127.0.0.0/8
CF
cat > "$ETC/header_checks" <<'HC'
/^Subject: hold/ HOLD held by test
/^Subject: filter/ FILTER smtp:[127.0.0.1]:10025
/^Subject: redirect/ REDIRECT elsewhere@example.org
/^Subject: prepend/ PREPEND X-Prepended: yes
HC
services postlog pickup cleanup rewrite smtpd proxymap
start_master
printf 'Subject: simple\n\nhello\n' | send -f alice@example.test bob@example.net
{
    printf 'Subject: long lines\nX-Long: %s\n\n' "$(head -c 3000 /dev/zero | tr '\0' h)"
    head -c 5000 /dev/zero | tr '\0' b; printf '\n'
    head -c 130 /dev/zero | tr '\0' c; printf '\n'
    head -c 20000 /dev/zero | tr '\0' d; printf '\nend\n'
} | send -f alice@example.test bob@example.net
printf 'Subject: eight bit \xe9t\xe9\nContent-Type: text/plain; charset=latin1\n\ncaf\xe9 cr\xe8me \xff\xfe\n' |
    send -f alice@example.test bob@example.net
rcpts=$(for i in $(seq 1 60); do printf 'user%02d@example.net ' "$i"; done)
printf 'Subject: many recipients\n\nto many\n' | send -f alice@example.test $rcpts
printf 'Subject: dsn options\n\ndsn\n' |
    send -F 'Alice Q. Example' -XV -N success,delay,failure -R hdrs -V env-incoming-1 -f alice@example.test bob@example.net
printf 'Subject: alias expansion\n\nto an alias\n' | send -f alice@example.test alias@example.net
printf 'Subject: hold me\n\nheld\n' | send -f alice@example.test bob@example.net
printf 'Subject: filter me\n\nfiltered\n' | send -f alice@example.test bob@example.net
printf 'Subject: redirect me\n\nredirected\n' | send -f alice@example.test bob@example.net
printf 'Subject: prepend me\nReturn-Receipt-To: rr@example.test\nErrors-To: errors@example.test\n\nprepended\n' |
    send -f alice@example.test bob@example.net
printf 'no header here, body only\n\n  second paragraph\n' | send -f '' bob@example.net
printf 'Subject: empty body\n' | send -f alice@example.test bob@example.net
printf 'Subject: mime\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="XX"\n\n--XX\nContent-Type: text/plain\n\npart one\n--XX\nContent-Type: application/octet-stream\nContent-Transfer-Encoding: base64\n\nAAECAwQF\n--XX--\n' |
    send -f alice@example.test bob@example.net
python3 - "$SMTP_PORT" <<'PY'
import smtplib, sys
s = smtplib.SMTP("127.0.0.1", int(sys.argv[1]), local_hostname="client.example.test")
s.ehlo("client.example.test")
s.mail("alice@example.test", ["RET=FULL", "ENVID=smtp-env-1", "BODY=8BITMIME"])
s.rcpt("bob@example.net", ["NOTIFY=SUCCESS,FAILURE", "ORCPT=rfc822;orig-bob@example.net"])
s.rcpt("carol@example.org", ["NOTIFY=NEVER"])
s.rcpt("alias@example.net", ["ORCPT=rfc822;list@example.net"])
s.data(b"Subject: via smtp\r\nFrom: alice@example.test\r\n\r\nsmtp body \xe9\r\n.dot line\r\n")
s.quit()
PY
wait_files "$Q/incoming" 13
wait_files "$Q/hold" 1
save "$Q/incoming" incoming-simple 'Subject: simple'
save "$Q/incoming" incoming-long-lines 'Subject: long lines'
save "$Q/incoming" incoming-8bit 'Subject: eight bit'
save "$Q/incoming" incoming-many-rcpts 'Subject: many recipients'
save "$Q/incoming" incoming-dsn 'Subject: dsn options'
save "$Q/incoming" incoming-alias 'Subject: alias expansion'
save "$Q/hold" hold-simple 'Subject: hold me'
save "$Q/incoming" incoming-filter 'Subject: filter me'
save "$Q/incoming" incoming-redirect 'Subject: redirect me'
save "$Q/incoming" incoming-prepend 'Subject: prepend me'
save "$Q/incoming" incoming-no-header 'body only'
save "$Q/incoming" incoming-empty-body 'Subject: empty body'
save "$Q/incoming" incoming-mime 'Subject: mime'
save "$Q/incoming" incoming-smtp 'Subject: via smtp'
stop_master
cp "$W/incoming/maillog" "$W/incoming.log"

# ---- deferred: qmgr delivers one recipient (marked done), defers the rest ----
deferred_phase() {
    local name=$1
    instance "$name"
    services postlog pickup cleanup rewrite qmgr retry discard error bounce defer trace
    start_master
    printf 'Subject: deferred done\n\none delivered, one deferred\n' |
        send -f alice@example.test ok@done.example later@later.example
    printf 'Subject: deferred only\n\nall deferred\n' | send -f alice@example.test a@later.example b@later.example
    wait_files "$Q/deferred" 2
    # the defer logs are written before the queue file moves; wait for both
    wait_files "$Q/defer" 2 -0600
    stop_master
}
deferred_phase deferred <<'CF'
default_transport = retry:4.4.1 try again later
transport_maps = inline:{done.example=discard:}
CF
save "$Q/deferred" deferred-done 'Subject: deferred done'
save "$Q/deferred" deferred-only 'Subject: deferred only'
save "$Q/defer" defer-log 'later@later.example'
find "$Q/deferred" -type f | sed "s|^$Q/||" | sort > "$OUT/deferred-paths.txt"

deferred_phase long-ids <<'CF'
enable_long_queue_ids = yes
hash_queue_depth = 2
default_transport = retry:4.4.1 try again later
transport_maps = inline:{done.example=discard:}
CF
save "$Q/deferred" long-deferred-done 'Subject: deferred done'
find "$Q/deferred" -type f | sed "s|^$Q/||" | sort > "$OUT/long-deferred-paths.txt"

# ---- damaged files, derived from the ones above ----
cd "$OUT"
head -c 10 incoming-simple > damaged-truncated-envelope
head -c "$(( $(stat -c %s incoming-simple) - 3 ))" incoming-simple > damaged-truncated-end
head -c 200 incoming-long-lines > damaged-truncated-data
printf 'this is not a queue file\n' > damaged-garbage
: > damaged-empty
printf 'C\xff\xff\xff\xff\xff\xff' > damaged-length-bits
printf 'C\xff\xff\xff\xff\x7f' > damaged-negative-length
printf 'T\x03\x31\x32' > damaged-eof-in-length
printf 'C\x0512 34' > damaged-bad-size
python3 - <<'PY'
# Records rewritten in place by offset: a pointer to nowhere, a pointer
# loop, an unknown record type, a second size record, a malformed attribute.
import struct
def rec(t, d): 
    n = len(d); out = bytearray([ord(t)])
    while True:
        b = n & 0x7f; n >>= 7
        out.append(b | (0x80 if n else 0))
        if not n: break
    return bytes(out) + d
src = open("incoming-simple", "rb").read()
def records(data):
    pos = 0
    while pos < len(data):
        t = data[pos]; pos += 1; n = 0; shift = 0
        while True:
            b = data[pos]; pos += 1; n |= (b & 0x7f) << shift; shift += 7
            if not b & 0x80: break
        yield chr(t), data[pos:pos + n]; pos += n
recs = list(records(src))
def build(rs): return b"".join(rec(t, d) for t, d in rs)
def edit(name, fn):
    open(name, "wb").write(build(fn(list(recs))))
# A file with pointer records as cleanup writes them after a milter added a
# recipient: the last envelope recipient is followed by a 'p' record to a
# segment appended at the end (the new recipient, then a 'p' back to the
# content marker). The size record's content offset moves with the insert.
def ptr(offset): return rec("p", b"%15d" % offset)
ridx = max(i for i, (t, d) in enumerate(recs) if t == "R")
prefix_recs = recs[:ridx + 1]
rest = build(recs[ridx + 1:])
fields = recs[0][1].split()
def size_rec(shift):
    vals = [int(x) for x in fields]
    vals[1] += shift
    return ("C", b" ".join(b"%15d" % v for v in vals))
prefix = build([size_rec(17)] + prefix_recs[1:])
m_off = len(prefix) + 17
tail_off = m_off + len(rest)
def pointers(first, back):
    return prefix + ptr(first) + rest + rec("R", b"added@example.org") + ptr(back)
open("synthetic-pointers", "wb").write(pointers(tail_off, m_off))
open("damaged-pointer-past-end", "wb").write(pointers(tail_off + 100000, m_off))
open("damaged-pointer-loop", "wb").write(pointers(tail_off, tail_off))
open("damaged-pointer-malformed", "wb").write(prefix + rec("p", b"  12x") + rest)
open("synthetic-dummy-pointer", "wb").write(prefix + rec("p", b"%15d" % 0) + rest)
open("synthetic-padding", "wb").write(prefix + rec("w", b"   0") + rest)
PY
chmod 0644 "$OUT"/*
ls -l "$OUT"
