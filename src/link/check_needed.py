#!/usr/bin/env python3
"""Fails when a program needs a shared library outside an allowed set.

The short-lived commands (see "Short-lived commands" in the top-level
CMakeLists.txt) are linked to load the C library only: a new dependency
that brings a shared library back (libstdc++, libfmt, a table library)
would bring back most of their start-up cost without any test noticing.

Usage: check_needed.py --allow PATTERN [--allow PATTERN ...] PROGRAM...
Reads the programs' NEEDED entries with readelf -d; a PATTERN is a shell
wildcard ("libc.so.*").
"""
import argparse
import fnmatch
import re
import subprocess
import sys


def needed(path):
    out = subprocess.run(["readelf", "-d", path], capture_output=True, text=True, check=True).stdout
    return re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", out)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--allow", action="append", default=[])
    ap.add_argument("programs", nargs="+")
    args = ap.parse_args()
    bad = 0
    for path in args.programs:
        extra = [lib for lib in needed(path) if not any(fnmatch.fnmatchcase(lib, p) for p in args.allow)]
        if extra:
            print(f"{path}: needs {' '.join(extra)} (allowed: {' '.join(args.allow)})")
            bad += 1
        else:
            print(f"{path}: ok")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
