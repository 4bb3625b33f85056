#!/usr/bin/env python3
"""Drives one call of baresip over its ctrl_tcp module and reports it.

ctrl_tcp speaks netstrings ("LEN:DATA,") of JSON: commands go in as
{"command", "params", "token"}, and baresip sends back responses and call
events ({"event": true, "type": "CALL_ESTABLISHED", ...}).  This connects
(baresip may still be starting), dials URI, prints every event as one line,
and returns once the call is closed, the far end's BYE included, or when
the time is up; then it asks baresip to quit.  The last line is a summary:

    established=yes|no closed=yes|no reason="..." events=N

    baresip_ctrl.py HOST:PORT URI SECONDS
"""
import json
import socket
import sys
import time


def connect(host, port, deadline):
    while True:
        try:
            return socket.create_connection((host, port), timeout=1)
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def send(sock, obj):
    data = json.dumps(obj).encode()
    sock.sendall(b"%d:%s," % (len(data), data))


class Netstrings:
    """Splits the byte stream into netstrings as they complete."""

    def __init__(self, sock):
        self.sock = sock
        self.buf = b""

    def next(self, deadline):
        while True:
            colon = self.buf.find(b":")
            if colon > 0:
                n = int(self.buf[:colon])
                if len(self.buf) >= colon + n + 2:
                    item = self.buf[colon + 1:colon + 1 + n]
                    self.buf = self.buf[colon + n + 2:]
                    return json.loads(item)
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            self.sock.settimeout(left)
            try:
                chunk = self.sock.recv(4096)
            except socket.timeout:
                return None
            if not chunk:
                return None
            self.buf += chunk


def main():
    if len(sys.argv) != 4:
        sys.exit("usage: baresip_ctrl.py HOST:PORT URI SECONDS")
    host, port = sys.argv[1].rsplit(":", 1)
    deadline = time.monotonic() + float(sys.argv[3])
    sock = connect(host, int(port), deadline)
    stream = Netstrings(sock)
    # ctrl_tcp quietly drops a command line of 1,024 bytes or more.
    send(sock, {"command": "dial", "params": sys.argv[2], "token": "dial"})
    established = closed = False
    reason = ""
    events = 0
    while not closed:
        msg = stream.next(deadline)
        if msg is None:
            break
        print(json.dumps(msg, sort_keys=True), flush=True)
        if not msg.get("event"):
            continue
        events += 1
        if msg.get("type") == "CALL_ESTABLISHED":
            established = True
        elif msg.get("type") == "CALL_CLOSED":
            closed = True
            reason = msg.get("param", "")
    try:
        send(sock, {"command": "quit", "params": "", "token": "quit"})
    except OSError:
        pass
    sock.close()
    print('established=%s closed=%s reason="%s" events=%d' % (
        "yes" if established else "no", "yes" if closed else "no",
        reason.replace('"', "'"), events))


if __name__ == "__main__":
    main()
