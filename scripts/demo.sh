#!/usr/bin/env bash
# The README's "try it" command: installs the dependencies, builds, and sets up
# a private instance in ./instance (its own configuration directory, queue and
# data directories) that listens on 127.0.0.1 at an unprivileged port. Then it
# shows the instance's configuration as our postconf reads it.
# Later work extends this command until it sends a message and shows it delivered.
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
mkdir -p "$inst/etc" "$inst/spool" "$inst/lib"
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
    "alias_maps =" "alias_database =" \
    "smtpd_tls_security_level = none" "smtp_tls_security_level = none"
# The SMTP service on an unprivileged loopback port instead of port 25.
"$postconf" -c "$inst/etc" -M# smtp/inet 2>/dev/null || true
"$postconf" -c "$inst/etc" -Me "127.0.0.1:$port/inet = 127.0.0.1:$port inet n - n - - smtpd" 2>/dev/null || \
    echo "127.0.0.1:$port inet n - n - - smtpd" >> "$inst/etc/master.cf"

echo "== instance configuration in $inst/etc (postconf -n)"
"$postconf" -c "$inst/etc" -n
echo
echo "== its services (postconf -M)"
"$postconf" -c "$inst/etc" -M || echo "(postconf -M is not available in this build yet)"
echo
echo "== a few expanded values (postconf -x)"
"$postconf" -c "$inst/etc" -x myhostname mydomain mydestination smtpd_banner
