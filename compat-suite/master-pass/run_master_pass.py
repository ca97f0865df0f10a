#!/usr/bin/env python3
"""The master-pass area of the compat-suite: master.cf services of type "pass".

A "pass" service (`smtpd pass - - n - - smtpd`, as postscreen setups have
it) listens on a UNIX socket in private/; a client of that socket hands
over an open connection with SCM_RIGHTS, and the daemon serves it. This
runs ../smtpd/run_smtpd.py's machinery (instances, case format, transcript
and normalisation: see ../smtpd/README.md) with configs/ and cases/ of this
folder; a case with "port: 2" does not connect to a TCP port but makes a
loopback TCP connection itself and passes its server end to private/smtpd,
then talks SMTP on the client end.

What follows the descriptor is each side's internal protocol: the
reference reads an attribute list in its attr0 encoding (an empty list is
one NUL byte), ours an attribute message of ours (an empty one is a
newline). Both carry no attributes here; the descriptor transfer itself
(one data byte with SCM_RIGHTS) is the same.

Trusts: its own configs and cases.
"""

import os
import socket
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "smtpd"))
import run_smtpd as rs  # noqa: E402

rs.HERE = HERE
rs.AREA = "master-pass"

_by_port2 = {}
_instance_init = rs.Instance.__init__


def _init(self, root, side, cfg):
    _instance_init(self, root, side, cfg)
    _by_port2[self.port2] = self


rs.Instance.__init__ = _init
_Conversation = rs.Conversation


class PassConversation(_Conversation):
    """A conversation whose server end was passed to private/smtpd."""

    def __init__(self, port):
        inst = _by_port2.get(port)
        if inst is None:
            _Conversation.__init__(self, port)
            return
        listener = socket.socket()
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        client = socket.create_connection(listener.getsockname(), timeout=rs.REPLY_TIMEOUT)
        server_end, _ = listener.accept()
        listener.close()
        passer = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        passer.settimeout(rs.REPLY_TIMEOUT)
        passer.connect(os.path.join(inst.spool, "private", "smtpd"))
        socket.send_fds(passer, [b"\0"], [server_end.fileno()])
        passer.sendall(b"\0" if inst.side.label.startswith("reference") else b"\n")
        passer.close()
        server_end.close()
        _Conversation.__init__(self, port, sock=client)


rs.Conversation = PassConversation

if __name__ == "__main__":
    sys.exit(rs.main())
