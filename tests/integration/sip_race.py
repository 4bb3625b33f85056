#!/usr/bin/env python3
"""Requests that cross anncd's own, seen from the caller (RFC 3261
sections 9.2, 15.1.2 and 17.2.3).  One call each, one after the other, so
that the first fetch is a real one and not an answer from the cache:

  early   a BYE sent right behind the INVITE, while anncd fetches (most
          runs; the fetch is fast, so the order seen is printed): the
          BYE names no dialog yet (no To tag) and gets 481; the INVITE
          still gets its final answer, then is hung up as usual
  cancel  a CANCEL sent right after the 200: 200 (or 481), no 487 after
          the 2xx, and the call goes on until the caller's BYE
  cross   a short stream (duration=): when anncd's BYE comes the caller
          sends its own before answering it; both get 200
  limits  OPTIONS at and one past the header field count and header line
          length limits: 400 naming the option, or nothing when the
          fields a 400 needs come after the limit

Each result prints as "scenario.name=value"; every message the caller
received is recorded in the values.  The shell caller compares.

    sip_race.py --to HOST:PORT --local IP --url URL --base-port N
"""

import argparse
import os
import sys
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sip_dialog import (Dialog, Rtp, header, put, sdp,  # noqa: E402
                        status, OUT)


def statuses(d, cseq, method, seconds):
    """Every final response to (cseq, method) received within seconds."""
    got = []
    while True:
        r = d.wait(cseq, method, seconds)
        if not r:
            return got
        got.append(status(r))
        seconds = 1.0


def early(a, n):
    d = Dialog(a, a.sip + n, a.params)
    c = d.request("INVITE", sdp(a.local, a.base + 2 * n))
    b = d.request("BYE")
    # What came, in order, until both final answers are in.  The BYE
    # usually lands while the first fetch runs; when the fetch wins the
    # order shows it, and the answers must be the same.
    seen, r, rb = [], b"", 0
    d.s.settimeout(15)
    while not (r and rb):
        try:
            m = d.s.recv(65535)
        except OSError:
            break
        seen.append("%d_%s" % (status(m), header(m, "CSeq").split()[-1]))
        if status(m) >= 200 and header(m, "CSeq") == "%d INVITE" % c:
            r = m
        elif header(m, "CSeq") == "%d BYE" % b:
            rb = status(m)
    put("early.bye", rb)
    put("early.seen", ",".join(seen))
    put("early.invite", status(r))
    if status(r) == 200:
        d.to_tag = header(r, "To").split("tag=")[1].split(";")[0]
        d.ack(c)
        put("early.hangup", d.bye())


def cancel(a, n):
    d = Dialog(a, a.sip + n, a.params)
    rtp = Rtp(a.local, a.base + 2 * n, 4)
    rtp.start()
    c, r = d.invite(sdp(a.local, a.base + 2 * n))
    put("cancel.invite", status(r))
    # The CANCEL is in the INVITE's transaction: its CSeq number and
    # branch (RFC 3261 section 9.1).
    x = d.request("CANCEL", cseq=c, br=d.branches[c])
    put("cancel.cancel", status(d.wait(x, "CANCEL")))
    d.ack(c)
    # Anything more to the INVITE: a 487 here would be wrong.
    put("cancel.invite_after", ",".join(
        str(s) for s in statuses(d, c, "INVITE", 1.5)) or "none")
    n0 = len(rtp.pkts)
    put("cancel.rtp_goes_on", "yes" if n0 > 20 else "no %d" % n0)
    put("cancel.hangup", d.bye())


def cross(a, n):
    d = Dialog(a, a.sip + n, a.params_short)
    c, r = d.invite(sdp(a.local, a.base + 2 * n))
    put("cross.invite", status(r))
    d.ack(c)
    bye = d.wait_request("BYE", 20)
    put("cross.their_bye", "yes" if bye else "no")
    # Ours goes out before theirs is answered: the two cross.
    mine = d.request("BYE")
    if bye:
        d.s.sendto(b"SIP/2.0 200 OK\r\n" + b"\r\n".join(
            ln for ln in bye.split(b"\r\n\r\n")[0].split(b"\r\n")[1:]
            if ln.split(b":")[0].strip().lower() in
            (b"via", b"from", b"to", b"call-id", b"cseq")) +
            b"\r\nContent-Length: 0\r\n\r\n", a.server)
    put("cross.my_bye", ",".join(
        str(s) for s in statuses(d, mine, "BYE", 5)) or "none")
    # anncd's BYE is not sent again once answered.
    put("cross.bye_again", "yes" if d.wait_request("BYE", 2) else "no")


def limit_msg(a, port, tag, pads, subject, pads_first=False):
    """An OPTIONS with pads X-Pad fields, before the mandatory ones or
    after them, and a Subject of subject bytes (CRLF not counted)."""
    pad = "".join("X-Pad: %d\r\n" % i for i in range(pads))
    must = ("Via: SIP/2.0/UDP %s:%d;branch=z9hG4bK%s\r\n"
            "From: <sip:race@%s>;tag=%s\r\nTo: <sip:annc@%s>\r\n"
            "Call-ID: %s@race\r\nCSeq: 1 OPTIONS\r\n" %
            (a.local, port, tag, a.local, tag, a.to, tag))
    head = ("Subject: " + "s" * (subject - 9) + "\r\n") if subject else ""
    return ("OPTIONS sip:annc@%s SIP/2.0\r\n%s%s\r\n" %
            (a.to, head, pad + must if pads_first else must + pad)
            ).encode()


def limits(a, n):
    """--sip-max-headers and --sip-max-line-bytes at their defaults."""
    d = Dialog(a, a.sip + n, "")
    cases = [("at_headers", 251, 0, False), ("over_headers", 252, 0, False),
             ("over_headers_first", 252, 0, True),
             ("at_line", 0, 8192, False), ("over_line", 0, 8193, False)]
    for name, pads, subject, first in cases:
        d.s.sendto(limit_msg(a, d.port, name, pads, subject, first),
                   a.server)
        d.s.settimeout(3)
        try:
            m = d.s.recv(65535)
            got = "%d_%s" % (status(m), m.split(b"\r\n")[0].decode()
                             .split(" ", 2)[2].replace(" ", "_"))
        except OSError:
            got = "none"
        put("limits." + name, got)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--to", required=True)
    ap.add_argument("--local", required=True)
    ap.add_argument("--url", required=True)
    ap.add_argument("--base-port", type=int, default=40000)
    ap.add_argument("--sip-port", type=int, default=5400)
    a = ap.parse_args()
    host, port = a.to.rsplit(":", 1)
    a.server = (host, int(port))
    a.base, a.sip = a.base_port, a.sip_port
    safe = "[]/:&+$-_.!~*'()"
    play = (";play=%s;content-type=audio/basic;"
            "content-transfer-encoding=base64" %
            urllib.parse.quote(a.url, safe=safe))
    a.params = play + ";repeat=forever;duration=100000"
    a.params_short = play + ";duration=1000"
    for i, f in enumerate([early, cancel, cross, limits]):
        f(a, i)
    for line in sorted(OUT):
        print(line)


if __name__ == "__main__":
    main()
