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
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# The accounts a Postfix installation has (Debian's postinst makes the same):
# mail_owner "postfix" and setgid_group "postdrop". Tests and the demo need them.
getent group postdrop >/dev/null || groupadd --system postdrop
getent group postfix >/dev/null || groupadd --system postfix
getent passwd postfix >/dev/null || \
  useradd --system --gid postfix --home-dir /var/spool/postfix --no-create-home \
          --shell /usr/sbin/nologin postfix
