#!/usr/bin/env python3
"""Many SIP callers of one announcement at once, from one UDP socket.

Sends N INVITEs for the same play URL (RFC 4240, RFC 5616), or for the
URLs of a file in turn (--urls), each its own dialog (Call-ID, From tag, branch), all offering PCMU to one RTP port.
INVITEs are retransmitted per RFC 3261 timer A until a response comes and
given up at timer B; each 2xx is acknowledged to its Contact and the call
hung up with a BYE (timer E, F) as soon as it is acknowledged, so that no
stream can end on its own first.  A BYE from the server gets its 200.

The last line of output is
    sent=N ok=N refused=N no_answer=N bye_ok=N
ok counts 2xx answers, refused final answers of 300 and above, no_answer
INVITEs without a final answer, bye_ok our BYEs answered 2xx.
"""

import argparse
import os
import select
import socket
import sys
import time

KEEP = set(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
           b"0123456789-_.!~*'()[]/:&+$")
COMPACT = {"i": "call-id", "f": "from", "t": "to", "m": "contact",
           "v": "via", "l": "content-length"}


def escape(s):
    """RFC 3261 section 25.1: what a URI parameter cannot hold, as %HH."""
    return "".join(chr(b) if b in KEEP else "%%%02X" % b
                   for b in s.encode())


def token(n=12):
    return os.urandom(n).hex()


def parse(data):
    """Start line and headers (lower-case names, first value kept;
    every Via value, in order) of one SIP message, or None."""
    try:
        head = data.split(b"\r\n\r\n", 1)[0].decode("utf-8", "replace")
    except ValueError:
        return None
    lines = head.split("\r\n")
    hdrs = {"via": []}
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if not sep:
            continue
        name = name.strip().lower()
        name = COMPACT.get(name, name)
        if name == "via":
            hdrs["via"].append(value.strip())
        else:
            hdrs.setdefault(name, value.strip())
    return lines[0], hdrs


def uri_hostport(uri, default):
    """host:port of a SIP URI (with or without <>), as an address."""
    uri = uri.strip()
    if uri.startswith("<"):
        uri = uri[1:uri.find(">")] if ">" in uri else uri[1:]
    hp = uri.split("@", 1)[-1].split(";", 1)[0].split("?", 1)[0]
    host, _, port = hp.partition(":")
    try:
        return (host, int(port) if port else 5060), uri
    except ValueError:
        return default, uri


class Retx:
    """One request retransmitted: interval doubling up to cap, until a
    response or the give-up time (RFC 3261 section 17.1)."""

    def __init__(self, msg, dest, t1, cap, life, now):
        self.msg = msg
        self.dest = dest
        self.interval = t1
        self.cap = cap
        self.at = now + t1
        self.give_up = now + life
        self.on = True


class Call:
    def __init__(self, i):
        self.index = i
        self.call_id = "%s-%d@sip-burst" % (token(), i)
        self.from_tag = token(8)
        self.branch = "z9hG4bK" + token()
        self.state = "calling"
        self.final = 0
        self.to_hdr = ""
        self.target = ""
        self.target_addr = None
        self.ack = None
        self.invite = None
        self.bye = None
        self.bye_status = 0


class Burst:
    def __init__(self, o):
        self.o = o
        host, _, port = o.server.rpartition(":")
        self.server = (host, int(port))
        if o.urls:
            with open(o.urls) as f:
                urls = [u.strip() for u in f if u.strip()]
        else:
            urls = [o.play_url]
        self.ruris = [self.service_uri(u) for u in urls]
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((o.local, o.sip_port))
        self.sock.setblocking(False)
        self.grow_rcvbuf(self.sock, 16 << 20)
        # Media goes here and is never read: the socket only keeps the
        # port open, so that the kernel sends no ICMP back to the server.
        self.rtp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.rtp.bind((o.local, o.rtp_port))
        self.calls = [Call(i) for i in range(o.count)]
        self.by_id = {c.call_id: c for c in self.calls}
        self.server_byes = 0
        self.retransmits = 0
        self.send_blocked = 0

    def service_uri(self, url):
        o = self.o
        ruri = "sip:annc@%s;play=%s;content-type=%s" % (
            o.server, escape(url), escape(o.content_type))
        if o.cte:
            ruri += ";content-transfer-encoding=" + escape(o.cte)
        return ruri

    def ruri(self, c):
        return self.ruris[c.index % len(self.ruris)]

    @staticmethod
    def grow_rcvbuf(s, size):
        # SO_RCVBUFFORCE passes net.core.rmem_max, as root; else the
        # ordinary option, capped by the kernel.
        force = getattr(socket, "SO_RCVBUFFORCE", 33)
        try:
            s.setsockopt(socket.SOL_SOCKET, force, size)
        except OSError:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, size)

    def send(self, msg, dest):
        try:
            self.sock.sendto(msg, dest)
        except BlockingIOError:
            # The socket's queue is full: the retransmission timer
            # sends it again, as after a loss.
            self.send_blocked += 1

    def request(self, c, method, ruri, branch, cseq, to, extra="",
                body=""):
        o = self.o
        return ("%s %s SIP/2.0\r\n"
                "Via: SIP/2.0/UDP %s:%d;branch=%s;rport\r\n"
                "Max-Forwards: 70\r\n"
                "From: <sip:sip-burst@%s>;tag=%s\r\n"
                "To: %s\r\n"
                "Call-ID: %s\r\n"
                "CSeq: %d %s\r\n"
                "%s"
                "Content-Length: %d\r\n\r\n%s" % (
                    method, ruri, o.local, o.sip_port, branch, o.local,
                    c.from_tag, to, c.call_id, cseq, method, extra,
                    len(body.encode()), body)).encode()

    def offer(self):
        o = self.o
        return ("v=0\r\no=sip-burst %d 1 IN IP4 %s\r\ns=-\r\n"
                "c=IN IP4 %s\r\nt=0 0\r\nm=audio %d RTP/AVP 0\r\n"
                "a=rtpmap:0 PCMU/8000\r\na=ptime:20\r\na=recvonly\r\n" % (
                    int(time.time()), o.local, o.local, o.rtp_port))

    def send_invites(self, now):
        o = self.o
        sdp = self.offer()
        extra = ("Contact: <sip:sip-burst@%s:%d>\r\n"
                 "Content-Type: application/sdp\r\n" % (o.local, o.sip_port))
        for c in self.calls:
            msg = self.request(c, "INVITE", self.ruri(c), c.branch, 1,
                               "<sip:annc@%s>" % o.server, extra, sdp)
            # timer A doubles without a cap; timer B at 64*T1
            c.invite = Retx(msg, self.server, o.t1, 1e9, 64 * o.t1, now)
            self.send(msg, self.server)

    def send_ack_2xx(self, c):
        # RFC 3261 section 13.2.2.4: a transaction of its own, new
        # branch, to the remote target (the 2xx's Contact).
        c.ack = (self.request(c, "ACK", c.target, "z9hG4bK" + token(), 1,
                              c.to_hdr), c.target_addr)
        self.send(*c.ack)

    def send_bye(self, c, now):
        o = self.o
        msg = self.request(c, "BYE", c.target, "z9hG4bK" + token(), 2,
                           c.to_hdr)
        # timer E doubles up to T2; timer F at 64*T1
        c.bye = Retx(msg, c.target_addr, o.t1, o.t2, 64 * o.t1, now)
        c.state = "bye_sent"
        self.send(msg, c.target_addr)

    def on_invite_response(self, c, code, h, now):
        if code < 200:
            c.invite.on = False
            return
        if c.state != "calling":
            # a retransmitted final: our ACK was lost or is late
            if c.ack is not None:
                self.send(*c.ack)
            return
        c.invite.on = False
        c.final = code
        c.to_hdr = h.get("to", "")
        if code >= 300:
            # section 17.1.1.3: same branch and Request-URI
            c.ack = (self.request(c, "ACK", self.ruri(c), c.branch, 1,
                                  c.to_hdr), self.server)
            self.send(*c.ack)
            c.state = "refused"
            return
        c.target_addr, c.target = uri_hostport(h.get("contact", ""),
                                               self.server)
        if not c.target:
            c.target = self.ruri(c)
        self.send_ack_2xx(c)
        self.send_bye(c, now)

    def on_response(self, start, h, now):
        parts = start.split(" ", 2)
        c = self.by_id.get(h.get("call-id", ""))
        if c is None or len(parts) < 2 or not parts[1].isdigit():
            return
        code = int(parts[1])
        method = h.get("cseq", "").split()[-1:]
        if method == ["INVITE"]:
            self.on_invite_response(c, code, h, now)
        elif method == ["BYE"] and c.state == "bye_sent" and code >= 200:
            c.bye.on = False
            c.bye_status = code
            c.state = "done"

    def on_request(self, start, h, src):
        method = start.split(" ", 1)[0]
        if method != "BYE":
            return
        c = self.by_id.get(h.get("call-id", ""))
        code, reason = (200, "OK") if c is not None else (
            481, "Call/Transaction Does Not Exist")
        resp = "SIP/2.0 %d %s\r\n" % (code, reason)
        for v in h["via"]:
            resp += "Via: %s\r\n" % v
        for name in ("From", "To", "Call-ID", "CSeq"):
            resp += "%s: %s\r\n" % (name, h.get(name.lower(), ""))
        resp += "Content-Length: 0\r\n\r\n"
        self.send(resp.encode(), src)
        if c is not None and c.state not in ("done", "server_bye"):
            self.server_byes += 1
            if c.bye is not None:
                c.bye.on = False
            c.state = "server_bye"

    def receive(self, now):
        for _ in range(4096):
            try:
                data, src = self.sock.recvfrom(65535)
            except BlockingIOError:
                return
            msg = parse(data)
            if msg is None:
                continue
            start, h = msg
            if start.startswith("SIP/2.0 "):
                self.on_response(start, h, now)
            else:
                self.on_request(start, h, src)

    def timers(self, now):
        """Retransmits what is due; returns the next due time."""
        nxt = now + 0.5
        for c in self.calls:
            for name in ("invite", "bye"):
                t = getattr(c, name)
                if t is None or not t.on:
                    continue
                if now >= t.give_up:
                    t.on = False
                    c.state = "no_answer" if name == "invite" else "done"
                    continue
                if now >= t.at:
                    self.send(t.msg, t.dest)
                    self.retransmits += 1
                    t.interval = min(t.interval * 2, t.cap)
                    t.at = now + t.interval
                nxt = min(nxt, t.at, t.give_up)
        return nxt

    def finished(self):
        return all(c.state in ("refused", "no_answer", "done",
                               "server_bye") for c in self.calls)

    def run(self):
        deadline = time.monotonic() + self.o.timeout
        now = time.monotonic()
        self.send_invites(now)
        while not self.finished():
            now = time.monotonic()
            if now >= deadline:
                break
            nxt = min(self.timers(now), deadline)
            select.select([self.sock], [], [], max(0.0, nxt - now))
            self.receive(time.monotonic())

    def report(self):
        codes = {}
        for c in self.calls:
            codes[c.final] = codes.get(c.final, 0) + 1
        ok = sum(1 for c in self.calls if 200 <= c.final < 300)
        refused = sum(1 for c in self.calls if c.final >= 300)
        bye_ok = sum(1 for c in self.calls if 200 <= c.bye_status < 300)
        print("sip-burst: finals %s, BYEs from the server %d, "
              "retransmissions %d, sends blocked %d" % (
                  " ".join("%d:%d" % kv for kv in sorted(codes.items())),
                  self.server_byes, self.retransmits, self.send_blocked),
              file=sys.stderr)
        print("sent=%d ok=%d refused=%d no_answer=%d bye_ok=%d" % (
            len(self.calls), ok, refused, len(self.calls) - ok - refused,
            bye_ok))


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--server", required=True, help="anncd's HOST:PORT")
    p.add_argument("--local", required=True, help="our address")
    p.add_argument("--sip-port", type=int, default=5070)
    p.add_argument("--rtp-port", type=int, default=30000)
    p.add_argument("--count", type=int, default=1000)
    g = p.add_mutually_exclusive_group(required=True)
    g.add_argument("--play-url")
    g.add_argument("--urls", help="a file of play URLs, one a line")
    p.add_argument("--content-type", default="audio/basic")
    p.add_argument("--cte", default="base64")
    p.add_argument("--t1", type=float, default=0.5, help="seconds")
    p.add_argument("--t2", type=float, default=4.0, help="seconds")
    p.add_argument("--timeout", type=float, default=90,
                   help="bound on the whole run, seconds")
    o = p.parse_args()
    b = Burst(o)
    b.run()
    b.report()


if __name__ == "__main__":
    main()
