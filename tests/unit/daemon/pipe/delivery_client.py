#!/usr/bin/env python3
"""Test client for the delivery agents (pipe, discard, error/retry): reads a
queue file (ours or the reference's), builds the delivery request that qmgr
would send (ipc/delivery_request.h) and sends it to an agent's socket, then
prints the agent's reply. Used by the end-to-end checks in e2e_pipe.sh.

usage: delivery_client.py SOCKET QUEUE_DIR QUEUE_NAME QUEUE_ID NEXTHOP [flags]
"""
import socket
import sys
import time


def read_records(data):
    """Yields (offset, type, payload) for each record of a queue file."""
    pos = 0
    while pos < len(data):
        start = pos
        rtype = chr(data[pos])
        pos += 1
        length = 0
        shift = 0
        while True:
            b = data[pos]
            pos += 1
            length |= (b & 0x7f) << shift
            shift += 7
            if not b & 0x80:
                break
        payload = data[pos:pos + length]
        pos += length
        yield start, rtype, payload
        if rtype == 'E':
            break


def escape(value):
    return value.replace('\\', '\\\\').replace('\n', '\\n').replace('\0', '\\0')


def encode(attrs):
    return ''.join(f'{name}={escape(str(value))}\n' for name, value in attrs).encode('latin-1') + b'\n'


def receive(sock, buf):
    while b'\n\n' not in buf[0] and not buf[0].startswith(b'\n'):
        chunk = sock.recv(65536)
        if not chunk:
            raise SystemExit('agent closed the connection')
        buf[0] += chunk
    msg, _, rest = buf[0].partition(b'\n\n')
    buf[0] = rest
    out = {}
    for line in msg.decode('latin-1').split('\n'):
        if line:
            name, _, value = line.partition('=')
            out[name] = value
    return out


def main():
    sock_path, queue_dir, queue_name, queue_id, nexthop = sys.argv[1:6]
    flags = int(sys.argv[6]) if len(sys.argv) > 6 else 1
    hashed = ''
    path = f'{queue_dir}/{queue_name}/{hashed}{queue_id}'
    data = open(path, 'rb').read()
    sender = ''
    arrival = (0, 0)
    data_offset = data_size = 0
    attrs = {}
    rcpts = []
    pending = {'orig': '', 'orcpt': '', 'notify': 0}
    for offset, rtype, payload in read_records(data):
        text = payload.decode('latin-1')
        if rtype == 'C':
            fields = text.split()
            data_size, data_offset = int(fields[0]), int(fields[1])
        elif rtype == 'T':
            parts = text.split()
            arrival = (int(parts[0]), int(parts[1]) if len(parts) > 1 else 0)
        elif rtype == 'S':
            sender = text
        elif rtype == 'A':
            name, _, value = text.partition('=')
            # DSN attributes of the next recipient travel as A records.
            if name == 'dsn_orig_rcpt':
                pending['orcpt'] = value
            elif name == 'notify_flags':
                pending['notify'] = int(value)
            else:
                attrs[name] = value
        elif rtype == 'O':
            pending['orig'] = text
        elif rtype == 'o':
            pending['orcpt'] = text
        elif rtype == 'n':
            pending['notify'] = int(text)
        elif rtype == 'R':
            rcpts.append((pending['orig'], text, pending['orcpt'], pending['notify'], offset))
            pending = {'orig': '', 'orcpt': '', 'notify': 0}
        elif rtype == 'M':
            break
    # The reference's qmgr hands recipients over sorted by address.
    rcpts.sort(key=lambda r: r[1].encode('latin-1'))
    now = time.time()
    request = [
        ('flags', flags), ('queue_name', queue_name), ('queue_id', queue_id),
        ('offset', data_offset), ('size', data_size), ('nexthop', nexthop),
        ('encoding', attrs.get('encoding', '')), ('smtputf8', 0), ('sender', sender),
        ('envelope_id', ''), ('ret_flags', 0),
        ('incoming_arrival', f'{arrival[0]}.{arrival[1]:06d}'),
        ('active_arrival', f'{int(now)}.{int((now % 1) * 1e6):06d}'),
        ('reuse_count', 0),
        ('client_name', attrs.get('log_client_name', attrs.get('client_name', ''))),
        ('client_address', attrs.get('log_client_address', attrs.get('client_address', ''))),
        ('client_port', attrs.get('log_client_port', attrs.get('client_port', ''))),
        ('protocol_name', attrs.get('log_protocol_name', attrs.get('protocol_name', ''))),
        ('helo_name', attrs.get('log_helo_name', attrs.get('helo_name', ''))),
        ('sasl_method', attrs.get('sasl_method', '')),
        ('sasl_username', attrs.get('sasl_username', '')),
        ('sasl_sender', attrs.get('sasl_sender', '')),
        ('log_ident', queue_id), ('rewrite_context', attrs.get('rewrite_context', 'local')),
        ('rcpt_count', len(rcpts)),
    ]
    for orig, addr, orcpt, notify, offset in rcpts:
        request += [('rcpt_orig', orig), ('rcpt_addr', addr), ('rcpt_dsn_orcpt', orcpt),
                    ('rcpt_dsn_notify', notify), ('rcpt_offset', offset)]
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(60)
    sock.connect(sock_path)
    buf = [b'']
    greeting = receive(sock, buf)
    if greeting.get('protocol') != 'delivery':
        raise SystemExit(f'bad greeting {greeting}')
    sock.sendall(encode(request))
    reply = receive(sock, buf)
    print(' '.join(f'{k}={v}' for k, v in reply.items()))


if __name__ == '__main__':
    main()
