#!/usr/bin/env bash
# mysql: tables against a real MariaDB server, ours versus the reference.
#
#   tests/integration/mariadb.sh OURS_BIN [REFERENCE_CACHE]
#
# Starts a private mariadbd (datadir, socket and a free loopback port under a
# temporary directory; as root it runs with --user=root), creates a test user
# with a password and a database of mailboxes/aliases/domains, then runs each
# case with both postmaps (postmap -q KEY mysql:FILE) and diffs exit status,
# stdout and the sorted stderr. Readiness is polled (bounded), never slept
# for. The server is stopped and the directory removed on every exit path.
# Exit 77 (ctest: skipped) when mariadbd or the reference is missing; install
# them with scripts/install-deps.sh and compat-suite/fetch-reference.sh.
set -u
OURS=${1:?usage: mariadb.sh OURS_BIN [REFERENCE_CACHE]}
HERE=$(cd "$(dirname "$0")" && pwd)
REF=${2:-$HERE/../../compat-suite/.cache/reference}
MARIADBD=$(command -v mariadbd || echo /usr/sbin/mariadbd)
[ -x "$MARIADBD" ] || { echo "SKIP: mariadbd not installed (scripts/install-deps.sh)"; exit 77; }
[ -x "$REF/usr/sbin/postmap" ] || { echo "SKIP: no reference at $REF"; exit 77; }
[ -x "$OURS/postmap" ] || { echo "no postmap in $OURS"; exit 2; }

T=$(mktemp -d /tmp/pf-mariadb.XXXXXX)
PID=
cleanup() {
    if [ -n "$PID" ] && kill -0 "$PID" 2>/dev/null; then
        kill "$PID" 2>/dev/null
        for _ in $(seq 1 300); do kill -0 "$PID" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$PID" 2>/dev/null
        wait "$PID" 2>/dev/null
    fi
    [ -n "${DEADHOLD_PID:-}" ] && kill "$DEADHOLD_PID" 2>/dev/null
    rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# The dead port stays bound (never listening) by a helper for the whole run,
# so that no other test's listener can take it: connections to it are
# refused. The helper ends when this script's end of its stdin closes.
coproc DEADHOLD { exec python3 -c 'import socket, sys
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1], flush=True); sys.stdin.read()'; }
read -r DEAD <&"${DEADHOLD[0]}" || { echo "no dead port"; exit 1; }
SOCK=$T/sock
USER_OPT=()
[ "$(id -u)" = 0 ] && USER_OPT=(--user=root)

mariadb-install-db --no-defaults "${USER_OPT[@]}" --datadir="$T/data" --auth-root-authentication-method=socket \
    --skip-test-db >"$T/install.log" 2>&1 || { cat "$T/install.log"; exit 1; }
# A free port is free only until someone binds it: tests beside this one
# pick ports too. mariadbd that finds its port taken exits; a new port then.
ok=
for attempt in 1 2 3; do
    PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    : >"$T/err.log"
    "$MARIADBD" --no-defaults "${USER_OPT[@]}" --datadir="$T/data" --socket="$SOCK" --port="$PORT" \
        --bind-address=127.0.0.1 --pid-file="$T/pid" --log-error="$T/err.log" --skip-log-bin \
        --innodb-buffer-pool-size=16M >/dev/null 2>&1 &
    PID=$!
    for _ in $(seq 1 600); do   # up to 60 s
        if mariadb-admin --no-defaults --socket="$SOCK" -uroot ping >/dev/null 2>&1; then ok=1; break; fi
        kill -0 "$PID" 2>/dev/null || break
        sleep 0.1
    done
    [ -n "$ok" ] && break
    kill -0 "$PID" 2>/dev/null && break   # running but not answering: no retry
    grep -q 'Address already in use' "$T/err.log" 2>/dev/null || break
    echo "mariadbd: port $PORT taken meanwhile (attempt $attempt)"
    wait "$PID" 2>/dev/null
    PID=
done
[ -n "$ok" ] || { echo "mariadbd did not start"; cat "$T/err.log"; exit 1; }

mariadb --no-defaults --socket="$SOCK" -uroot <<'SQL' || exit 1
CREATE DATABASE mail;
CREATE USER 'pftest'@'localhost' IDENTIFIED BY 's3cret';
CREATE USER 'pftest'@'127.0.0.1' IDENTIFIED BY 's3cret';
GRANT ALL ON mail.* TO 'pftest'@'localhost';
GRANT ALL ON mail.* TO 'pftest'@'127.0.0.1';
USE mail;
CREATE TABLE mailbox (username VARCHAR(255) PRIMARY KEY, maildir VARCHAR(255), domain VARCHAR(255), active INT);
CREATE TABLE alias (address VARCHAR(255), goto VARCHAR(255), active INT);
CREATE TABLE domain (domain VARCHAR(255) PRIMARY KEY, transport VARCHAR(255));
CREATE TABLE parts (p1 VARCHAR(64), p2 VARCHAR(64), p3 VARCHAR(64), val VARCHAR(255));
INSERT INTO mailbox VALUES ('alice@example.com','example.com/alice/','example.com',1),
  ('bob@example.com','example.com/bob/','example.com',0), ('o''hara@example.com','example.com/ohara/','example.com',1),
  ('carol','local/carol/','',1);
INSERT INTO alias VALUES ('postmaster@example.com','alice@example.com',1),
  ('team@example.com','alice@example.com',1), ('team@example.com','bob@example.com',1),
  ('team@example.com','carol',1), ('empty@example.com','',1), ('null@example.com',NULL,1),
  ('@example.org','catchall@example.com',1);
INSERT INTO domain VALUES ('example.com','virtual:'), ('example.org','smtp:[relay.example.org]');
INSERT INTO parts VALUES ('com','example','mail','three parts');
DELIMITER //
CREATE PROCEDURE lookup(IN param VARCHAR(255)) READS SQL DATA SQL SECURITY INVOKER
BEGIN SELECT goto FROM alias WHERE address=param; END //
DELIMITER ;
SQL

mkdir -p "$T/ref" "$T/ours"
printf 'meta_directory = %s\n' "$T/ref" >"$T/ref/main.cf"
for t in cdb lmdb mysql pcre; do
    printf '%s\t%s\t%s\n' "$t" "$REF/usr/lib/postfix/postfix-$t.so" "dict_${t}_open"
done >"$T/ref/dynamicmaps.cf"
: >"$T/ours/main.cf"
# The reference waits for a main.cf younger than about two seconds to settle.
touch -d 2020-01-01 "$T/ref/main.cf" "$T/ref/dynamicmaps.cf" "$T/ours/main.cf"

common="user = pftest
password = s3cret
dbname = mail"
pass=0 fail=0 n=0
# case NAME CFTEXT KEY... [-- FILTER]: postmap -q each key, both sides.
run_case() {
    local name=$1 cf=$2 filter=$3; shift 3
    [ -n "${ONLY:-}" ] && [[ ! $name =~ $ONLY ]] && return
    n=$((n + 1))
    printf '%s\n' "$cf" >"$T/$name.cf"
    touch -d 2020-01-01 "$T/$name.cf"   # the reference pauses on young files
    local side out
    for side in ref ours; do
        local bin=$OURS/postmap
        [ $side = ref ] && bin=$REF/usr/sbin/postmap
        out=$T/$side.$name
        : >"$out"
        for key in "$@"; do
            ( cd "$T/$side" && MAIL_CONFIG=$T/$side LD_LIBRARY_PATH=$([ $side = ref ] && echo "$REF/usr/lib/postfix") \
                timeout 60 "$bin" -q "$key" "mysql:$T/$name.cf" >"$out.o" 2>"$out.e"; echo "exit $?" >>"$out.o" )
            { echo "== $key"; cat "$out.o"; sed -e "s#$T/##g" -E -e "$ERRNO" "$out.e" | sed -E "$filter" | sort; } >>"$out"
        done
    done
    if cmp -s "$T/ref.$name" "$T/ours.$name"; then
        pass=$((pass + 1))
    else
        fail=$((fail + 1)); echo "FAIL $name"; diff -u "$T/ref.$name" "$T/ours.$name" | sed 's/^/    /'
    fi
}
# After a failed query or login, the reference reports whatever errno the
# client library left behind, which depends on timing (EAGAIN, EINPROGRESS,
# EOPNOTSUPP, even a text no errno has, from one run to the next, on either
# side): the text after "query error:" is normalised whatever it says.
ERRNO='s/(query error): .*$/\1: <libmariadb errno>/'
TCP="hosts = 127.0.0.1:$PORT"
UNIX="hosts = unix:$SOCK"
NOFILTER='s/^$//'
# Host order is random: which dead host is tried (and warned about) first varies.
HOSTWARN='/connect to mysql server/d'

run_case plain "$TCP
$common
query = SELECT maildir FROM mailbox WHERE username='%s' AND active=1" "$NOFILTER" \
    alice@example.com ALICE@Example.COM bob@example.com nobody@example.com "o'hara@example.com" "x' OR '1'='1" carol ""
run_case unix "$UNIX
$common
query = SELECT maildir FROM mailbox WHERE username='%s'" "$NOFILTER" alice@example.com carol
run_case user-u "$TCP
$common
query = SELECT maildir FROM mailbox WHERE username LIKE '%u%%'" "$NOFILTER" alice@example.com carol @example.com alice
run_case domain-d "$TCP
$common
query = SELECT transport FROM domain WHERE domain='%d'" "$NOFILTER" x@example.com example.com @example.org x@ x@nowhere.example
run_case upper-SUD "$TCP
$common
query = SELECT '%S|%U|%D' FROM DUAL" "$NOFILTER" a@b.c abc @b.c
run_case parts "$TCP
$common
query = SELECT val FROM parts WHERE p1='%1' AND p2='%2' AND p3='%3'" "$NOFILTER" u@mail.example.com u@example.com u@x.mail.example.com u
run_case result-format "$TCP
$common
query = SELECT goto FROM alias WHERE address='%s'
result_format = smtp:[%d] %u %s %% %S %U %D %1" "$NOFILTER" team@example.com postmaster@example.com empty@example.com null@example.com
run_case multi-row "$TCP
$common
query = SELECT goto, address FROM alias WHERE address='%s'" "$NOFILTER" team@example.com nobody@x
run_case expansion-limit "$TCP
$common
expansion_limit = 2
query = SELECT goto FROM alias WHERE address='%s'" "$NOFILTER" team@example.com postmaster@example.com
printf 'example.org\n' >"$T/domains"
run_case domain-filter "$TCP
$common
domain = example.com, !example.net, $T/domains
query = SELECT goto FROM alias WHERE address='%s'" "$NOFILTER" team@example.com team@example.net @example.com team x@example.org
run_case legacy "$TCP
$common
table = alias
select_field = goto
where_field = address
additional_conditions = AND active = 1" "$NOFILTER" team@example.com "a'b"
run_case procedure "$TCP
$common
query = CALL lookup('%s')" "$NOFILTER" team@example.com nobody@x
run_case no-result-set "$TCP
$common
query = DO '%s'" "$NOFILTER" x
run_case no-result-set-ok "$TCP
$common
require_result_set = no
query = DO '%s'" "$NOFILTER" x
run_case bad-sql "$TCP
$common
query = SELEKT '%s'" "$NOFILTER" x
run_case bad-password "$TCP
user = pftest
password = wrong
dbname = mail
query = SELECT '%s'" "$NOFILTER" x
run_case failover "hosts = 127.0.0.1:$DEAD, inet:127.0.0.1:$PORT
$common
query = SELECT maildir FROM mailbox WHERE username='%s'" "$HOSTWARN" alice@example.com
run_case all-down "hosts = 127.0.0.1:$DEAD inet:127.0.0.1:$DEAD unix:$T/nosock
$common
query = SELECT '%s'" "$NOFILTER" x
run_case bad-template "$TCP
$common
query = SELECT '%x'" "$NOFILTER" x
run_case missing-dbname "$TCP
query = SELECT '%s'" "$NOFILTER" x
run_case legacy-missing "$TCP
$common
table = alias" "$NOFILTER" x
run_case bad-limit "$TCP
$common
expansion_limit = many
query = SELECT '%s'" "$NOFILTER" x

# The corpus's mysql_table files: open and query each against this server.
CORPUS=${PF_CORPUS:-/work/shared/corpus}
if [ -f "$CORPUS/MANIFEST.tsv" ]; then
    while IFS=$'\t' read -r path _ _ _ _ _ kind _; do
        [ "$kind" = mysql_table ] && [ -f "$CORPUS/$path" ] || continue
        body=$(grep -vE '^[[:space:]]*(hosts|user|password|dbname)[[:space:]]*=' "$CORPUS/$path")
        run_case "corpus-$(echo "$path" | tr '/' '_')" "$TCP
$common
$body" "$HOSTWARN" alice@example.com example.com
    done <"$CORPUS/MANIFEST.tsv"
fi

echo "mariadb: $n cases, $pass identical, $fail different"
[ "$fail" = 0 ]
