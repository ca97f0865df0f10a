#!/bin/bash
# End-to-end comparison of our cleanup with the reference's, for one case:
#   run_compare.sh CASE_DIR
# CASE_DIR holds main.cf.extra (lines added to both main.cf files), message
# (the input), args (sendmail arguments). The maildrop file is made once
# with the reference's sendmail; the reference's pickup+cleanup (a running
# instance in $REF, qmgr left out of master.cf) and our cleanup (stand-alone,
# fed by feed_cleanup.py as pickup would) queue it; postcat of the
# reference prints both queue files, normalised (queue IDs, times).
# Needs: $REF (default /tmp/cleanup-ref) running; our build in $BUILD.
set -u
CASE=$1
REF=${REF:-/tmp/cleanup-ref}
OURS=${OURS:-/tmp/cleanup-ours}
MD=${MD:-/tmp/cleanup-md}
BUILD=${BUILD:-/work/main/build-cleanup}
R=/work/main/compat-suite/.cache/reference
HERE=$(cd "$(dirname "$0")" && pwd)
export LD_LIBRARY_PATH=$R/usr/lib/postfix
extra=$(cat "$CASE/main.cf.extra" 2>/dev/null | sed "s|{case}|$CASE|g")
for side in $REF $OURS $MD; do
  [ -f $side/etc/main.cf.base ] || cp $side/etc/main.cf $side/etc/main.cf.base
  { cat $side/etc/main.cf.base; echo "$extra"; } > $side/etc/main.cf
  touch -d 2020-01-01 $side/etc/main.cf
done
rm -f $MD/spool/maildrop/*
$R/usr/sbin/sendmail -C $MD/etc $(cat "$CASE/args") < "$CASE/message" 2>/dev/null
mdfile=$(ls $MD/spool/maildrop/* | head -1)
# Reference.
$R/usr/sbin/postfix -c $REF/etc reload >/dev/null 2>&1
sleep 1.5
find $REF/spool/incoming $REF/spool/hold $REF/spool/maildrop -type f -delete
: > $REF/maillog.case
cp -p $mdfile $REF/spool/maildrop/
$R/usr/sbin/postkick -c $REF/etc public pickup W
rq=
for i in $(seq 100); do
  rq=$(find $REF/spool/incoming $REF/spool/hold -type f -perm -0100 | head -1)
  [ -n "$rq" ] && break; sleep 0.1
done
# Ours.
[ -f $OURS/cl.pid ] && kill $(cat $OURS/cl.pid) 2>/dev/null
[ -f $OURS/tr.pid ] && kill $(cat $OURS/tr.pid) 2>/dev/null
sleep 0.2
rm -f $OURS/spool/public/cleanup $OURS/spool/private/rewrite
find $OURS/spool/incoming $OURS/spool/hold -type f -delete
export MAIL_CONFIG=$OURS/etc
$BUILD/libexec/trivial-rewrite -S -s $OURS/spool/private/rewrite > $OURS/tr.log 2>&1 & echo $! > $OURS/tr.pid
$BUILD/libexec/cleanup -S -s $OURS/spool/public/cleanup > $OURS/cl.log 2>&1 & echo $! > $OURS/cl.pid
for i in $(seq 50); do [ -S $OURS/spool/public/cleanup ] && [ -S $OURS/spool/private/rewrite ] && break; sleep 0.1; done
timeout 20 python3 $HERE/feed_cleanup.py $OURS/spool/public/cleanup $mdfile > $OURS/feed.out
oq=$(find $OURS/spool/incoming $OURS/spool/hold -type f | head -1)
norm() {
  local q=$1
  [ -z "$q" ] && { echo "(no queue file)"; return; }
  local id=$(basename $q)
  echo "queue: $(basename $(dirname $q))"
  $R/usr/sbin/postcat -c $REF/etc $q 2>&1 | sed -e "s|$q|QFILE|; s|$id|QID|g" \
    -e 's/^\(message_arrival_time\|create_time\): .*/\1: T/' \
    -e 's/[A-Z][a-z][a-z], [ 0-9][0-9] [A-Z][a-z][a-z] 20[0-9][0-9] [0-9:]* [-+][0-9]* ([A-Z]*)/DATE/' \
    -e 's/<20[0-9]\{12\}\.QID@/<STAMP.QID@/'
}
norm "$rq" > $CASE.ref.out
norm "$oq" > $CASE.ours.out
grep "cleanup\[" $REF/maillog | tail -20 | sed 's/.*cleanup\[[0-9]*\]: //' | grep -v "public/qmgr" > /dev/null
if diff -u $CASE.ref.out $CASE.ours.out > $CASE.diff; then echo "IDENTICAL $(basename $CASE)"; else echo "DIFFERENT $(basename $CASE)"; fi
