#!/bin/sh
# Delivery command of scripts/demo.sh's pipe transport: stores the message
# (stdin) in DIR/QUEUEID-RECIPIENT. Arguments come as separate argv words
# from pipe(8), never through a shell command line.
dir=$1 id=$2 rcpt=$3
case "$id$rcpt" in */*) exit 65 ;; esac
cat > "$dir/$id-$rcpt"
