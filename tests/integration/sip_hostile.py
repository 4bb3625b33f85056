#!/usr/bin/env python3
"""A hostile caller against a running anncd with --sip-tcp, --sip-tls,
--sip-idle-ms IDLE and --sip-max-connections MAXC, and an IMAP server
that never answers URLFETCH at SLOW_URL's address.  Each probe prints
name=value (quoted when it has a space); test_hostile.sh compares them.

  tls_trickle, tls_record_trickle
                  a ClientHello, or a record after the handshake, sent a
                  byte per IDLE/3: "yes" when closed before it ends
  tcp_clen        Content-Length huge, negative, +0, hex, "0, 0", "1 0"
  tcp_pipeline    INVITE, OPTIONS and BYE in one write; garbage after a
                  message; bytes past the body
  reinvite_mlines a second m= line, then port 0 (RFC 3264 section 8)
  reinvite_storm  40 holds and resumes, each ACKed
  update_storm    100 UPDATEs with offers, sent at once
  reinvite_cancel CANCEL of an answered re-INVITE; BYE while its 200
                  waits for the ACK, and that 200 resent after or not
  reinvite_before_ack, reinvite_after_bye, reinvite_bodies
                  re-INVITEs before the ACK, after anncd's BYE, and with
                  offers anncd cannot take (multicast, IPv6, ...)
  rfc4240         hostile play, content-type, repeat, delay, duration,
                  locale and param values: each status and reason
  tcp_mid_call    a TCP call whose connection closes, its BYE on a new
                  one; the connection limit held with a UDP call going on
  tcp_gone        an INVITE whose connection closes before the answer,
                  then a call on a new connection (by --only alone: the
                  first call stays open 64*T1 and more)
  big_headers     10 kB of Via in an OPTIONS, 3 kB of Record-Route in
                  an INVITE: the answer, and anncd's BYE with every Route
  udp_clen        Content-Length past or short of a datagram's end
  session_expires Session-Expires and Min-SE at and past their edges
  refresher_uas   Session-Expires with refresher=uas
  hostile_contact Contacts at loopback, 0.0.0.0, multicast, broadcast
                  and anncd's own SIP port: where anncd's BYE goes
  refresh_se1     anncd's refresh answered with Session-Expires: 1:
                  no refresh storm
  poison, poison_fresh
                  a URL named with a wrong content-type, then rightly
  during_fetch    UPDATE, INVITE, BYE, CANCEL while the fetch hangs
  after           a whole call over UDP once the probes are done

    sip_hostile.py --server IP --local IP --udp PORT --tcp PORT
                   --tls PORT --ca FILE --idle-ms N --maxc N --url URL
                   --fresh-url URL --slow-url URL [--only NAME,...]
"""

import argparse
import os
import re
import socket
import ssl
import sys
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sip_dialog import (Dialog, Rtp, body, header, sdp,  # noqa: E402
                        sdp_dir, status)
from sip_stream import Stream  # noqa: E402


LONG = ";repeat=forever;duration=60000"   # a stream that outlasts a probe


def report(name, value):
    """name=value, or name="value" when it has a space (for kv_field)."""
    value = str(value)
    print(("%s=\"%s\"" if " " in value else "%s=%s") % (name, value),
          flush=True)


def request(method, ruri, local, transport="TCP", body="", extra=""):
    lines = ["%s %s SIP/2.0" % (method, ruri),
             "Via: SIP/2.0/%s %s:5070;branch=z9hG4bK%s" %
             (transport, local, os.urandom(6).hex()),
             "Max-Forwards: 70",
             "From: <sip:hostile@%s>;tag=%s" % (local, os.urandom(4).hex()),
             "To: <%s>" % ruri,
             "Call-ID: %s@hostile" % os.urandom(8).hex(),
             "CSeq: 1 %s" % method,
             "Contact: <sip:hostile@%s:5070>" % local]
    return ("\r\n".join(lines) + "\r\n" + extra +
            "Content-Length: %d\r\n\r\n%s" % (len(body), body)).encode()


def closed_within(s, seconds):
    """"yes" when the peer closes s within seconds, sending nothing."""
    end = time.monotonic() + seconds
    data = b""
    while time.monotonic() < end:
        s.settimeout(max(end - time.monotonic(), 0.01))
        try:
            chunk = s.recv(4096)
        except socket.timeout:
            break
        except OSError:
            return "yes"
        if not chunk:
            return "yes" if not data else "no: %r" % data[:40]
        data += chunk
    return "no: open, %r" % data[:40]


def trickle(s, data, gap, seconds):
    """Sends data a byte per gap seconds: "yes" when the peer closes s
    first, within seconds."""
    end = time.monotonic() + seconds
    for i in range(len(data)):
        if time.monotonic() > end:
            return "no: still open after %.1f s" % seconds
        try:
            s.sendall(data[i:i + 1])
        except OSError:
            return "yes"
        pause = time.monotonic() + gap
        while time.monotonic() < pause:
            s.settimeout(pause - time.monotonic())
            try:
                if s.recv(4096) == b"":
                    return "yes"
            except socket.timeout:
                pass
            except OSError:
                return "yes"
    return "no: all %d bytes taken" % len(data)


class Probe:
    def __init__(self, a):
        self.a = a
        self.ruri = "sip:annc@%s" % a.server
        self.gap = a.idle_ms / 3000
        self.wait = a.idle_ms / 1000 * 4 + 2

    def tcp(self, port=None):
        return socket.create_connection((self.a.server, port or self.a.tcp),
                                        5, (self.a.local, 0))

    def tls_objects(self):
        """A client TLS session over memory BIOs: its records can be
        sent a byte at a time."""
        ctx = ssl.create_default_context(cafile=self.a.ca)
        rd, wr = ssl.MemoryBIO(), ssl.MemoryBIO()
        obj = ctx.wrap_bio(rd, wr, server_hostname=self.a.server)
        return obj, rd, wr

    def tls_trickle(self):
        obj, _, wr = self.tls_objects()
        try:
            obj.do_handshake()
        except ssl.SSLWantReadError:
            pass
        hello = wr.read()
        s = self.tcp(self.a.tls)
        report("tls_trickle", trickle(s, hello, self.gap, self.wait))
        s.close()

    def tls_record_trickle(self):
        obj, rd, wr = self.tls_objects()
        s = self.tcp(self.a.tls)
        s.settimeout(5)
        while True:
            try:
                obj.do_handshake()
                break
            except ssl.SSLWantReadError:
                s.sendall(wr.read())
                rd.write(s.recv(65536))
        s.sendall(wr.read())
        obj.write(request("OPTIONS", self.ruri, self.a.local, "TLS"))
        report("tls_record_trickle", trickle(s, wr.read(), self.gap,
                                             self.wait))
        s.close()

    def answers(self, s, want, seconds=5):
        """Status codes of what s brings within seconds, and whether the
        peer closed."""
        end, data = time.monotonic() + seconds, b""
        closed = False
        while data.count(b"SIP/2.0 ") < want and time.monotonic() < end:
            s.settimeout(max(end - time.monotonic(), 0.01))
            try:
                chunk = s.recv(65536)
            except socket.timeout:
                break
            except OSError:
                closed = True
                break
            if not chunk:
                closed = True
                break
            data += chunk
        codes = [int(m) for m in re.findall(rb"SIP/2\.0 (\d{3}) ", data)]
        return codes, closed

    def tcp_send(self, name, data, want=1):
        s = self.tcp()
        s.sendall(data)
        codes, closed = self.answers(s, want)
        if not closed:
            closed = closed_within(s, 1) == "yes"
        report(name, "%s%s" % (codes, " closed" if closed else ""))
        s.close()

    def tcp_clen(self):
        opt = request("OPTIONS", self.ruri, self.a.local)
        for name, v in (("huge", b"9" * 40), ("negative", b"-1"),
                        ("plus", b"+0"), ("hex", b"0x0"),
                        ("two", b"0, 0"), ("space_in", b"1 0")):
            self.tcp_send("clen_" + name,
                          opt.replace(b"Content-Length: 0",
                                      b"Content-Length: " + v))

    def tcp_pipeline(self):
        inv = request("INVITE", self.ruri, self.a.local)
        opt = request("OPTIONS", self.ruri, self.a.local)
        bye = request("BYE", self.ruri, self.a.local)
        self.tcp_send("pipelined", inv + opt + bye, 3)
        self.tcp_send("garbage_after", opt + b"\x00\x01\x02garbage", 1)
        self.tcp_send("body_longer", opt.replace(
            b"Content-Length: 0", b"Content-Length: 4") + b"abcdefgh", 2)

    def call(self, n, direction="sendrecv", params=None, extra=""):
        """A call set up over UDP on SIP port 5300 + n, RTP 31000 + 2n."""
        d = Dialog(self.a.dlg, 5300 + n,
                   self.a.params if params is None else params, extra)
        d.rtp_port = 31000 + 2 * n
        c, r = d.invite(sdp(self.a.local, d.rtp_port, direction))
        if status(r) >= 300:
            refuse_ack(d, c, r)
        elif status(r) >= 200:
            d.ack(c)
        return d, r

    def count(self, d, what, seconds):
        """Messages to d within seconds that start with what."""
        end, n = time.monotonic() + seconds, 0
        while time.monotonic() < end:
            d.s.settimeout(max(end - time.monotonic(), 0.01))
            try:
                n += d.s.recv(65535).startswith(what)
            except socket.timeout:
                break
        return n

    def reinvite_mlines(self):
        """RFC 3264 section 8: more m= lines, then port 0 on all."""
        d, r = self.call(1)
        loc = self.a.local
        two = sdp(loc, d.rtp_port, version=2) + \
            "m=video 31500 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\n"
        c, r = d.invite(two)
        report("more_mlines", "%d %d" % (status(r),
                                         body(r).count("m=")))
        d.ack(c, refused=status(r) >= 300)
        zero = sdp(loc, d.rtp_port, version=3).replace(
            "m=audio %d " % d.rtp_port, "m=audio 0 ")
        c, r = d.invite(zero)
        m = re.search(r"m=audio (\d+) ", body(r))
        report("port0", "%d %s %s" % (status(r), m.group(1) if m else "-",
                                      sdp_dir(r)))
        d.ack(c, refused=status(r) >= 300)
        report("port0.bye", d.bye())

    def reinvite_storm(self):
        """Hold and resume 40 times, each ACKed: the stream sends at the
        end, the o= version 41 up."""
        # Played on repeat, so that a slow machine does not outlast it.
        d, r = self.call(2, params=self.a.params + LONG)
        rtp = Rtp(self.a.local, d.rtp_port, 60)
        rtp.start()
        codes = set()
        for i in range(40):
            c, r = d.invite(sdp(self.a.local, d.rtp_port,
                                "sendonly" if i % 2 == 0 else "sendrecv",
                                2 + i))
            codes.add(status(r))
            d.ack(c, refused=status(r) >= 300)
        v = re.search(r"o=\S+ \d+ (\d+) ", body(r))
        t = time.monotonic() + 0.3
        time.sleep(1.0)
        report("storm", "%s %s %s" % (sorted(codes), v.group(1) if v else
                                      "-", "rtp" if rtp.between(t, t + 0.7)
                                      else "silent"))
        report("storm.bye", d.bye())

    def update_storm(self):
        """100 UPDATEs with offers, hold and resume in turn, sent at
        once: each answered, the last resumes."""
        d, r = self.call(7, params=self.a.params + LONG)
        rtp = Rtp(self.a.local, d.rtp_port, 60)
        rtp.start()
        cseqs = [d.request("UPDATE", sdp(self.a.local, d.rtp_port,
                                         "sendonly" if i % 2 == 0
                                         else "sendrecv", 2 + i))
                 for i in range(100)]
        codes = [status(d.wait(c, "UPDATE", 5)) for c in cseqs]
        t = time.monotonic() + 0.3
        time.sleep(1.0)
        report("update_storm", "%s %s" % (
            sorted(set(codes)), "rtp" if rtp.between(t, t + 0.7)
            else "silent"))
        report("update_storm.bye", d.bye())

    def reinvite_cancel(self):
        """CANCEL of a re-INVITE already answered 200 (RFC 3261 section
        9.2: the CANCEL has no effect); then BYE with the 200 to a
        re-INVITE unacknowledged, which stops its resending."""
        d, r = self.call(3)
        c = d.request("INVITE", sdp(self.a.local, d.rtp_port, "sendonly",
                                    2))
        r = d.wait(c, "INVITE")
        d.request("CANCEL", cseq=c, br=d.branches[c])
        report("cancel_reinvite", "%d %d" % (status(r),
                                             status(d.wait(c, "CANCEL"))))
        report("bye_pending", d.bye())
        # A resend already on its way as the BYE came may still arrive;
        # one not stopped comes again within T2 (4 s) after that.
        self.count(d, b"SIP/2.0 200", 1)
        report("after_bye_200s", self.count(d, b"SIP/2.0 200", 4.5))

    def reinvite_before_ack(self):
        d = Dialog(self.a.dlg, 5304, self.a.params)
        c, r = d.invite(sdp(self.a.local, 31008))
        c2, r2 = d.invite(sdp(self.a.local, 31008, "sendonly", 2))
        report("before_ack", "%d %d %s" % (status(r), status(r2),
                                           header(r2, "Retry-After")))
        d.ack(c2, refused=True)
        d.ack(c)
        report("before_ack.bye", d.bye())

    def rfc4240(self):
        """Hostile RFC 4240 values: each INVITE's status and reason."""
        base = self.a.params
        cases = [
            ("repeat0", base + ";repeat=0"),
            ("repeat_neg", base + ";repeat=-1"),
            ("repeat_huge", base + ";repeat=" + "9" * 30),
            ("repeat_empty", base + ";repeat="),
            ("repeat_bare", base + ";repeat"),
            ("repeat_twice", base + ";repeat=2;repeat=3"),
            ("delay_over", base + ";delay=3600001"),
            ("duration0", base + ";duration=0"),
            ("duration_hex", base + ";duration=0x10"),
            ("play_twice", base + ";play=imap://evil@198.18.0.99/x"),
            ("play_empty", ";play=" + base[base.index(";content"):]),
            ("play_nul", base.replace(";play=", ";play=%00", 1)),
            ("ctype_twice", base + ";content-type=video/mpeg"),
            ("ctype_long", base.replace("content-type=audio/basic",
                                        "content-type=audio/" + "x" * 3000)),
            ("ctype_nul", base.replace("content-type=audio/basic",
                                       "content-type=audio/basic%00")),
            ("ctype_l16_rate", base.replace(
                "content-type=audio/basic",
                "content-type=audio/L16%3Brate%3D99999999999")),
            ("cte_bad", base.replace("content-transfer-encoding=base64",
                                     "content-transfer-encoding=base65")),
            ("locale_long", base + ";locale=" + "l" * 6000),
            ("param_nul", base + ";param1=%00;param9=%ff%fe"),
            ("ctype_crlf", base.replace(
                "content-type=audio/basic",
                "content-type=audio/x%0D%0AX-Injected:%20yes")),
            ("cte_crlf", base.replace("content-transfer-encoding=base64",
                                      "content-transfer-encoding=b%0D%0AX")),
            ("mech_crlf", base.replace(":internal:",
                                       ":int%0D%0AX-Injected:%20yes:")),
            ("host_crlf", base.replace("%40127.0.0.1",
                                       "%40h%0D%0AX-Injected:%20yes")),
            ("uri_long", base + ";x=" + "y" * 60000),
        ]
        for i, (name, params) in enumerate(cases):
            d = Dialog(self.a.dlg, 5320 + i, params)
            c = d.request("INVITE", sdp(self.a.local, 31100 + 2 * i))
            r = d.wait(c, "INVITE", 5)
            line = r.split(b"\r\n", 1)[0].decode(errors="replace")
            report("uri." + name, line[8:] if line else "none")
            if header(r, "X-Injected"):
                report("uri." + name + ".injected", header(r, "X-Injected"))
            if status(r) == 200:
                m = re.search(r"tag=([^;>\s]+)", header(r, "To"))
                d.to_tag = m.group(1)
                d.ack(c)
                d.bye()
            elif status(r) >= 300:
                refuse_ack(d, c, r)

    def tcp_invite(self, s, local_port, rtp_port, extra=""):
        """An INVITE with the play URL over stream s: (request, final)."""
        ruri = "sip:annc@%s:%d%s" % (self.a.server, self.a.tcp,
                                     self.a.params)
        body_ = sdp(self.a.local, rtp_port)
        inv = request("INVITE", ruri, self.a.local, body=body_,
                      extra="Content-Type: application/sdp\r\n" + extra)
        s.sendall(inv)
        st = Stream(s)
        while True:
            m = st.next_raw(10)
            if m is None or status(m) >= 200:
                return inv, m or b"", st

    def tcp_ack(self, s, inv, final):
        ack = ("ACK sip:annc@%s:%d SIP/2.0\r\nVia: SIP/2.0/TCP %s:5070;"
               "branch=z9hG4bK%s\r\nMax-Forwards: 70\r\nFrom: %s\r\n"
               "To: %s\r\nCall-ID: %s\r\nCSeq: 1 ACK\r\n"
               "Content-Length: 0\r\n\r\n" %
               (self.a.server, self.a.tcp, self.a.local,
                os.urandom(6).hex(), header(inv, "From"),
                header(final, "To"), header(inv, "Call-ID")))
        s.sendall(ack.encode())

    def tcp_mid_call(self):
        """A call over TCP whose connection the caller closes once it is
        set up; then the connection limit, held by pinging connections,
        with a call over UDP going on."""
        s = self.tcp()
        inv, final, _ = self.tcp_invite(s, 5070, 31200)
        report("tcp_call", status(final))
        if status(final) == 200:
            self.tcp_ack(s, inv, final)
        time.sleep(0.5)
        s.close()
        # The dialog outlives its connection: a BYE on a new one ends it.
        s = self.tcp()
        bye = request("BYE", "sip:annc@%s:%d" % (self.a.server, self.a.tcp),
                      self.a.local).decode()
        for name in ("From", "Call-ID"):
            bye = re.sub(r"(?m)^%s: .*$" % name,
                         "%s: %s" % (name, header(inv, name)), bye)
        bye = re.sub(r"(?m)^To: .*$", "To: " + header(final, "To"), bye)
        bye = bye.replace("CSeq: 1 BYE", "CSeq: 2 BYE")
        report("tcp_bye_new_conn", self.answers_to(s, bye.encode()))
        s.close()
        socks = [self.tcp() for _ in range(self.a.maxc)]
        d, r = self.call(20)
        extra = self.tcp()
        refused = closed_within(extra, 2)
        for s in socks:
            s.sendall(b"\r\n\r\n")
        report("at_limit", "%d %s" % (status(r), refused))
        for s in socks:
            s.close()
        time.sleep(0.3)
        s = self.tcp()
        report("after_limit", self.answers_to(s, request(
            "OPTIONS", self.ruri, self.a.local)))
        s.close()
        report("at_limit.bye", d.bye())

    def tcp_gone(self):
        """An INVITE over TCP whose connection closes before the answer:
        the 200 has nowhere to go; then a call on a new connection."""
        s = self.tcp()
        ruri = "sip:annc@%s:%d%s" % (self.a.server, self.a.tcp,
                                     self.a.params)
        s.sendall(request("INVITE", ruri, self.a.local,
                          body=sdp(self.a.local, 31300),
                          extra="Content-Type: application/sdp\r\n"))
        s.close()
        s = self.tcp()
        inv, final, _ = self.tcp_invite(s, 5070, 31302)
        report("tcp_gone.next", status(final))
        if status(final) == 200:
            self.tcp_ack(s, inv, final)
        time.sleep(0.5)
        s.close()

    def answers_to(self, s, msg):
        s.sendall(msg)
        return self.answers(s, 1)[0]

    def reinvite_bodies(self):
        """Offers within a call that are not what anncd can take: each
        status with its Warning or reason."""
        d, r = self.call(4)
        loc, port = self.a.local, d.rtp_port
        many = sdp(loc, port, version=2) + "".join(
            "m=audio %d RTP/AVP 0\r\n" % (32000 + 2 * i) for i in range(40))
        cases = [
            ("text", "hello\r\n", "text/plain"),
            ("garbage", "v=0\r\nxyz\r\n", "application/sdp"),
            ("many_m", many, "application/sdp"),
            ("ipv6", sdp(loc, port, version=2).replace(
                "IN IP4 %s\r\nt=" % loc, "IN IP6 ::1\r\nt="),
             "application/sdp"),
            ("port_over", sdp(loc, port, version=2).replace(
                "m=audio %d" % port, "m=audio 70000"), "application/sdp"),
            ("mcast", sdp(loc, port, version=2).replace(
                "c=IN IP4 %s" % loc, "c=IN IP4 224.0.0.1"),
             "application/sdp"),
            ("bcast", sdp(loc, port, version=2).replace(
                "c=IN IP4 %s" % loc, "c=IN IP4 255.255.255.255"),
             "application/sdp"),
            ("hold0", sdp(loc, port, version=2).replace(
                "c=IN IP4 %s" % loc, "c=IN IP4 0.0.0.0"),
             "application/sdp"),
        ]
        for name, b, ctype in cases:
            c = with_type(d, "INVITE", b, ctype)
            r = d.wait(c, "INVITE", 5)
            d.ack(c, refused=status(r) >= 300)
            report("rebody." + name, "%d %s" % (
                status(r), header(r, "Warning")[:60] or
                r.split(b"\r\n", 1)[0][12:].decode()))
            if status(r) == 415:
                report("rebody.%s.accept" % name, header(r, "Accept"))
        report("rebody.bye", d.bye())

    def big_headers(self):
        """Requests whose Via and Record-Route lists are long but well
        within the message limits: a response must copy every Via (RFC
        3261 section 8.2.6.2) and anncd's BYE carry every route."""
        s = self.tcp()
        opt = request("OPTIONS", self.ruri, self.a.local).decode()
        vias = "".join("Via: SIP/2.0/TCP proxy%d.example.com:5060;branch="
                       "z9hG4bK%s\r\n" % (i, "v" * 700) for i in range(14))
        opt = opt.replace("Max-Forwards", vias + "Max-Forwards", 1)
        report("big_via", self.answers_to(s, opt.encode()))
        s.close()
        rr = "".join("Record-Route: <sip:proxy%d.example.com;lr;x=%s>\r\n"
                     % (i, "r" * 150) for i in range(16))
        d = Dialog(self.a.dlg, 5308, self.a.params + ";duration=500", rr)
        c, r = d.invite(sdp(self.a.local, 31016))
        if status(r) == 200:
            d.ack(c)
        bye = d.wait_request("BYE", 10)
        report("big_rr", "%d %s %d" % (status(r), "bye" if bye else "none",
                                       bye.count(b"\r\nRoute:")))
        if bye:
            d.s.sendto(answer_to(bye), d.a.server)

    def udp_clen(self):
        """RFC 3261 section 18.3: over UDP a Content-Length past the
        datagram's end is an error (400), bytes after the body are
        dropped; the answer names the field."""
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        u.bind((self.a.local, 5395))
        u.settimeout(2)
        for name, v, tail in (("over", b"10", b"abc"),
                              ("huge", b"9" * 30, b""),
                              ("under", b"2", b"abcdef"),
                              ("neg", b"-5", b"")):
            opt = request("OPTIONS", self.ruri, self.a.local, "UDP")
            u.sendto(opt.replace(b"Content-Length: 0",
                                 b"Content-Length: " + v) + tail,
                     (self.a.server, self.a.udp))
            try:
                r = u.recv(65535)
                line = r.split(b"\r\n", 1)[0][8:].decode()
            except socket.timeout:
                line = "none"
            report("udp_clen." + name, line)

    def session_expires(self):
        """Session-Expires and Min-SE values at and past their edges
        (RFC 4028 section 4: delta-seconds, at least 90)."""
        for i, (name, hdrs) in enumerate((
                ("se0", "Session-Expires: 0\r\n"),
                ("se89", "Session-Expires: 89\r\n"),
                ("se_max", "Session-Expires: 4294967295\r\n"),
                ("se_over", "Session-Expires: 4294967296\r\n"),
                ("se_word", "Session-Expires: soon\r\n"),
                ("se_twice",
                 "Session-Expires: 90\r\nSession-Expires: 900\r\n"),
                ("minse_high",
                 "Session-Expires: 100\r\nMin-SE: 4294967295\r\n"),
                ("refresher_x", "Session-Expires: 90;refresher=xyz\r\n"))):
            d = Dialog(self.a.dlg, 5350 + i, self.a.params,
                       "Supported: timer\r\n" + hdrs)
            c, r = d.invite(sdp(self.a.local, 31200 + 2 * i))
            if status(r) >= 300:
                refuse_ack(d, c, r)
            elif status(r) == 200:
                d.ack(c)
                d.bye()
            # The reason quotes the value: ' for " keeps kv_field whole.
            report("se." + name, "%d %s|%s" % (
                status(r),
                r.split(b"\r\n", 1)[0][12:].decode().replace('"', "'"),
                header(r, "Session-Expires") or header(r, "Min-SE")))

    def refresher_uas(self):
        """RFC 4028 section 9: a request that makes anncd the refresher;
        then whether any refresh comes within half the interval."""
        d, r = self.call(5, extra="Supported: timer\r\n"
                         "Session-Expires: 90;refresher=uas\r\n")
        report("uas.answer", "%d %s" % (status(r),
                                        header(r, "Session-Expires")))
        report("uas.bye", d.bye())

    def refresh_se1(self):
        """anncd as refresher (RFC 4028 section 10), its UPDATE answered
        200 with Session-Expires: 1, under any Min-SE (section 9): how
        many UPDATEs follow within 8 s.  Held to 90 s, none."""
        d = Dialog(self.a.dlg, 5370,
                   self.a.params + ";repeat=forever;duration=70000",
                   extra="Supported: timer\r\nAllow: INVITE, ACK, BYE, "
                   "UPDATE\r\nSession-Expires: 90;refresher=uas\r\n")
        c, r = d.invite(sdp(self.a.local, 31140))
        if status(r) != 200:
            report("refresh_se1", status(r))
            return
        d.ack(c)
        upd = d.wait_request("UPDATE", 50)
        if upd:
            d.s.sendto(answer_to(upd).replace(
                b"Content-Length: 0",
                b"Session-Expires: 1\r\nContent-Length: 0"),
                self.a.dlg.server)
        report("refresh_se1", "%s %d %d" % (
            "update" if upd else "none", self.count(d, b"UPDATE", 8),
            d.bye()))

    def hostile_contact(self):
        """Calls whose Contact names anncd's host (its IMAP port on
        loopback, its own SIP port), 0.0.0.0, a multicast group or
        the broadcast address, each cut short by duration=: where
        anncd's BYE goes.  Loopback, 0.0.0.0, multicast and broadcast
        are no next hop: the BYE comes to the INVITE's source."""
        for i, (name, host, port) in enumerate((
                ("loopback", "127.0.0.1", "143;transport=tcp"),
                ("zero", "0.0.0.0", "5060"),
                ("mcast", "224.0.0.1", "5060;ttl=1"),
                ("bcast", "255.255.255.255", "5060"),
                ("maddr", self.a.local, "5060;maddr=239.255.255.250"),
                ("self", self.a.server, str(self.a.udp)))):
            d = Dialog(self.a.dlg, 5360 + i,
                       self.a.params + ";duration=1000", contact=port)
            d.contact_host = host
            c, r = d.invite(sdp(self.a.local, 31120 + 2 * i))
            if status(r) != 200:
                report("contact." + name, status(r))
                continue
            d.ack(c)
            bye = d.wait_request("BYE", 8)
            if bye:
                d.s.sendto(answer_to(bye), self.a.dlg.server)
            report("contact." + name, "200 " + ("bye" if bye else "none"))

    def poison(self):
        """A caller that names the right URL with the wrong content-type
        or encoding, then a caller that names them right: the second is
        not harmed by what the first made anncd fetch or remember."""
        good = self.a.params
        for i, (name, bad) in enumerate((
                ("ctype", good.replace("audio/basic", "audio/wav")),
                ("cte", good.replace("encoding=base64", "encoding=binary")),
                ("pcma", good.replace("audio/basic", "audio/PCMA")))):
            d1, r1 = self.call(30 + 2 * i, params=bad)
            d2, r2 = self.call(31 + 2 * i)
            rtp = Rtp(self.a.local, d2.rtp_port, 1.5)
            rtp.start()
            rtp.join()
            report("poison." + name, "%d %d %d" % (status(r1), status(r2),
                                                   len(rtp.pkts)))
            if status(r1) == 200:
                d1.bye()
            if status(r2) == 200:
                d2.bye()

    def poison_fresh(self):
        """The same, on a URL no call has named yet: the first caller's
        wrong content-type decides what the URL's content is held as."""
        safe = "[]/:&+$-_.!~*'()"
        good = self.a.params.replace(
            urllib.parse.quote(self.a.url, safe=safe),
            urllib.parse.quote(self.a.fresh_url, safe=safe))
        d1, r1 = self.call(40, params=good.replace("audio/basic",
                                                   "audio/PCMA"))
        d2, r2 = self.call(41, params=good)
        report("poison.fresh", "%d %d %s" % (
            status(r1), status(r2),
            r2.split(b"\r\n", 1)[0][12:].decode()))
        for d, r in ((d1, r1), (d2, r2)):
            if status(r) == 200:
                d.bye()

    def reinvite_after_bye(self):
        """A re-INVITE and an UPDATE after anncd's BYE, which is left
        unanswered: the dialog is over for anncd (481 both)."""
        d, r = self.call(6, params=self.a.params + ";duration=500")
        bye = d.wait_request("BYE", 10)
        c = d.request("INVITE", sdp(self.a.local, d.rtp_port, version=2))
        r = d.wait(c, "INVITE", 5)
        d.ack(c, refused=status(r) >= 300)
        u = d.request("UPDATE")
        report("after_our_bye", "%s %d %d" % ("bye" if bye else "none",
                                              status(r),
                                              status(d.wait(u, "UPDATE"))))
        if bye:
            d.s.sendto(answer_to(bye), d.a.server)

    def during_fetch(self):
        """Requests while the INVITE waits on a fetch that never ends:
        UPDATE with an offer and a re-INVITE (no dialog yet: 481), BYE
        (481), then CANCEL (200, and 487 to the INVITE)."""
        safe = "[]/:&+$-_.!~*'()"
        slow = self.a.params.replace(
            urllib.parse.quote(self.a.url, safe=safe),
            urllib.parse.quote(self.a.slow_url, safe=safe))
        d = Dialog(self.a.dlg, 5307, slow)
        c = d.request("INVITE", sdp(self.a.local, 31014))
        got = [status(d.wait(c, "INVITE", 5, final=False))]
        d.to_tag = "0123456789abcdef"
        u = d.request("UPDATE", sdp(self.a.local, 31014, "sendonly", 2))
        got.append(status(d.wait(u, "UPDATE", 3)))
        d.to_tag = ""
        r = d.request("INVITE", sdp(self.a.local, 31014, "sendonly", 2))
        got.append(status(d.wait(r, "INVITE", 3)))
        b = d.request("BYE")
        got.append(status(d.wait(b, "BYE", 3)))
        d.request("CANCEL", cseq=c, br=d.branches[c])
        got.append(status(d.wait(c, "CANCEL", 3)))
        final = d.wait(c, "INVITE", 5)
        got.append(status(final))
        refuse_ack(d, c, final)
        report("during_fetch", " ".join(str(g) for g in got))

    def ack_no_tag(self):
        """RFC 3261 section 17.2.3: the ACK of the 487 on the INVITE's
        branch but without the response's To tag still ends the 487's
        retransmission (timer G, T1 then 2*T1): none comes from 1 s to
        3 s after it."""
        safe = "[]/:&+$-_.!~*'()"
        slow = self.a.params.replace(
            urllib.parse.quote(self.a.url, safe=safe),
            urllib.parse.quote(self.a.slow_url, safe=safe))
        d = Dialog(self.a.dlg, 5308, slow)
        c = d.request("INVITE", sdp(self.a.local, 31016))
        d.wait(c, "INVITE", 5, final=False)
        d.request("CANCEL", cseq=c, br=d.branches[c])
        d.wait(c, "CANCEL", 3)
        final = d.wait(c, "INVITE", 5)
        d.to_tag = ""
        d.ack(c, refused=True)
        time.sleep(1)
        d.inbox = []
        again = d.wait(c, "INVITE", 2)
        report("ack_no_tag", "%d %s" % (status(final),
                                        status(again) if again else "none"))

    def after(self):
        d = Dialog(self.a.dlg, 5390, self.a.params)
        c, r = d.invite(sdp(self.a.local, 30390))
        report("after.status", status(r))
        if status(r) == 200:
            d.ack(c)
            d.bye()


def answer_to(req):
    """200 to a request of anncd's, its Via, From, To, Call-ID and CSeq
    copied."""
    keep = [ln for ln in req.split(b"\r\n\r\n")[0].split(b"\r\n")[1:]
            if re.match(rb"(?i)(via|from|to|call-id|cseq)\s*:", ln)]
    return b"SIP/2.0 200 OK\r\n" + b"\r\n".join(keep) + \
        b"\r\nContent-Length: 0\r\n\r\n"


def refuse_ack(d, cseq, resp):
    """The ACK of a refusal: on the INVITE's branch, its To that of the
    response (RFC 3261 section 17.1.1.3)."""
    m = re.search(r"tag=([^;>\s]+)", header(resp, "To"))
    d.to_tag = m.group(1) if m else ""
    d.ack(cseq, refused=True)
    d.to_tag = ""


def with_type(d, method, body_, ctype):
    """d.request with a body of type ctype: the same request line and
    header fields as Dialog.request writes."""
    d.cseq += 1
    br = "z9hG4bK" + os.urandom(6).hex()
    d.branches[d.cseq] = br
    msg = ("%s %s SIP/2.0\r\nVia: SIP/2.0/UDP %s:%d;branch=%s\r\n"
           "Max-Forwards: 70\r\nFrom: <sip:dialog@%s>;tag=%s\r\n"
           "To: %s;tag=%s\r\nCall-ID: %s\r\nCSeq: %d %s\r\n"
           "Contact: <sip:dialog@%s:%d>\r\nContent-Type: %s\r\n"
           "Content-Length: %d\r\n\r\n%s" %
           (method, d.ruri, d.a.local, d.port, br, d.a.local, d.tag, d.to,
            d.to_tag, d.call_id, d.cseq, method, d.a.local, d.port, ctype,
            len(body_), body_))
    d.s.sendto(msg.encode(), d.a.server)
    return d.cseq


def main():
    p = argparse.ArgumentParser()
    for opt in ("--server", "--local", "--ca", "--url", "--fresh-url",
                "--slow-url"):
        p.add_argument(opt, required=True)
    for opt in ("--tcp", "--tls", "--udp", "--maxc", "--idle-ms"):
        p.add_argument(opt, type=int, required=True)
    p.add_argument("--only", default="")
    a = p.parse_args()
    # Dialog of sip_dialog.py takes the server as an address pair.
    a.dlg = argparse.Namespace(server=(a.server, a.udp), local=a.local,
                               to="%s:%d" % (a.server, a.udp))
    safe = "[]/:&+$-_.!~*'()"
    a.params = (";play=%s;content-type=audio/basic;"
                "content-transfer-encoding=base64" %
                urllib.parse.quote(a.url, safe=safe))
    pr = Probe(a)
    probes = ["tls_trickle", "tls_record_trickle", "tcp_clen",
              "tcp_pipeline", "reinvite_mlines", "reinvite_storm",
              "update_storm", "reinvite_cancel", "reinvite_before_ack",
              "rfc4240", "big_headers", "tcp_mid_call", "reinvite_bodies",
              "udp_clen", "session_expires", "refresher_uas",
              "hostile_contact", "refresh_se1", "poison",
              "poison_fresh", "reinvite_after_bye", "during_fetch",
              "ack_no_tag", "after"]
    for name in a.only.split(",") if a.only else probes:
        getattr(pr, name)()


if __name__ == "__main__":
    main()
