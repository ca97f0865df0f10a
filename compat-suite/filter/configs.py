"""The configurations of the filter area. Each: name; main (main.cf lines,
"{filter}" is the content filter's port, "{instance}" the instance
directory); files (table files in etc/); filter ("up", "down": nothing
listens on {filter}, "refuse": the filter answers 421); scan_opts (more -o
settings of the scan transport); messages. A message goes in "via"
sendmail (args, data) or smtp (sender, rcpts, data, helo) to the
instance's main smtpd. Local recipients end at the recording pipe.
"""

SCAN = "scan:[127.0.0.1]:{filter}"


def sendmail(name, rcpts, data=b"Subject: test\n\nHello.\n", args=()):
    return {"name": name, "via": "sendmail", "args": ["-f", "sender@example.com", *args, *rcpts], "data": data}


def smtp(name, sender, rcpts, data=b"Subject: test\r\n\r\nHello.\r\n", helo="client.example.org"):
    return {"name": name, "via": "smtp", "sender": sender, "rcpts": rcpts, "data": data, "helo": helo}


EIGHTBIT = "Subject: caf\u00e9\n\n\u00e9t\u00e9\n".encode()

CONFIGS = [
    {"name": "content-filter", "filter": "up",
     "main": f"content_filter = {SCAN}\n",
     "messages": [
         sendmail("sendmail", ["user@example.com"]),
         smtp("smtp", "outside@remote.example", ["user@example.com"]),
         smtp("smtp-multi-rcpt", "outside@remote.example", ["user@example.com", "other@example.com"]),
         sendmail("sendmail-8bit", ["user@example.com"], EIGHTBIT, ["-B", "8BITMIME"]),
         smtp("smtp-null-sender", "", ["user@example.com"]),
         smtp("smtp-helo-odd", "outside@remote.example", ["user@example.com"], helo="[127.0.0.1]"),
     ]},
    {"name": "filter-actions", "filter": "up",
     "main": ("smtpd_sender_restrictions = check_sender_access texthash:{instance}/etc/access\n"
              "header_checks = regexp:{instance}/etc/header_checks\n"),
     "files": {"access": f"filtered@remote.example FILTER {SCAN}\n",
               "header_checks": f"/^Subject: scan me/ FILTER {SCAN}\n"},
     "messages": [
         smtp("access-filter", "filtered@remote.example", ["user@example.com"]),
         smtp("access-no-filter", "plain@remote.example", ["user@example.com"]),
         sendmail("header-filter", ["user@example.com"], b"Subject: scan me\n\nHello.\n"),
         sendmail("header-no-filter", ["user@example.com"]),
         smtp("header-filter-smtp", "plain@remote.example", ["user@example.com"],
              b"Subject: scan me\r\n\r\nHello.\r\n"),
     ]},
    {"name": "filter-down", "filter": "down",
     "main": f"content_filter = {SCAN}\n",
     "messages": [
         sendmail("sendmail", ["user@example.com"]),
         smtp("smtp", "outside@remote.example", ["user@example.com"]),
     ]},
    {"name": "filter-refuses", "filter": "refuse",
     "main": f"content_filter = {SCAN}\n",
     "messages": [
         sendmail("sendmail", ["user@example.com"]),
     ]},
]

# Connection caching towards the filter (smtp_connection_cache_destinations
# with the scache service): the second message reuses the first one's
# connection (no new EHLO, RSET between deliveries, conn_use=2).
CONFIGS.append(
    {"name": "filter-connection-cache", "filter": "up",
     # scache keeps a session at most connection_cache_ttl_limit (2s by default):
     # longer, so that a slow machine still shows the reuse.
     "main": f"content_filter = {SCAN}\nconnection_cache_ttl_limit = 60s\n",
     "scan_opts": ["smtp_connection_cache_destinations=127.0.0.1",
                   "smtp_connection_cache_time_limit=30s"],
     "messages": [
         sendmail("first", ["user@example.com"]),
         sendmail("second", ["user@example.com"]),
     ]})

# The reuse count limit: the first connection is reused once and then
# ended with QUIT after its second delivery; the third message opens a new
# connection, which is cached again.
CONFIGS.append(
    {"name": "filter-connection-reuse-limit", "filter": "up",
     "main": f"content_filter = {SCAN}\nconnection_cache_ttl_limit = 60s\n",
     "scan_opts": ["smtp_connection_cache_destinations=127.0.0.1",
                   "smtp_connection_cache_time_limit=30s",
                   "smtp_connection_reuse_count_limit=1"],
     "messages": [
         sendmail("first", ["user@example.com"]),
         sendmail("second", ["user@example.com"]),
         sendmail("third", ["user@example.com"]),
     ]})

# The filter hangs up on the client after each message (no QUIT awaited):
# the cached connection is gone when the second message comes; the RSET
# probe finds that out (nothing is logged) and the client connects again.
CONFIGS.append(
    {"name": "filter-connection-cache-lost", "filter": "hangup",
     "main": f"content_filter = {SCAN}\nconnection_cache_ttl_limit = 60s\n",
     "scan_opts": ["smtp_connection_cache_destinations=127.0.0.1",
                   "smtp_connection_cache_time_limit=30s"],
     "messages": [
         sendmail("first", ["user@example.com"]),
         sendmail("second", ["user@example.com"]),
     ]})
