#!/usr/bin/env bash
# ctest install.layout: `cmake --install BUILD --prefix /usr` into a
# temporary DESTDIR must succeed and give Debian's layout: commands in
# /usr/sbin, daemons (and smtpd's TLS module) in /usr/lib/postfix/sbin,
# lmtp beside smtp, sendmail's other names as Debian's links, the
# configuration templates and the man pages (daemon pages as
# <name>.8postfix, lmtp.8postfix a link to smtp.8postfix).
# Usage: check_layout.sh BUILD-DIR
set -euo pipefail
build=$1
dest=$(mktemp -d /tmp/pf-install-layout.XXXXXX)
trap 'rm -rf "$dest"' EXIT
if ! DESTDIR=$dest cmake --install "$build" --prefix /usr > "$dest.log" 2>&1; then
  cat "$dest.log"; rm -f "$dest.log"
  echo "install.layout: cmake --install failed" >&2
  exit 1
fi
rm -f "$dest.log"
u=$dest/usr
missing=0
need() {  # need TEST PATH: TEST is -x (executable file), -f, or -L TARGET
  local kind=$1 path=$2
  case $kind in
    -x) [ -f "$u/$path" ] && [ -x "$u/$path" ] ;;
    -f) [ -f "$u/$path" ] ;;
    -L) [ -L "$u/$path" ] && [ "$(readlink "$u/$path")" = "$3" ] ;;
  esac || { echo "install.layout: missing or wrong: /usr/$path" >&2; missing=1; }
}
for c in postfix postconf postmap postalias postcat postqueue postsuper postdrop postlog postkick sendmail \
         postlock rmail qshape postmulti posttls-finger smtp-sink smtp-source qmqp-sink qmqp-source \
         postfix-add-filter postfix-add-policy postfix-collate; do
  need -x "sbin/$c"
done
for d in master postlogd pickup cleanup trivial-rewrite qmgr pipe discard error bounce proxymap \
         showq flush local virtual smtpd smtp lmtp anvil verify scache tlsmgr spawn \
         postscreen dnsblog qmqpd tlsproxy; do
  need -x "lib/postfix/sbin/$d"
done
need -f lib/postfix/sbin/smtpd-tls.so
need -f lib/postfix/sbin/smtp-tls.so
[ "$(stat -c %i "$u/lib/postfix/sbin/lmtp")" = "$(stat -c %i "$u/lib/postfix/sbin/smtp")" ] ||
  { echo "install.layout: lmtp is not a hard link to smtp" >&2; missing=1; }
need -L bin/mailq ../sbin/sendmail
need -L bin/newaliases ../sbin/sendmail
need -L lib/sendmail ../sbin/sendmail
need -L bin/rmail ../sbin/rmail
need -f share/postfix/main.cf.dist
need -f share/postfix/master.cf.dist
need -f share/man/man5/postconf.5
need -f share/man/man1/postconf.1
need -f share/man/man1/postlock.1
need -f share/man/man1/qshape.1
need -f share/man/man8/spawn.8postfix
need -f share/man/man8/rmail.8
for p in postmulti posttls-finger smtp-sink smtp-source qmqp-sink qmqp-source postfix-collate; do
  need -f "share/man/man1/$p.1"
done
need -f share/man/man8/postfix-add-filter.8
need -x lib/postfix/configure-instance.sh
need -f lib/systemd/system/postfix.service
need -f lib/systemd/system/postfix@.service
need -f share/man/man8/postfix-add-policy.8
for p in postscreen dnsblog qmqpd tlsproxy; do
  need -f "share/man/man8/$p.8postfix"
done
need -L share/man/man1/mailq.1 sendmail.1
need -L share/man/man1/newaliases.1 sendmail.1
need -f share/man/man8/smtpd.8postfix
need -L share/man/man8/lmtp.8postfix smtp.8postfix
exit $missing
