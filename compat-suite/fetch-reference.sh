#!/bin/sh
# fetch-reference.sh [CACHE]
#
# Brings the reference implementation (Debian 12's Postfix 3.7.11 packages)
# into a private folder for the compat-suite, without installing anything
# system-wide:
#   1. `apt-get download` the five .debs of the pinned version (running
#      `apt-get update` once only when the download fails),
#   2. `dpkg -x` each of them into CACHE,
#   3. point the RUNPATH of every ELF program and library under usr/sbin,
#      usr/lib/postfix/sbin and usr/lib/postfix at CACHE/usr/lib/postfix
#      (patchelf), so the programs find their own libraries whatever the
#      environment (set-gid programs and daemons ignore LD_LIBRARY_PATH),
#   4. write a stamp file; a second run with the stamp present does nothing.
#
# CACHE defaults to <repo>/compat-suite/.cache/reference. Needs apt-get,
# dpkg and patchelf (installed with apt-get when missing and we are root).
# Trusts the Debian archive as configured in the machine's apt sources.
set -eu

VERSION=3.7.11-0+deb12u1
PACKAGES="postfix postfix-pcre postfix-mysql postfix-lmdb postfix-cdb"

here=$(cd "$(dirname "$0")" && pwd)
cache=${1:-$here/.cache/reference}
stamp=$cache/.fetched-$VERSION

if [ -f "$stamp" ]; then
    exit 0
fi

# One fetch at a time per cache (several test runs may start together); a
# second caller waits, then finds the stamp.
mkdir -p "$(dirname "$cache")"
if command -v flock >/dev/null 2>&1; then
    exec 9>"$cache.lock"
    flock 9
    if [ -f "$stamp" ]; then
        exit 0
    fi
fi

need() {
    command -v "$1" >/dev/null 2>&1 && return 0
    if [ "$(id -u)" = 0 ]; then
        echo "fetch-reference: installing $2 (for $1)" >&2
        apt-get install -y --no-install-recommends "$2" >/dev/null 2>&1 ||
            { apt-get update >/dev/null 2>&1 && apt-get install -y --no-install-recommends "$2" >/dev/null; }
    fi
    command -v "$1" >/dev/null 2>&1 || { echo "fetch-reference: $1 not found (Debian package $2)" >&2; exit 1; }
}
need apt-get apt
need dpkg dpkg
need patchelf patchelf

# Start from a clean slate: a previous run may have stopped half-way.
rm -rf "$cache"
mkdir -p "$cache"
debs=$(mktemp -d "${TMPDIR:-/tmp}/pf-reference-debs.XXXXXX")
trap 'rm -rf "$debs"' EXIT INT TERM

specs=
for p in $PACKAGES; do
    specs="$specs $p=$VERSION"
done

download() {
    # apt-get download writes into the current folder. As root, apt drops to
    # the _apt user for downloading, which cannot write into a folder made by
    # mktemp (mode 0700): let it, the folder is ours and removed afterwards.
    chmod 0755 "$debs"
    (cd "$debs" && apt-get download $specs)
}
if ! download >"$debs/.log" 2>&1; then
    echo "fetch-reference: apt-get download failed; running apt-get update and retrying" >&2
    apt-get update >/dev/null 2>&1 || true
    if ! download >"$debs/.log" 2>&1; then
        cat "$debs/.log" >&2
        echo "fetch-reference: cannot download the reference packages ($VERSION)" >&2
        exit 1
    fi
fi

for deb in "$debs"/*.deb; do
    dpkg -x "$deb" "$cache"
done

libdir=$cache/usr/lib/postfix
for f in "$cache"/usr/sbin/* "$cache"/usr/lib/postfix/sbin/* "$cache"/usr/lib/postfix/*.so; do
    [ -f "$f" ] || continue
    # Only ELF files: several programs in usr/sbin are shell or perl scripts.
    if [ "$(head -c 4 "$f" | od -An -c | tr -d ' ')" = "177ELF" ]; then
        patchelf --set-rpath "$libdir" "$f"
    fi
done

# Sanity check: the reference's postconf must run from the cache.
# (-c: never read /etc/postfix; an empty folder gives built-in defaults.)
if ! "$cache/usr/sbin/postconf" -c "$debs" -d mail_version >/dev/null 2>&1; then
    echo "fetch-reference: $cache/usr/sbin/postconf does not run after unpacking" >&2
    exit 1
fi

echo "$VERSION" >"$stamp"
echo "fetch-reference: reference $VERSION unpacked into $cache" >&2
