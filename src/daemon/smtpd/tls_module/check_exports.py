#!/usr/bin/env python3
"""Build check for smtpd's TLS module: every pf:: function (and pf:: type
information, which the sanitizer build refers to) that smtpd-tls.so
leaves undefined must be exported by the smtpd program that loads it
(exports.list), else the module would fail to load at the first start of
an smtpd with TLS. Usage: check_exports.py SMTPD MODULE; exit 1 with the
missing names."""
import subprocess
import sys


def dynamic_symbols(path, which):
    out = subprocess.run(["nm", "-D", which, path], capture_output=True, text=True, check=True).stdout
    return {line.split()[-1].split("@")[0] for line in out.splitlines() if line.strip()}


def main():
    smtpd, module = sys.argv[1:3]
    wanted = {s for s in dynamic_symbols(module, "--undefined-only") if s.startswith(("_ZN2pf", "_ZNK2pf", "_ZTIN2pf", "_ZTSN2pf"))}
    missing = sorted(wanted - dynamic_symbols(smtpd, "--defined-only"))
    if missing:
        names = subprocess.run(["c++filt"], input="\n".join(missing), capture_output=True, text=True).stdout
        sys.exit(f"{smtpd} does not export what {module} needs:\n{names}")


if __name__ == "__main__":
    main()
