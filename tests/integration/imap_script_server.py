#!/usr/bin/env python3
"""A scripted IMAP server: faults a real server cannot be made to produce.

Listens on 127.0.0.1:PORT, greets, answers LOGIN, CAPABILITY, NOOP and
LOGOUT as a server would, and answers URLFETCH (RFC 4467) as SCENARIO
says:

  huge      a literal announced as 4 GiB, then nothing more
  overflow  a literal length of more digits than 64 bits can hold
  byemid    30,000 bytes of a 100,000-byte literal (base64 "A"s), then
            "* BYE" and the connection closed: inside a literal those
            bytes are data, so the client sees them as such (not base64)
            and a connection closed in the middle of the literal
  badb64    a whole literal of 30,004 bytes whose byte 30,000 is "*":
            not base64, found when it is decoded after the tagged OK
  cutb64    a whole literal of 30,002 bytes of base64 "A"s: it ends
            inside a quantum
  junk      binary junk lines, then a 20 KB line without CRLF
  no        a tagged NO with a BADURL response code
  silent    never answers URLFETCH (the connection stays open)
  stale     answers the first URLFETCH of a connection with 1,599 bytes
            of mu-law silence, base64-encoded; at the second it closes
            the connection unanswered, as a server that has just timed an
            idle session out: a client with a connection pool must send
            the fetch again on a new connection

Connections are served one at a time, each bounded in time; the first
line on stdout, "listening PORT", says the socket is ready.  Stop it with
SIGTERM.
"""

import argparse
import socket
import sys

SCENARIOS = ("huge", "overflow", "byemid", "badb64", "cutb64", "junk", "no",
             "silent", "stale")
# 1,599 bytes of 0xff (mu-law silence) in base64, 76 columns, CRLF.
_RAW = b"/" * (1599 // 3 * 4)
SILENCE_B64 = b"".join(_RAW[i:i + 76] + b"\r\n"
                       for i in range(0, len(_RAW), 76))
CONN_TIMEOUT = 60.0


class Conn:
    def __init__(self, sock):
        self.sock = sock
        self.buf = b""
        self.fetches = 0

    def line(self):
        """One command line without its CRLF; None at EOF."""
        while b"\r\n" not in self.buf:
            data = self.sock.recv(4096)
            if not data:
                return None
            self.buf += data
            if len(self.buf) > 65536:
                return None
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def send(self, data):
        self.sock.sendall(data)


def imap_string(args):
    """The first argument of a command, unquoted (a quoted string or an
    atom)."""
    if args.startswith(b'"'):
        out, i = b"", 1
        while i < len(args) and args[i:i + 1] != b'"':
            if args[i:i + 1] == b"\\":
                i += 1
            out += args[i:i + 1]
            i += 1
        return out
    return args.split(b" ", 1)[0]


def quoted(s):
    return b'"' + s.replace(b"\\", b"\\\\").replace(b'"', b'\\"') + b'"'


def urlfetch(c, scenario, tag, url):
    """Answers one URLFETCH; returns False when the connection is to end
    here."""
    head = b"* URLFETCH " + quoted(url) + b" "
    if scenario == "stale":
        c.fetches += 1
        if c.fetches > 1:
            return False
        c.send(head + b"{%d}\r\n" % len(SILENCE_B64) + SILENCE_B64 +
               b"\r\n" + tag + b" OK URLFETCH completed\r\n")
        return True
    if scenario == "huge":
        c.send(head + b"{4294967296}\r\n")
        c.send(b"AAAA" * 1024)
        return True
    if scenario == "overflow":
        c.send(head + b"{" + b"9" * 40 + b"}\r\n")
        return True
    if scenario == "byemid":
        c.send(head + b"{100000}\r\n")
        c.send(b"AAAA" * 7500)
        c.send(b"\r\n* BYE server shutting down in a literal\r\n")
        return False
    if scenario in ("badb64", "cutb64"):
        lit = b"AAAA" * 7500 + (b"*AAA" if scenario == "badb64" else b"AA")
        c.send(head + b"{%d}\r\n" % len(lit) + lit + b"\r\n" + tag +
               b" OK URLFETCH completed\r\n")
        return True
    if scenario == "junk":
        c.send(b"\x00\x01\xfe\xff garbage \x80\x81\r\n")
        c.send(bytes(range(256)).replace(b"\n", b"") + b"\r\n")
        c.send(b"* \xff\xfe\x00 URLFETCH {\r\n")
        c.send(b"Z" * 20480)
        return True
    if scenario == "no":
        c.send(tag + b" NO [BADURL " + quoted(url) +
               b"] scripted refusal\r\n")
        return True
    return True		# silent


def serve(c, scenario):
    c.send(b"* OK [CAPABILITY IMAP4rev1 URLAUTH] scripted server ready\r\n")
    for _ in range(64):
        line = c.line()
        if line is None:
            return
        tag, _, rest = line.partition(b" ")
        cmd, _, args = rest.partition(b" ")
        cmd = cmd.upper()
        if cmd == b"LOGIN":
            c.send(tag + b" OK LOGIN completed\r\n")
        elif cmd == b"CAPABILITY":
            c.send(b"* CAPABILITY IMAP4rev1 URLAUTH\r\n" + tag +
                   b" OK CAPABILITY completed\r\n")
        elif cmd == b"NOOP":
            c.send(tag + b" OK NOOP completed\r\n")
        elif cmd == b"LOGOUT":
            c.send(b"* BYE logging out\r\n" + tag + b" OK LOGOUT\r\n")
            return
        elif cmd == b"URLFETCH":
            if not urlfetch(c, scenario, tag, imap_string(args)):
                return
        else:
            c.send(tag + b" BAD unknown command\r\n")


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("port", type=int)
    p.add_argument("scenario", choices=SCENARIOS)
    p.add_argument("--connections", type=int, default=16,
                   help="serve this many connections, then exit")
    o = p.parse_args()

    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", o.port))
    ls.listen(16)
    print("listening %d" % o.port, flush=True)
    for _ in range(o.connections):
        sock, peer = ls.accept()
        print("connection from %s:%d" % peer, flush=True)
        sock.settimeout(CONN_TIMEOUT)
        try:
            serve(Conn(sock), o.scenario)
        except OSError as e:
            print("connection: %s" % e, flush=True)
        finally:
            sock.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
