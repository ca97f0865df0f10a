#!/bin/sh
# pf-mail: prepares one Postfix instance before systemd starts it
# (ExecStartPre of postfix@.service). Usage: configure-instance.sh INSTANCE
# where INSTANCE is a postmulti(1) instance name, or "-" or nothing for the
# default instance. It reproduces what Debian 12's script of the same path
# does, so the unit behaves as before the swap:
#   1. refuses to start (exit 1) when $myorigin is ubuntu.com or debian.org
#      (directly or in the file it names): mail from such a host would
#      claim those domains;
#   2. when some master.cf service runs chrooted (and SYNC_CHROOT is set,
#      the default), refreshes the copies of system files the chrooted
#      daemons need below queue_directory: the TLS CA directories (*.pem,
#      rehashed), etc/passwd when local_recipient_maps reads
#      unix:passwd.byname directly, the resolver and time-zone files, the
#      random devices, and the NSS/resolver libraries.
# /etc/default/postfix may set SYNC_CHROOT (empty: do not sync),
# chroot_extra_files (more files, relative to /) and chroot_extra_CAdir.
#
# Trust: run by root from systemd; the instance name comes from the unit
# name and is passed to postmulti as one argument, never evaluated.
set -e

instance=$1
SYNC_CHROOT=y
chroot_extra_files=
chroot_extra_CAdir=
if [ -r /etc/default/postfix ]; then
    . /etc/default/postfix
fi

# The CA directory is taken as absolute, the extra files as relative.
case $chroot_extra_CAdir in
    ''|/*) ;;
    *) chroot_extra_CAdir=/$chroot_extra_CAdir ;;
esac
relative_files=
for f in $chroot_extra_files; do
    relative_files="$relative_files ${f#/}"
done
chroot_extra_files=$relative_files

# Parameter values of this instance, as a daemon would see them (the
# inet_interfaces override keeps postconf from resolving interfaces).
param() {
    if [ -z "$instance" ] || [ "$instance" = - ]; then
        postconf -o inet_interfaces= -hx "$1"
    else
        postmulti -i "$instance" -x postconf -o inet_interfaces= -hx "$1"
    fi
}

origin=$(param myorigin | tr 'A-Z' 'a-z')
case $origin in
    /*) origin=$(tr 'A-Z' 'a-z' < "$origin") ;;
esac
case $origin in
    ubuntu.com|debian.org)
        echo "Invalid \$myorigin ($origin), refusing to start"
        exit 1 ;;
esac

config_dir=$(param config_directory)
major=$(param mail_version | cut -d. -f1)
compat=$(param compatibility_level | cut -d. -f1)
# Before compatibility level 1 an unset chroot field ("-") meant "yes".
if [ "$major" -ge 3 ] && [ "$compat" -ge 1 ]; then
    chroot_pattern='[yY]'
else
    chroot_pattern='[-yY]'
fi
chrooted=$(awk -v pat="$chroot_pattern" '/^[0-9a-z]/ && $5 ~ pat { print "y"; exit }' "$config_dir/master.cf")

# Copies the *.pem files of a CA directory into the chroot and rehashes
# them; an existing copy is replaced only once the new one is complete.
sync_ca_dir() {
    src=$1
    case $src in
        '') return 0 ;;
        "$queue_dir"/*) return 0 ;;
    esac
    [ -d "$src" ] || return 0
    dest=$queue_dir/${src#/}
    while [ "${dest%/}" != "$dest" ]; do dest=${dest%/}; done
    final=$dest
    if [ -d "$final" ]; then dest=$final.NEW; fi
    mkdir -p "$dest"
    if ! (cd "$src" && find . -name '*.pem' -not -xtype l -print0 | cpio -0pdL --quiet "$dest") 2>/dev/null; then
        echo failure copying certificates
    fi
    openssl rehash "$dest" >/dev/null 2>&1 || true
    if [ "$dest" != "$final" ]; then
        rm -rf "$final"
        mv "$dest" "$final"
    fi
}

if [ -z "$chrooted" ] || [ -z "$SYNC_CHROOT" ]; then
    exit 0
fi

umask 022
queue_dir=$(param queue_directory)
cd "$queue_dir"

for ca in $(param smtp_tls_CApath) $(param smtpd_tls_CApath) $chroot_extra_CAdir; do
    sync_ca_dir "$ca"
done

# A direct (not proxied) unix:passwd.byname lookup reads etc/passwd in the
# chroot: give it the accounts without their password field.
maps=$(param local_recipient_maps)
case $maps in
    *proxy:unix:passwd.byname*) ;;
    *unix:passwd.byname*)
        sed 's/^\([^:]*\):[^:]*/\1:x/' /etc/passwd > etc/passwd
        chmod a+r etc/passwd ;;
esac

for f in etc/localtime etc/services etc/resolv.conf etc/hosts etc/host.conf \
         etc/nsswitch.conf etc/nss_mdns.config $chroot_extra_files; do
    if [ ! -d "${f%/*}" ]; then mkdir -p "${f%/*}"; fi
    if [ -f "/$f" ]; then
        rm -f "$f"
        cp "/$f" "$f"
    fi
    if [ -f "$f" ]; then chmod a+rX "$f"; fi
done

# Some table clients (ldaps) read the random devices.
printf '/dev/random\n/dev/urandom\n' | cpio -pdL --quiet . 2>/dev/null || true

rm -f usr/lib/zoneinfo/localtime
mkdir -p usr/lib/zoneinfo
ln -sf /etc/localtime usr/lib/zoneinfo/localtime

libs=
for name in gcc_s nss resolv; do
    for f in /lib/*/lib$name*.so* /lib/lib$name*.so*; do
        if [ -f "$f" ]; then libs="$libs ${f#/}"; fi
    done
done
if [ -n "$libs" ]; then
    for f in $libs; do rm -f "$f"; done
    tar cf - -C / $libs 2>/dev/null | tar xf -
fi
exit 0
