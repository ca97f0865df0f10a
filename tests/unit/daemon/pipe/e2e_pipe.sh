#!/bin/sh
# End-to-end check of our pipe(8) (and bounce/defer/trace appends) in the
# daemon skeleton's stand-alone mode: copies queue files into a private
# queue, starts bounce/defer/trace and one pipe service with -S -s, sends
# each message's delivery request with delivery_client.py, and leaves the
# recording script's output (argv, environment, id, cwd, stdin) and the
# daemons' logs in the work directory for comparison with the reference.
#
# usage: e2e_pipe.sh BUILD_DIR WORK_DIR RECORDER HELD_DIR SERVICE NEXTHOP QUEUE_ID [pipe attributes...]
set -eu
build=$1 work=$2 recorder_dir=$3 held=$4 service=$5 nexthop=$6 qid=$7
shift 7
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$work/config" "$work/queue/active" "$work/queue/bounce" "$work/queue/defer" "$work/queue/trace" "$work/queue/private"
chown -R postfix "$work/queue"
if [ ! -f "$work/config/main.cf" ]; then
    cat > "$work/config/main.cf" <<CF
compatibility_level = 3.6
queue_directory = $work/queue
mail_owner = postfix
setgid_group = postdrop
myhostname = ref.example.test
recipient_delimiter = +
${service}_time_limit = 5
CF
    touch -d 2020-01-01 "$work/config/main.cf"
fi
export MAIL_CONFIG="$work/config" LANG=C
cd "$work"
for s in bounce defer trace; do
    [ -S "queue/private/$s" ] || { "$build/libexec/bounce" -S -s "queue/private/$s" -n "$s" -t unix >> "log.$s" 2>&1 & }
done
rm -f "queue/private/$service"
"$build/libexec/pipe" -S -s "queue/private/$service" -n "$service" -t unix -o max_use=1 "$@" >> "log.$service" 2>&1 &
pid=$!
i=0
while [ ! -S "queue/private/$service" ] && [ $i -lt 100 ]; do i=$((i+1)); sleep 0.05; done
cp "$held/$qid" queue/active/ && chown postfix "queue/active/$qid"
python3 "$here/delivery_client.py" "queue/private/$service" queue active "$qid" "$nexthop"
wait $pid || true
