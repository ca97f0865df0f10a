#!/usr/bin/env bash
# The README's "try it" command: installs the dependencies, builds, and sets up
# a private instance in ./instance (its own configuration directory, queue and
# data directories) that listens on 127.0.0.1 at an unprivileged port. Then it
# shows the instance's configuration as our postconf reads it.
# Then it starts the instance (our master and daemons), submits a message with
# our sendmail, and shows the message's journey in the log and what the
# delivery agent received. The instance keeps running; stop it with
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
    "local_transport = demo" "default_transport = demo" \
    "alias_maps =" "alias_database =" \
    "smtpd_tls_security_level = none" "smtp_tls_security_level = none"
# The SMTP service on an unprivileged loopback port instead of port 25.
"$postconf" -c "$inst/etc" -M# smtp/inet 2>/dev/null || true
"$postconf" -c "$inst/etc" -Me "127.0.0.1:$port/inet = 127.0.0.1:$port inet n - n - - smtpd" 2>/dev/null || \
    echo "127.0.0.1:$port inet n - n - - smtpd" >> "$inst/etc/master.cf"

# Local delivery is not built yet: a pipe transport stores each message in
# instance/delivered/ (scripts/demo-deliver.sh, run as nobody).
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

echo
echo "== a message submitted with our sendmail"
printf 'From: demo@demo.localdomain\nTo: you@demo.localdomain\nSubject: hello from pf-mail\n\nIt works.\n' |
    MAIL_CONFIG=$inst/etc "$top/$build/bin/sendmail" -f demo@demo.localdomain you@demo.localdomain
# Wait (at most 30 s) until the queue manager has removed it.
for _ in $(seq 300); do
    grep -q ': removed' "$inst/maillog" 2>/dev/null && break
    sleep 0.1
done

echo
echo "== its journey in $inst/maillog"
grep -E 'pickup|cleanup|qmgr|pipe' "$inst/maillog" || true
echo
echo "== what the delivery agent received (instance/delivered/)"
cat "$inst"/delivered/* 2>/dev/null || echo "(nothing delivered)"
echo
echo "The instance is still running: $build/bin/postfix -c instance/etc stop"
