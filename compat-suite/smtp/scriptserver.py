"""A scriptable SMTP/LMTP test server for the smtp compat area.

Each server listens on one loopback port and answers after a script (a
dict, see DEFAULTS): the greeting, the EHLO keywords (None: EHLO is not
understood), the replies to MAIL, to each RCPT (by local part), to DATA and
to the final dot (LMTP: one reply per accepted recipient, by local part),
a phase at which it closes the connection or stalls (then it records what
else arrives until the client hangs up, and answers nothing). Everything it
receives (command lines and message lines, as sent) is appended to its
transcript, one entry per connection, for comparison between the sides.

Trusts: only the harness's scripts; the client's bytes are recorded as is.
"""

import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "lib"))

from recording_server import RecordingServer  # noqa: E402

DEFAULTS = {
    "greeting": "220 test.example ESMTP ready",
    "ehlo": ["PIPELINING", "SIZE 10240000", "8BITMIME", "ENHANCEDSTATUSCODES", "DSN"],
    "helo": "250 test.example",
    "mail": "250 2.1.0 Ok",
    "rcpt": {},                  # local part -> reply
    "rcpt_default": "250 2.1.5 Ok",
    "data": "354 End data with <CR><LF>.<CR><LF>",
    "dot": "250 2.0.0 Ok: queued as 4TEST1",
    "dot_rcpt": {},              # LMTP: local part -> reply
    "drop": None,                # phase: greeting, ehlo, xforward, mail, rcpt, data, dot
    "stall": None,               # (phase, seconds)
    "lmtp": False,
    "unix_path": None,           # listen on this UNIX-domain socket instead of TCP
    "xforward": "250 2.0.0 Ok",  # reply to XFORWARD (when offered in "ehlo")
    "rset": "250 2.0.0 Ok",      # reply to RSET
}


class ScriptServer(RecordingServer):
    def __init__(self, script):
        self.script = dict(DEFAULTS, **script)
        super().__init__(unix_path=script.get("unix_path"))

    def serve(self, session):
        s = self.script
        say, readline = session.say, session.readline

        def phase(name):
            if s["stall"] and s["stall"][0] == name:
                # Longer than the client waits: it gives up. What it sent
                # before hanging up is recorded, then the session ends
                # without a reply (a reply to a closed peer would make the
                # transcript depend on timing).
                time.sleep(s["stall"][1])
                while readline() is not None:
                    pass
                return True
            return s["drop"] == name

        if phase("greeting"):
            return
        say(s["greeting"])
        accepted = []
        in_mail = False
        while True:
            line = readline()
            if line is None:
                return
            verb = line.split(" ")[0].upper()
            if verb in ("EHLO", "LHLO"):
                if phase("ehlo"):
                    return
                if s["ehlo"] is None:
                    say("502 5.5.2 Error: command not recognized")
                elif isinstance(s["ehlo"], str):
                    say(s["ehlo"])
                else:
                    lines = ["test.example"] + s["ehlo"]
                    say([f"250-{x}" for x in lines[:-1]] + [f"250 {lines[-1]}"])
            elif verb == "HELO":
                if phase("ehlo"):
                    return
                say(s["helo"])
            elif verb == "MAIL":
                if phase("mail"):
                    return
                say(s["mail"])
                in_mail = s["mail"].startswith("2")
                accepted = []
            elif verb == "RCPT":
                if phase("rcpt"):
                    return
                local = line.split("<", 1)[-1].split("@")[0]
                reply = s["rcpt"].get(local, s["rcpt_default"]) if in_mail else "503 5.5.1 Error: need MAIL command"
                first = reply[0] if isinstance(reply, list) else reply  # a multi-line reply
                if first.startswith("2"):
                    accepted.append(local)
                say(reply)
            elif verb == "DATA":
                if phase("data"):
                    return
                if not accepted:
                    say("554 5.5.1 Error: no valid recipients")
                    continue
                say(s["data"])
                if not s["data"].startswith("3"):
                    continue
                while True:
                    body = readline()
                    if body is None:
                        return
                    if body == ".":
                        break
                if phase("dot"):
                    return
                if s["lmtp"]:
                    say([s["dot_rcpt"].get(a, s["dot"]) for a in accepted])
                else:
                    say(s["dot"])
                accepted = []
                in_mail = False
            elif verb == "XFORWARD":
                if phase("xforward"):
                    return
                say(s["xforward"])
            elif verb == "RSET":
                accepted = []
                in_mail = False
                say(s["rset"])
            elif verb == "QUIT":
                say("221 2.0.0 Bye")
                return
            else:
                say("502 5.5.2 Error: command not recognized")
