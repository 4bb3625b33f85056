#!/usr/bin/env python3
"""Requests within an anncd call, seen from the caller (RFC 3261 section
14, RFC 3264 section 8, RFC 3311, RFC 4028).  Each scenario is one call
on SIP and RTP ports of its own, all run at once:

  hold      sendrecv, then a sendonly re-INVITE (hold: answered inactive,
            no RTP), a sendrecv one (resume: RTP again, its timestamp on
            by the held time), and a re-INVITE sent before the ACK of
            the last one's 2xx (491)
  redirect  a re-INVITE with another m= port: the RTP moves there; then
            one without the stream's format: 488 with a Warning, the
            stream going on
  refresh   Session-Expires 90 with timer supported: answered with
            refresher=uac and Require: timer; UPDATE without SDP, INFO;
            UPDATE for no dialog (481); an UPDATE with an offer
  late      a re-INVITE without SDP: anncd's offer in the 200, version
            one up, the answer in the ACK
  inactive  a sendonly first offer (answered inactive, no RTP), resumed by
            a sendrecv re-INVITE
  small     Session-Expires under Min-SE: 422 with Min-SE
  expiry    Session-Expires 90 never refreshed: anncd's BYE before 90 s
  contact   the Contact on another port than the INVITE's source: anncd's
            BYE goes to the Contact (RFC 3261 section 12.2.1.1)
  target    a re-INVITE with a new Contact: the BYE goes there (12.2.2)
  loose     a Record-Route with ;lr: the BYE goes to that proxy address
            with the Route, the Contact as Request-URI
  strict    a Record-Route without ;lr: the proxy's URI as Request-URI,
            the Contact as last Route
  uas_ok    refresher=uas, UPDATE allowed: anncd's UPDATE at half the
            interval, 200 keeps the call
  uas_481   the same answered 481: anncd's BYE
  uas_mute  the same unanswered: UPDATE resent, then anncd's BYE
  uas_retry the same answered 491 (a new UPDATE 2.1 to 4 s on), then 422
            with Min-SE 120 (a new one at once with 120), then 200
  uas_500   the same answered 500: the session runs to its expiry at
            90 s, then anncd's BYE
  rr_big    8 kB of Record-Route: all copied back in the 200, and every
            route in the BYE
  tcp       a UDP INVITE whose Contact says transport=tcp: anncd's BYE is
            for a TCP hop (over TCP once anncd opens connections, else
            its failure logged)
  named     a Contact with a host name, which anncd does not resolve: the
            BYE goes to the INVITE's source
  uas_inv   refresher=uas without UPDATE in Allow: anncd's re-INVITE with
            its SDP unchanged, 491 to ours sent meanwhile, anncd's ACK
  uas_422   every refresh answered 422 with a Min-SE one second above
            its Session-Expires: anncd asks again a bounded number of
            times (CALL_REFRESH_RETRIES, 8), then leaves the session
  tcp_lost  a Contact with transport=tcp where nothing listens: anncd's
            BYE cannot be delivered, and the call ends at once instead of
            waiting for the BYE's timers (the log says so)

Each result prints as "scenario.name=value"; the caller compares.

    sip_dialog.py --to HOST:PORT --local IP --url URL --base-port N
"""

import argparse
import os
import re
import socket
import struct
import threading
import time
import urllib.parse

OUT = []
LOCK = threading.Lock()


def put(name, value):
    with LOCK:
        OUT.append("%s=%s" % (name, value))


def sdp(local, port, direction="sendrecv", version=1, addr=None):
    return ("v=0\r\no=uac 4242 %d IN IP4 %s\r\ns=-\r\nc=IN IP4 %s\r\n"
            "t=0 0\r\nm=audio %d RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n"
            "a=ptime:20\r\na=%s\r\n" %
            (version, local, addr or local, port, direction))


def branch():
    return "z9hG4bK" + os.urandom(6).hex()


def header(msg, name):
    m = re.search(rb"\r\n" + name.encode() + rb"\s*:\s*([^\r]*)", msg,
                  re.I)
    return m.group(1).decode() if m else ""


def status(msg):
    m = re.match(rb"SIP/2\.0 (\d{3}) ", msg)
    return int(m.group(1)) if m else 0


def body(msg):
    return msg.split(b"\r\n\r\n", 1)[1].decode() if b"\r\n\r\n" in msg \
        else ""


def sdp_version(msg):
    m = re.search(r"o=\S+ \d+ (\d+) ", body(msg))
    return int(m.group(1)) if m else -1


def sdp_dir(msg):
    m = re.findall(r"a=(sendrecv|sendonly|recvonly|inactive)", body(msg))
    return m[-1] if m else "none"


class Rtp(threading.Thread):
    """Every RTP packet to one port: (arrival, seq, timestamp, marker)."""

    def __init__(self, local, port, seconds):
        super().__init__(daemon=True)
        self.s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.s.bind((local, port))
        self.s.settimeout(0.2)
        self.end = time.monotonic() + seconds
        self.pkts = []

    def run(self):
        while time.monotonic() < self.end:
            try:
                p = self.s.recv(2048)
            except socket.timeout:
                continue
            if len(p) >= 12:
                _, pt, seq, ts = struct.unpack("!BBHI", p[:8])
                self.pkts.append((time.monotonic(), seq, ts, pt >> 7))

    def between(self, t0, t1):
        return [p for p in self.pkts if t0 <= p[0] < t1]


def udp(local, port):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((local, port))
    return s


def recv_request(s, method, seconds):
    """The first request of method (any message for "") on socket s
    within seconds."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        s.settimeout(max(end - time.monotonic(), 0.01))
        try:
            m = s.recv(65535)
        except socket.timeout:
            break
        if not method or m.startswith(method.encode() + b" "):
            return m
    return b""


def ruri(msg):
    return msg.split(b" ", 2)[1].decode() if msg else ""


def cseq_num(msg):
    v = header(msg, "CSeq").split(" ")
    return int(v[0]) if v[0].isdigit() else -1


def reply(s, a, req, code, reason, extra="", body_=""):
    """A response to anncd's request req, back to anncd (RFC 3261 section
    8.2.6: Via, From, To, Call-ID and CSeq copied; To has its tag)."""
    head = req.split(b"\r\n\r\n")[0].split(b"\r\n")[1:]
    keep = b"\r\n".join(ln for ln in head if re.match(
        rb"(Via|From|To|Call-ID|CSeq)\s*:", ln, re.I)).decode()
    msg = ("SIP/2.0 %d %s\r\n%s\r\n%s%sContent-Length: %d\r\n\r\n%s" %
           (code, reason, keep, extra,
            "Content-Type: application/sdp\r\n" if body_ else "",
            len(body_), body_))
    s.sendto(msg.encode(), a.server)


class Dialog:
    def __init__(self, a, sip_port, ruri_params, extra="", contact=None,
                 rr=""):
        self.a = a
        self.s = udp(a.local, sip_port)
        self.port = sip_port
        self.contact = contact or sip_port
        self.contact_host = ""
        self.rr = rr
        self.call_id = os.urandom(8).hex() + "@dialog"
        self.tag = os.urandom(4).hex()
        self.cseq = 0
        self.ruri = "sip:annc@%s%s" % (a.to, ruri_params)
        self.to = "<sip:annc@%s>" % a.to
        self.to_tag = ""
        self.extra = extra
        self.inbox = []
        self.branches = {}

    def request(self, method, body_="", cseq=None, br=None, extra=""):
        if cseq is None:
            self.cseq += 1
            cseq = self.cseq
        to = self.to + (";tag=" + self.to_tag if self.to_tag else "")
        br = br or branch()
        if method != "ACK":
            self.branches[cseq] = br
        msg = ("%s %s SIP/2.0\r\nVia: SIP/2.0/UDP %s:%d;branch=%s\r\n"
               "Max-Forwards: 70\r\nFrom: <sip:dialog@%s>;tag=%s\r\n"
               "To: %s\r\nCall-ID: %s\r\nCSeq: %d %s\r\n"
               "Contact: <sip:dialog@%s:%s>\r\n%s%s%s"
               "Content-Length: %d\r\n\r\n%s" %
               (method, self.ruri, self.a.local, self.port,
                br, self.a.local, self.tag, to, self.call_id,
                cseq, method, self.contact_host or self.a.local,
                self.contact,
                self.rr if method == "INVITE" and cseq == 1 else "",
                self.extra, extra +
                ("Content-Type: application/sdp\r\n" if body_ else ""),
                len(body_), body_))
        self.s.sendto(msg.encode(), self.a.server)
        return cseq

    def wait(self, cseq, method, seconds=15.0, final=True):
        """The first response to (cseq, method), final or not."""
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            for i, m in enumerate(self.inbox):
                if header(m, "CSeq") == "%d %s" % (cseq, method) and \
                        (not final or status(m) >= 200):
                    return self.inbox.pop(i)
            self.s.settimeout(max(end - time.monotonic(), 0.01))
            try:
                self.inbox.append(self.s.recv(65535))
            except socket.timeout:
                break
        return b""

    def wait_request(self, method, seconds):
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            self.s.settimeout(max(end - time.monotonic(), 0.01))
            try:
                m = self.s.recv(65535)
            except socket.timeout:
                break
            if m.startswith(method.encode() + b" "):
                return m
        return b""

    def invite(self, body_, cseq=None):
        c = self.request("INVITE", body_, cseq)
        r = self.wait(c, "INVITE")
        if status(r) == 200 and not self.to_tag:
            self.to_tag = re.search(r"tag=([^;>\s]+)",
                                    header(r, "To")).group(1)
        return c, r

    def ack(self, cseq, body_="", refused=False):
        # RFC 3261 section 17.1.1.3: the ACK of a non-2xx is in the
        # INVITE's transaction, on its branch.
        self.request("ACK", body_, cseq,
                     self.branches[cseq] if refused else None)

    def bye(self):
        c = self.request("BYE")
        return status(self.wait(c, "BYE"))


def ts_jump(pkts, t_hold, t_resume):
    """The timestamp step and the arrival gap over the hold, in ms."""
    before = [p for p in pkts if p[0] < t_hold]
    after = [p for p in pkts if p[0] >= t_resume]
    if not before or not after:
        return -1, -1, -1
    b, f = before[-1], after[0]
    return ((f[2] - b[2]) % 2**32) // 8, int((f[0] - b[0]) * 1000), f[3]


def hold(a, n):
    rtp_port = a.base + 2 * n
    d = Dialog(a, a.sip + n, a.params)
    rtp = Rtp(a.local, rtp_port, 8)
    rtp.start()
    c, r = d.invite(sdp(a.local, rtp_port))
    d.ack(c)
    time.sleep(1.0)
    c, r = d.invite(sdp(a.local, rtp_port, "sendonly", 2))
    put("hold.status", status(r))
    put("hold.version", sdp_version(r))
    put("hold.dir", sdp_dir(r))
    d.ack(c)
    t_hold = time.monotonic() + 0.2
    time.sleep(1.5)
    t_resume = time.monotonic()
    put("hold.rtp_on_hold", len(rtp.between(t_hold, t_resume)))
    c, r = d.invite(sdp(a.local, rtp_port, "sendrecv", 3))
    put("resume.status", status(r))
    put("resume.version", sdp_version(r))
    put("resume.dir", sdp_dir(r))
    # Another re-INVITE before the ACK of this one's 2xx: 491.
    c2, r2 = d.invite(sdp(a.local, rtp_port, "sendrecv", 4))
    put("glare.status", status(r2))
    d.ack(c2, refused=True)
    d.ack(c)
    time.sleep(1.0)
    step, gap, marker = ts_jump(rtp.pkts, t_hold, t_resume)
    put("resume.rtp", "yes" if rtp.between(t_resume, t_resume + 1.0)
        else "no")
    # The timestamp ran on in real time: the step is the arrival gap
    # within the jitter of the two namespaces' scheduling.
    put("resume.ts_step_matches_gap",
        "yes" if gap > 1000 and abs(step - gap) < 150 else
        "no (step %d ms, gap %d ms)" % (step, gap))
    put("resume.marker", marker)
    put("hold.bye", d.bye())


def redirect(a, n):
    p1, p2 = a.base + 2 * n, a.base + 2 * n + 100
    d = Dialog(a, a.sip + n, a.params)
    r1, r2 = Rtp(a.local, p1, 6), Rtp(a.local, p2, 6)
    r1.start()
    r2.start()
    c, r = d.invite(sdp(a.local, p1))
    d.ack(c)
    time.sleep(1.0)
    c, r = d.invite(sdp(a.local, p2, "sendrecv", 2))
    put("redirect.status", status(r))
    d.ack(c)
    t = time.monotonic() + 0.3
    time.sleep(1.5)
    put("redirect.old_port_after", len(r1.between(t, t + 1.2)))
    put("redirect.new_port", "yes" if len(r2.between(t, t + 1.2)) > 20
        else "no")
    # An offer without the stream's format: 488 with a Warning, and the
    # call goes on as before (RFC 3261 section 14.2).
    pcma = sdp(a.local, p1, "sendrecv", 3).replace(
        "RTP/AVP 0", "RTP/AVP 8").replace("0 PCMU", "8 PCMA")
    c, r = d.invite(pcma)
    put("refused.status", status(r))
    put("refused.warning", header(r, "Warning").split(" ")[0])
    d.ack(c, refused=True)
    t = time.monotonic() + 0.2
    time.sleep(0.8)
    put("refused.rtp_goes_on", "yes" if len(r2.between(t, t + 0.6)) > 10
        else "no")
    put("redirect.bye", d.bye())


def refresh(a, n):
    d = Dialog(a, a.sip + n, a.params,
               "Supported: timer\r\nSession-Expires: 90\r\n")
    c, r = d.invite(sdp(a.local, a.base + 2 * n))
    put("refresh.status", status(r))
    put("refresh.se", header(r, "Session-Expires"))
    put("refresh.require", header(r, "Require"))
    put("refresh.supported", header(r, "Supported"))
    put("refresh.allow", header(r, "Allow").replace(" ", ""))
    d.ack(c)
    c = d.request("UPDATE")
    r = d.wait(c, "UPDATE")
    put("update.status", status(r))
    put("update.se", header(r, "Session-Expires"))
    c = d.request("INFO", extra="Content-Type: text/plain\r\n")
    put("info.status", status(d.wait(c, "INFO")))
    c = d.request("UPDATE", sdp(a.local, a.base + 2 * n, "inactive", 2))
    r = d.wait(c, "UPDATE")
    put("update_offer.status", status(r))
    put("update_offer.dir", sdp_dir(r))
    put("update_offer.version", sdp_version(r))
    o = Dialog(a, a.sip + n + 50, "")
    o.to_tag = "nosuchtag"
    put("update_nodialog.status", status(o.wait(o.request("UPDATE"),
                                                 "UPDATE")))
    put("refresh.bye", d.bye())


def late(a, n):
    port = a.base + 2 * n
    d = Dialog(a, a.sip + n, a.params)
    rtp = Rtp(a.local, port, 4)
    rtp.start()
    c, r = d.invite(sdp(a.local, port))
    d.ack(c)
    time.sleep(0.5)
    c, r = d.invite("")
    put("late.status", status(r))
    put("late.version", sdp_version(r))
    put("late.offer_dir", sdp_dir(r))
    d.ack(c, sdp(a.local, port, "inactive", 2))
    t = time.monotonic() + 0.3
    time.sleep(1.0)
    put("late.rtp_after_inactive_answer", len(rtp.between(t, t + 0.7)))
    put("late.bye", d.bye())


def inactive(a, n):
    port = a.base + 2 * n
    d = Dialog(a, a.sip + n, a.params)
    rtp = Rtp(a.local, port, 4)
    rtp.start()
    c, r = d.invite(sdp(a.local, port, "sendonly"))
    put("inactive.dir", sdp_dir(r))
    d.ack(c)
    time.sleep(0.8)
    put("inactive.rtp", len(rtp.pkts))
    c, r = d.invite(sdp(a.local, port, "sendrecv", 2))
    put("inactive.resume_status", status(r))
    put("inactive.resume_dir", sdp_dir(r))
    d.ack(c)
    time.sleep(1.0)
    put("inactive.resumed_rtp", "yes" if len(rtp.pkts) > 20 else "no")
    put("inactive.bye", d.bye())


def small(a, n):
    d = Dialog(a, a.sip + n, a.params,
               "Supported: timer\r\nSession-Expires: 60\r\n")
    c, r = d.invite(sdp(a.local, a.base + 2 * n))
    put("small.status", status(r))
    put("small.min_se", header(r, "Min-SE"))
    d.ack(c, refused=True)


def expiry(a, n):
    d = Dialog(a, a.sip + n, a.params,
               "Supported: timer\r\nSession-Expires: 90\r\n")
    c, r = d.invite(sdp(a.local, a.base + 2 * n, "sendonly"))
    d.ack(c)
    t0 = time.monotonic()
    bye = d.wait_request("BYE", 80)
    put("expiry.bye", "yes" if bye else "no")
    if bye:
        d.s.sendto(b"SIP/2.0 200 OK\r\n" + b"\r\n".join(
            ln for ln in bye.split(b"\r\n\r\n")[0].split(b"\r\n")[1:]
            if re.match(rb"(Via|From|To|Call-ID|CSeq):", ln, re.I)) +
            b"\r\nContent-Length: 0\r\n\r\n", a.server)
    # RFC 4028 section 10: a third of 90 s before it ends.
    put("expiry.bye_after_s", int(time.monotonic() - t0 + 0.5))


def contact(a, n):
    other = udp(a.local, a.sip + n + 100)
    d = Dialog(a, a.sip + n, a.short, contact=a.sip + n + 100)
    c, r = d.invite(sdp(a.local, a.base + 2 * n))
    d.ack(c)
    bye = recv_request(other, "BYE", 15)
    put("contact.bye_ruri", ruri(bye))
    put("contact.bye_via", header(bye, "Via").split(";")[0].replace(" ", "_"))
    put("contact.bye_at_source", 1 if recv_request(d.s, "BYE", 1) else 0)
    if bye:
        reply(other, a, bye, 200, "OK")


def target(a, n):
    new = udp(a.local, a.sip + n + 100)
    d = Dialog(a, a.sip + n, a.mid)
    c, r = d.invite(sdp(a.local, a.base + 2 * n))
    d.ack(c)
    time.sleep(0.5)
    d.contact = a.sip + n + 100
    c, r = d.invite(sdp(a.local, a.base + 2 * n, "sendrecv", 2))
    put("target.reinvite", status(r))
    d.ack(c)
    bye = recv_request(new, "BYE", 15)
    put("target.bye_ruri", ruri(bye))
    put("target.bye_at_old", 1 if recv_request(d.s, "BYE", 1) else 0)
    if bye:
        reply(new, a, bye, 200, "OK")


def routed(a, n, name, lr):
    proxy = udp(a.local, a.sip + n + 100)
    rr = "Record-Route: <sip:%s:%d%s>\r\n" % (a.local, a.sip + n + 100, lr)
    d = Dialog(a, a.sip + n, a.short, rr=rr)
    c, r = d.invite(sdp(a.local, a.base + 2 * n))
    d.ack(c)
    put(name + ".rr_in_200", header(r, "Record-Route"))
    bye = recv_request(proxy, "BYE", 15)
    put(name + ".bye_ruri", ruri(bye))
    put(name + ".bye_route", header(bye, "Route"))
    put(name + ".bye_at_contact", 1 if recv_request(d.s, "BYE", 1) else 0)
    if bye:
        reply(proxy, a, bye, 200, "OK")


def loose(a, n):
    routed(a, n, "loose", ";lr")


def strict(a, n):
    routed(a, n, "strict", "")


def uas_retry(a, n):
    d, r, upd = uas_start(a, n, "uas_retry", ALLOW_UPDATE)
    reply(d.s, a, upd, 491, "Request Pending")
    t = time.monotonic()
    upd2 = recv_request(d.s, "UPDATE", 10)
    put("uas_retry.after_491_ms", int((time.monotonic() - t) * 1000))
    reply(d.s, a, upd2, 422, "Session Interval Too Small",
          "Min-SE: 120\r\n")
    upd3 = recv_request(d.s, "UPDATE", 5)
    put("uas_retry.cseqs", "%d,%d,%d" % (cseq_num(upd), cseq_num(upd2),
                                         cseq_num(upd3)))
    put("uas_retry.se_after_422", header(upd3, "Session-Expires"))
    reply(d.s, a, upd3, 200, "OK",
          "Session-Expires: 120;refresher=uac\r\nRequire: timer\r\n")
    put("uas_retry.bye_after_200", "yes" if recv_request(d.s, "BYE", 3)
        else "no")
    put("uas_retry.caller_bye", d.bye())


def uas_422(a, n):
    d, r, upd = uas_start(a, n, "uas_422", ALLOW_UPDATE)
    count = 0
    while upd and count < 40:
        count += 1
        se = int(header(upd, "Session-Expires").split(";")[0] or 0)
        reply(d.s, a, upd, 422, "Session Interval Too Small",
              "Min-SE: %d\r\n" % (se + 1))
        upd = recv_request(d.s, "UPDATE", 3)
    put("uas_422.updates", count)
    put("uas_422.caller_bye", d.bye())


def uas_500(a, n):
    d, r, upd = uas_start(a, n, "uas_500", ALLOW_UPDATE)
    reply(d.s, a, upd, 500, "Server Internal Error")
    t = time.monotonic()
    bye = recv_request(d.s, "BYE", 55)
    # The session expires 90 s after the first 2xx, 45 s after now.
    put("uas_500.bye_after_s", int(time.monotonic() - t + 0.5))
    if bye:
        reply(d.s, a, bye, 200, "OK")


def tcp(a, n):
    lst = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    lst.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lst.bind((a.local, a.sip + n))
    lst.listen(1)
    lst.settimeout(15)
    d = Dialog(a, a.sip + n, a.short)
    d.contact = "%d;transport=tcp" % d.port
    c, r = d.invite(sdp(a.local, a.base + 2 * n))
    d.ack(c)
    got = b""
    try:
        conn, _ = lst.accept()
        conn.settimeout(5)
        while b"\r\n\r\n" not in got:
            chunk = conn.recv(65535)
            if not chunk:
                break
            got += chunk
    except (socket.timeout, OSError):
        pass
    put("tcp.bye_over_tcp", ruri(got) if got.startswith(b"BYE ") else
        "none")
    put("tcp.bye_via", header(got, "Via").split(";")[0].replace(" ", "_"))
    put("tcp.bye_over_udp", 1 if recv_request(d.s, "BYE", 1) else 0)


def tcp_lost(a, n):
    d = Dialog(a, a.sip + n, a.short)
    d.contact = "%d;transport=tcp" % (a.sip + n + 200)
    c, r = d.invite(sdp(a.local, a.base + 2 * n))
    d.ack(c)
    put("tcp_lost.status", status(r))
    put("tcp_lost.bye_over_udp", 1 if recv_request(d.s, "BYE", 8) else 0)


def named(a, n):
    d = Dialog(a, a.sip + n, a.short)
    d.contact_host = "ua.invalid"
    c, r = d.invite(sdp(a.local, a.base + 2 * n))
    d.ack(c)
    bye = recv_request(d.s, "BYE", 15)
    put("named.bye_ruri", ruri(bye))
    if bye:
        reply(d.s, a, bye, 200, "OK")


def rr_big(a, n):
    """8 kB of Record-Route, well within a message: every line goes back
    in the 200 (RFC 3261 section 12.1.1) and the BYE carries every
    route."""
    d = Dialog(a, a.sip + n, a.short)
    first = "<sip:%s:%d;lr>" % (a.local, d.port)
    d.rr = "Record-Route: %s\r\n" % first + "".join(
        "Record-Route: <sip:198.18.0.2;lr;x%d=%s>\r\n" % (i, "a" * 4000)
        for i in range(2))
    c, r = d.invite(sdp(a.local, a.base + 2 * n))
    d.ack(c)
    bye = recv_request(d.s, "BYE", 15)
    put("rr_big", "%d,%d,%d" % (status(r), r.count(b"\r\nRecord-Route:"),
                                bye.count(b"\r\nRoute:")))
    if bye:
        reply(d.s, a, bye, 200, "OK")


UAS_SE = "Supported: timer\r\nSession-Expires: 90;refresher=uas\r\n"
ALLOW_UPDATE = "Allow: INVITE, ACK, BYE, CANCEL, UPDATE\r\n"
ALLOW_NO_UPDATE = "Allow: INVITE, ACK, BYE, CANCEL\r\n"
SE_UAC = "Session-Expires: 90;refresher=uac\r\nRequire: timer\r\n"


def uas_start(a, n, name, allow):
    """A call in which the caller names anncd refresher (RFC 4028
    section 9); the first refresh request anncd sends in it."""
    d = Dialog(a, a.sip + n, a.params, UAS_SE + allow)
    c, r = d.invite(sdp(a.local, a.base + 2 * n, "sendonly"))
    put(name + ".se", header(r, "Session-Expires"))
    d.ack(c)
    t0 = time.monotonic()
    req = recv_request(d.s, "INVITE" if allow == ALLOW_NO_UPDATE
                       else "UPDATE", 60)
    put(name + ".refresh_after_s", int(time.monotonic() - t0 + 0.5))
    put(name + ".refresh_se", header(req, "Session-Expires"))
    put(name + ".refresh_ruri", ruri(req))
    return d, r, req


def uas_ok(a, n):
    d, r, upd = uas_start(a, n, "uas_ok", ALLOW_UPDATE)
    put("uas_ok.update_body", len(body(upd)))
    put("uas_ok.update_contact", header(upd, "Contact"))
    reply(d.s, a, upd, 200, "OK", SE_UAC)
    put("uas_ok.bye_after_200", "yes" if recv_request(d.s, "BYE", 5)
        else "no")
    put("uas_ok.caller_bye", d.bye())


def uas_481(a, n):
    d, r, upd = uas_start(a, n, "uas_481", ALLOW_UPDATE)
    reply(d.s, a, upd, 481, "Call/Transaction Does Not Exist")
    bye = recv_request(d.s, "BYE", 10)
    put("uas_481.cseqs", "%d,%d" % (cseq_num(upd), cseq_num(bye)))
    if bye:
        reply(d.s, a, bye, 200, "OK")


def uas_mute(a, n):
    d, r, upd = uas_start(a, n, "uas_mute", ALLOW_UPDATE)
    t1 = time.monotonic()
    copies, bye = 0, b""
    while not bye and time.monotonic() < t1 + 45:
        m = recv_request(d.s, "", t1 + 45 - time.monotonic())
        if m.startswith(b"UPDATE ") and header(m, "CSeq") == \
                header(upd, "CSeq"):
            copies += 1
        elif m.startswith(b"BYE "):
            bye = m
    put("uas_mute.copies", copies)
    put("uas_mute.bye_after_s", int(time.monotonic() - t1 + 0.5))
    if bye:
        reply(d.s, a, bye, 200, "OK")


def uas_inv(a, n):
    d, r, inv = uas_start(a, n, "uas_inv", ALLOW_NO_UPDATE)
    put("uas_inv.same_sdp", "yes" if inv and body(inv) == body(r) else
        "no")
    # Our re-INVITE while anncd's is pending: 491 (RFC 3261 section 14.2).
    c, r2 = d.invite(sdp(a.local, a.base + 2 * n, "sendonly", 2))
    put("uas_inv.glare", status(r2))
    d.ack(c, refused=True)
    reply(d.s, a, inv, 200, "OK", "Contact: <sip:dialog@%s:%d>\r\n%s" %
          (a.local, d.port, SE_UAC), sdp(a.local, a.base + 2 * n,
                                          "recvonly", 2))
    ack = recv_request(d.s, "ACK", 5)
    put("uas_inv.cseqs", "%s,%s" % (header(inv, "CSeq").replace(" ", "-"),
                                      header(ack, "CSeq").replace(" ", "-")))
    put("uas_inv.ack_ruri", ruri(ack))
    put("uas_inv.caller_bye", d.bye())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--to", required=True)
    ap.add_argument("--local", required=True)
    ap.add_argument("--url", required=True)
    ap.add_argument("--base-port", type=int, default=40000)
    ap.add_argument("--sip-port", type=int, default=5300)
    ap.add_argument("--only", default="")
    a = ap.parse_args()
    host, port = a.to.rsplit(":", 1)
    a.server = (host, int(port))
    a.base, a.sip = a.base_port, a.sip_port
    safe = "[]/:&+$-_.!~*'()"
    a.params = (";play=%s;content-type=audio/basic;"
                "content-transfer-encoding=base64;repeat=forever;"
                "duration=100000" % urllib.parse.quote(a.url, safe=safe))
    a.short = a.params.replace("duration=100000", "duration=3000")
    a.mid = a.params.replace("duration=100000", "duration=5000")
    runs = [hold, redirect, refresh, late, inactive, small, expiry, contact,
            target, loose, strict, uas_ok, uas_481, uas_mute, uas_inv,
            named, uas_retry, uas_500, rr_big, tcp, tcp_lost, uas_422]
    threads = [threading.Thread(target=f, args=(a, i), daemon=True)
               for i, f in enumerate(runs)
               if not a.only or f.__name__ in a.only.split(",")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(130)
    for line in sorted(OUT):
        print(line)


if __name__ == "__main__":
    main()
