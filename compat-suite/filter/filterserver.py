"""An after-queue content filter for the filter compat area, in the shape
of the SMTP proxies admins put behind content_filter (amavisd-new's
"pass-through", clamsmtp): it accepts the smtp client's connection, opens
one to the re-injection smtpd for each, and relays every command and its
reply line by line, so that the re-injection server's EHLO keywords
(XFORWARD among them) reach the client and the client's XFORWARD reaches
the server. In the message content it inserts one header first
("X-Filtered: pf-filter") to show that the content went through. What
the client sent (commands and content lines) is kept per connection.

refuse=True makes it answer every connection with a 421 (a filter that is
up but unwilling). hangup=True makes it hang up on the client right after it
relayed the reply to the final dot (a filter that does one message per
connection and does not wait for QUIT: a client that cached the
connection finds it gone); its own session with the re-injection server
still ends with QUIT.

The listener, the threads and the transcripts are
lib/recording_server.py's.

Trusts: only the harness; the client's bytes are recorded as is.
"""

import os
import socket
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "lib"))
from recording_server import RecordingServer  # noqa: E402

FILTER_HEADER = b"X-Filtered: pf-filter\r\n"


class FilterServer(RecordingServer):
    def __init__(self, downstream_port, refuse=False, hangup=False):
        self.downstream = downstream_port
        self.refuse = refuse
        self.hangup = hangup
        super().__init__()

    def serve(self, session):
        conn = session.conn
        if self.refuse:
            conn.sendall(b"421 4.3.2 filter busy\r\n")
            return
        down = socket.create_connection(("127.0.0.1", self.downstream), timeout=30)
        try:
            dn = down.makefile("rb")

            def relay_reply():
                """Copies one (multi-line) reply from the server to the client."""
                while True:
                    line = dn.readline()
                    if not line:
                        raise OSError("server went away")
                    conn.sendall(line)
                    if len(line) < 4 or line[3:4] != b"-":
                        return line

            relay_reply()  # greeting
            while True:
                line = session.readbytes()
                if not line:
                    return
                down.sendall(line)
                verb = line.split(b" ")[0].strip().upper()
                reply = relay_reply()
                if verb == b"DATA" and reply.startswith(b"354"):
                    down.sendall(FILTER_HEADER)
                    while True:
                        body = session.readbytes()
                        if not body:
                            return
                        down.sendall(body)
                        if body in (b".\r\n", b".\n"):
                            break
                    relay_reply()
                    if self.hangup:
                        down.sendall(b"QUIT\r\n")
                        dn.readline()
                        return
                elif verb == b"QUIT":
                    return
        finally:
            try:
                down.close()
            except OSError:
                pass
