#!/usr/bin/python3
# A line server for the spawn area's direct connections (README.md), run by
# spawn(8) on an inet service with the connection as stdin/stdout/stderr.
# Greets with "220 echo ready", then answers each line:
#   QUIT      "221 bye" and exit 0
#   EXIT N    exit with status N without a reply
#   ERR TEXT  "250 TEXT" written on stderr
#   ENV       "250 " and the environment, uid and gid it runs with
#   HANG      answer nothing and exit after 4 seconds (past the time limit)
#   other     "250 <the line>"
# Trusts: nothing it reads.
import os
import sys
import time


def say(text, stream=sys.stdout):
    stream.write(text + "\r\n")
    stream.flush()


def main():
    say("220 echo ready")
    for line in sys.stdin:
        line = line.rstrip("\r\n")
        word = line.split(" ", 1)[0].upper()
        if word == "QUIT":
            say("221 bye")
            return 0
        if word == "EXIT":
            return int(line.split(" ", 1)[1])
        if word == "ERR":
            say("250 " + line[4:], sys.stderr)
        elif word == "ENV":
            env = ";".join(f"{k}={v}" for k, v in sorted(os.environ.items()))
            say(f"250 uid={os.getuid()} gid={os.getgid()} argv={'|'.join(sys.argv)} env={env}")
        elif word == "HANG":
            time.sleep(4)
        else:
            say("250 " + line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
