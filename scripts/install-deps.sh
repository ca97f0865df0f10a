#!/usr/bin/env bash
# Installs the Debian 12 packages needed to build and test the project.
# Idempotent; run as root. The README's dependency table says why each is here.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
packages=(
  build-essential cmake g++ pkg-config python3
  libfmt-dev libgtest-dev
  libssl-dev libsasl2-dev libdb5.3-dev libpcre2-dev libmariadb-dev
  liblmdb-dev libcdb-dev libicu-dev
  mariadb-server memcached
  clang-16 libclang-rt-16-dev
  patchelf
  sasl2-bin libsasl2-modules swaks strace openssl
  util-linux iproute2
  # qshape's compat area runs the reference's qshape (Perl) and clear(1).
  perl ncurses-bin
  # The company stack of compat-suite/company runs private instances of these.
  libpam-mysql clamav-daemon clamsmtp spamassassin spamd spamc dovecot-core dovecot-lmtpd
)
# Services some of these packages start on their own: the tests start
# private instances instead, and clamav-freshclam would download signatures.
services=(clamav-freshclam clamav-daemon clamsmtp spamd dovecot saslauthd mariadb memcached)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  # invoke-rc.d obeys /usr/sbin/policy-rc.d: a temporary one that refuses
  # every start keeps the packages' services down during the install.
  made_policy=
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
    chmod 755 /usr/sbin/policy-rc.d
    made_policy=1
    trap 'rm -f /usr/sbin/policy-rc.d' EXIT
  fi
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
  if [ -n "$made_policy" ]; then rm -f /usr/sbin/policy-rc.d; trap - EXIT; fi
fi
# Stop whichever of them runs anyway (only if running: mariadb's init script
# falls back to killall) and keep them from starting at boot.
for s in "${services[@]}"; do
  if [ -d /run/systemd/system ]; then
    systemctl disable --now "$s" >/dev/null 2>&1 || true
  elif [ -x "/etc/init.d/$s" ]; then
    if "/etc/init.d/$s" status >/dev/null 2>&1; then "/etc/init.d/$s" stop >/dev/null 2>&1 || true; fi
    update-rc.d "$s" disable >/dev/null 2>&1 || true
  fi
done

# The accounts a Postfix installation has (Debian's postinst makes the same):
# mail_owner "postfix" and setgid_group "postdrop". Tests and the demo need them.
getent group postdrop >/dev/null || groupadd --system postdrop
getent group postfix >/dev/null || groupadd --system postfix
getent passwd postfix >/dev/null || \
  useradd --system --gid postfix --home-dir /var/spool/postfix --no-create-home \
          --shell /usr/sbin/nologin postfix
