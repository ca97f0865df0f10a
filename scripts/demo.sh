#!/usr/bin/env bash
# The README's "try it" command: installs the dependencies, builds, and sets up
# a private instance in ./instance (its own configuration directory, queue and
# data directories) that listens on 127.0.0.1 at an unprivileged port. Then it
# shows the instance's configuration as our postconf reads it.
# Then it starts the instance (our master and daemons), submits a message with
# our sendmail and another over SMTP, and shows their journey in the log and
# the local user's Maildir where local(8) delivered them. The instance keeps running; stop it with
#   build/bin/postfix -c instance/etc stop
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
bash scripts/install-deps.sh
build=${PF_BUILD_DIR:-build}
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j "$(nproc)" >/dev/null

port=${PF_DEMO_PORT:-10025}
inst=$top/instance
postconf=$top/$build/bin/postconf
# A previous run's instance is stopped and replaced.
if [ -x "$top/$build/bin/postfix" ] && [ -f "$inst/etc/main.cf" ]; then
    "$top/$build/bin/postfix" -c "$inst/etc" stop >/dev/null 2>&1 || true
fi
rm -rf "$top/instance"
mkdir -p "$inst/etc" "$inst/spool" "$inst/lib" "$inst/delivered"
chown postfix "$inst/lib"
chmod 1777 "$inst/delivered"
cp main.cf.d/main.cf "$inst/etc/main.cf"
cp master.cf.d/master.cf "$inst/etc/master.cf"

# Point the instance at its own folders and at this build's programs.
"$postconf" -c "$inst/etc" -e \
    "queue_directory = $inst/spool" \
    "data_directory = $inst/lib" \
    "command_directory = $top/$build/bin" \
    "daemon_directory = $top/$build/libexec" \
    "inet_interfaces = 127.0.0.1" \
    "inet_protocols = ipv4" \
    "myhostname = demo.localdomain" \
    "shlib_directory = $top/$build" \
    "meta_directory = $top/master.cf.d" \
    "maillog_file = $inst/maillog" "maillog_file_prefixes = $inst" \
    "mydestination = \$myhostname, localhost" \
    "default_transport = demo" \
    "home_mailbox = Maildir/" \
    "alias_maps =" "alias_database =" \
    "smtpd_tls_security_level = none" "smtp_tls_security_level = none"
# The SMTP service on an unprivileged loopback port instead of port 25.
"$postconf" -c "$inst/etc" -M# smtp/inet 2>/dev/null || true
"$postconf" -c "$inst/etc" -Me "127.0.0.1:$port/inet = 127.0.0.1:$port inet n - n - - smtpd" 2>/dev/null || \
    echo "127.0.0.1:$port inet n - n - - smtpd" >> "$inst/etc/master.cf"

# Mail for other domains goes to a pipe transport that stores each message
# in instance/delivered/ (scripts/demo-deliver.sh, run as nobody): the demo
# never sends anything off the machine.
cat >> "$inst/etc/master.cf" <<END
demo      unix  -       n       n       -       -       pipe
  flags=FR user=nobody argv=$top/scripts/demo-deliver.sh $inst/delivered \${queue_id} \${recipient}
END

echo "== instance configuration in $inst/etc (postconf -n)"
"$postconf" -c "$inst/etc" -n
echo
echo "== its services (postconf -M)"
"$postconf" -c "$inst/etc" -M || echo "(postconf -M is not available in this build yet)"
echo
echo "== a few expanded values (postconf -x)"
"$postconf" -c "$inst/etc" -x myhostname mydomain mydestination smtpd_banner

echo
echo "== postfix check, start, status"
# (their messages go to the log, and to the terminal when there is one)
"$top/$build/bin/postfix" -c "$inst/etc" check && echo "postfix check: exit 0"
"$top/$build/bin/postfix" -c "$inst/etc" start && echo "postfix start: exit 0"
"$top/$build/bin/postfix" -c "$inst/etc" status && echo "postfix status: exit 0 (running)"
grep -E 'postfix-script|master' "$inst/maillog" || true

# The local recipient: a system user whose home is in the instance, so
# local(8) delivers (as that user) into its Maildir.
if ! getent passwd pfdemo >/dev/null; then
    useradd --system --no-create-home --home-dir "$inst/home/pfdemo" --shell /usr/sbin/nologin pfdemo
else
    usermod --home "$inst/home/pfdemo" pfdemo
fi
mkdir -p "$inst/home/pfdemo"
chown pfdemo: "$inst/home/pfdemo"

removed() { grep -c ': removed' "$inst/maillog" 2>/dev/null || true; }
# Waits (at most 30 s) until the queue manager has removed N messages.
wait_removed() {
    for _ in $(seq 300); do
        [ "$(removed)" -ge "$1" ] && return 0
        sleep 0.1
    done
    echo "(message $1 not delivered within 30 s)"
}

echo
echo "== a message submitted with our sendmail to pfdemo@demo.localdomain"
printf 'From: demo@demo.localdomain\nTo: pfdemo@demo.localdomain\nSubject: hello from pf-mail\n\nIt works.\n' |
    MAIL_CONFIG=$inst/etc "$top/$build/bin/sendmail" -f demo@demo.localdomain pfdemo@demo.localdomain
wait_removed 1

echo
echo "== a message sent over SMTP to 127.0.0.1:$port (Python smtplib)"
python3 - "$port" <<'PY'
import smtplib, sys
with smtplib.SMTP("127.0.0.1", int(sys.argv[1]), timeout=30) as s:
    s.ehlo("client.example")
    refused = s.sendmail("sender@example.org", ["pfdemo@demo.localdomain"],
                         "From: sender@example.org\r\nTo: pfdemo@demo.localdomain\r\n"
                         "Subject: over SMTP\r\n\r\nDelivered by smtpd, cleanup, qmgr and local.\r\n")
    print("refused:", refused) if refused else print("accepted")
PY
wait_removed 2

echo
echo "== their journey in $inst/maillog"
grep -E 'smtpd|pickup|cleanup|qmgr|local' "$inst/maillog" || true
echo
echo "== the recipient's Maildir ($inst/home/pfdemo/Maildir/new)"
for f in "$inst"/home/pfdemo/Maildir/new/*; do
    [ -f "$f" ] || { echo "(nothing delivered)"; break; }
    echo "--- $(basename "$f")"
    cat "$f"
done
echo
echo "The instance is still running: $build/bin/postfix -c instance/etc stop"
