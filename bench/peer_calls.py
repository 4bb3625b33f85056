#!/usr/bin/env python3
"""The callers' signalling of the peer benchmark: N calls held open.

sip: N SIP INVITEs for one announcement (RFC 4240, RFC 5616) to anncd,
each its own dialog, all offering PCMU to one RTP address where
bench-peer-rtp receives; the 2xx are acknowledged and the calls held until
SIGTERM, then hung up with a BYE.  It is tests/integration/sip_burst.py
with the BYE put off.

rtpengine: N calls set up through rtpengine's ng control protocol (bencode
over UDP): offer and answer, both parties at the receiving address, then
"play media" of an announcement file to the offering party.

Either prints a last line  calls=N ok=N failed=N setup_s=S.
"""

import argparse
import os
import select
import signal
import socket
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))
import sip_burst  # noqa: E402

stop_wanted = False


def on_term(_sig, _frame):
    global stop_wanted
    stop_wanted = True


class Held(sip_burst.Burst):
    """A burst whose calls stay up until stop_wanted."""

    holding = True

    def offer(self):
        o = self.o
        return ("v=0\r\no=peer-calls %d 1 IN IP4 %s\r\ns=-\r\n"
                "c=IN IP4 %s\r\nt=0 0\r\nm=audio %d RTP/AVP 0\r\n"
                "a=rtpmap:0 PCMU/8000\r\na=ptime:20\r\na=recvonly\r\n" % (
                    int(time.time()), o.local, o.local, o.media_port))

    def send_bye(self, c, now):
        if self.holding:
            c.state = "held"
            return
        super().send_bye(c, now)

    def step(self, deadline):
        now = time.monotonic()
        nxt = min(self.timers(now), deadline, now + 0.2)
        select.select([self.sock], [], [], max(0.0, nxt - now))
        self.receive(time.monotonic())

    def run(self):
        deadline = time.monotonic() + self.o.timeout
        t0 = time.monotonic()
        self.send_invites(t0)
        while (any(c.state == "calling" for c in self.calls) and
               time.monotonic() < deadline and not stop_wanted):
            self.step(deadline)
        held = [c for c in self.calls if c.state == "held"]
        report(len(self.calls), len(held), time.monotonic() - t0)
        while not stop_wanted and time.monotonic() < deadline:
            self.step(deadline)
        self.holding = False
        now = time.monotonic()
        for c in held:
            if c.state == "held":
                self.send_bye(c, now)
        deadline = min(deadline, now + 10)
        while not self.finished() and time.monotonic() < deadline:
            self.step(deadline)


def report(n, ok, secs):
    print("calls=%d ok=%d failed=%d setup_s=%.2f" % (n, ok, n - ok, secs),
          flush=True)


# ---- rtpengine's ng protocol: bencode (BitTorrent's encoding) ----

def benc(v):
    if isinstance(v, int):
        return b"i%de" % v
    if isinstance(v, str):
        v = v.encode()
    if isinstance(v, bytes):
        return b"%d:%s" % (len(v), v)
    if isinstance(v, dict):
        return b"d" + b"".join(benc(k) + benc(v[k])
                               for k in sorted(v)) + b"e"
    if isinstance(v, list):
        return b"l" + b"".join(benc(x) for x in v) + b"e"
    raise TypeError(type(v))


def bdec(b, i=0):
    """Returns (value, next index); strings stay bytes."""
    c = b[i:i + 1]
    if c == b"i":
        j = b.index(b"e", i)
        return int(b[i + 1:j]), j + 1
    if c in (b"d", b"l"):
        i += 1
        out = []
        while b[i:i + 1] != b"e":
            v, i = bdec(b, i)
            out.append(v)
        if c == b"l":
            return out, i + 1
        return dict(zip(out[::2], out[1::2])), i + 1
    j = b.index(b":", i)
    n = int(b[i:j])
    return b[j + 1:j + 1 + n], j + 1 + n


def sdp(addr, port, sess):
    return ("v=0\r\no=- %d 1 IN IP4 %s\r\ns=peer\r\nc=IN IP4 %s\r\n"
            "t=0 0\r\nm=audio %d RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n"
            "a=ptime:20\r\na=sendrecv\r\n" % (sess, addr, addr, port))


class NgCall:
    def __init__(self, i, o):
        tok = os.urandom(6).hex()
        self.call_id = "peer-%d-%s" % (i, tok)
        self.from_tag = "a" + tok
        self.to_tag = "b" + tok
        self.o = o
        self.step = 0          # 0 offer, 1 answer, 2 play media, 3 done
        self.cookie = None
        self.sent_at = 0.0
        self.tries = 0
        self.failed = False

    def request(self):
        o = self.o
        if self.step == 0:
            return {"command": "offer", "call-id": self.call_id,
                    "from-tag": self.from_tag,
                    "sdp": sdp(o.local, o.media_port, 1)}
        if self.step == 1:
            return {"command": "answer", "call-id": self.call_id,
                    "from-tag": self.from_tag, "to-tag": self.to_tag,
                    "sdp": sdp(o.local, o.media_port + 2, 2)}
        # the offering party hears the announcement
        return {"command": "play media", "call-id": self.call_id,
                "from-tag": self.from_tag, "file": o.file,
                "repeat-times": 1}


class Ng:
    """Up to --window calls in flight, each one command at a time; a
    command unanswered for a second is sent again with its cookie (the
    ng protocol answers a repeated cookie from its cache)."""

    def __init__(self, o):
        self.o = o
        host, _, port = o.ng.rpartition(":")
        self.dest = (host, int(port))
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.setblocking(False)
        self.calls = [NgCall(i, o) for i in range(o.count)]
        self.by_cookie = {}
        self.next = 0
        self.errors = {}

    def send(self, c, now):
        if c.cookie is None:
            c.cookie = os.urandom(8).hex()
            self.by_cookie[c.cookie] = c
        c.sent_at = now
        c.tries += 1
        self.sock.sendto(c.cookie.encode() + b" " + benc(c.request()),
                         self.dest)

    def on_reply(self, data, now):
        cookie, _, body = data.partition(b" ")
        c = self.by_cookie.pop(cookie.decode(errors="replace"), None)
        if c is None:
            return
        c.cookie = None
        c.tries = 0
        try:
            d, _ = bdec(body)
        except (ValueError, IndexError):
            d = {}
        if d.get(b"result") != b"ok":
            why = d.get(b"error-reason", d.get(b"result", b"?"))
            self.errors[why] = self.errors.get(why, 0) + 1
            c.failed = True
            c.step = 3
            return
        c.step += 1
        if c.step < 3:
            self.send(c, now)

    def run(self):
        t0 = time.monotonic()
        deadline = t0 + self.o.timeout
        while time.monotonic() < deadline and not stop_wanted:
            now = time.monotonic()
            busy = [c for c in self.calls[:self.next] if c.step < 3]
            while len(busy) < self.o.window and self.next < len(self.calls):
                c = self.calls[self.next]
                self.next += 1
                self.send(c, now)
                busy.append(c)
            if not busy:
                break
            for c in busy:
                if c.cookie is not None and now - c.sent_at > 1.0:
                    if c.tries >= 5:
                        c.failed, c.step = True, 3
                        self.errors[b"no answer"] = (
                            self.errors.get(b"no answer", 0) + 1)
                    else:
                        self.send(c, now)
            select.select([self.sock], [], [], 0.05)
            for _ in range(256):
                try:
                    data = self.sock.recv(65535)
                except BlockingIOError:
                    break
                self.on_reply(data, time.monotonic())
        ok = sum(1 for c in self.calls if c.step == 3 and not c.failed)
        if self.errors:
            print("peer-calls: ng errors %s" % self.errors, file=sys.stderr)
        report(len(self.calls), ok, time.monotonic() - t0)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("mode", choices=["sip", "rtpengine"])
    p.add_argument("--count", type=int, required=True)
    p.add_argument("--local", required=True, help="the callers' address")
    p.add_argument("--media-port", type=int, default=30000,
                   help="where the callers receive RTP")
    p.add_argument("--timeout", type=float, default=120,
                   help="bound on the whole run, seconds")
    # sip
    p.add_argument("--server", help="anncd's HOST:PORT")
    p.add_argument("--play-url")
    p.add_argument("--sip-port", type=int, default=5070)
    p.add_argument("--rtp-port", type=int, default=30010,
                   help="a port only held open (sip_burst's own)")
    p.add_argument("--content-type", default="audio/basic")
    p.add_argument("--cte", default="base64")
    p.add_argument("--t1", type=float, default=0.5)
    p.add_argument("--t2", type=float, default=4.0)
    # rtpengine
    p.add_argument("--ng", help="rtpengine's ng HOST:PORT")
    p.add_argument("--file", help="absolute path of the announcement")
    p.add_argument("--window", type=int, default=32,
                   help="calls being set up at once")
    o = p.parse_args()
    o.urls = None
    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)
    if o.mode == "sip":
        if not o.server or not o.play_url:
            p.error("sip needs --server and --play-url")
        Held(o).run()
    else:
        if not o.ng or not o.file:
            p.error("rtpengine needs --ng and --file")
        deadline = time.monotonic() + o.timeout
        Ng(o).run()
        # rtpengine plays on by itself; stay until told, like sip
        while not stop_wanted and time.monotonic() < deadline:
            time.sleep(0.2)


if __name__ == "__main__":
    main()
