#!/usr/bin/env python3
"""SIP over TCP and TLS against a running anncd started with
--sip-max-connections MAXC, --sip-max-message-bytes MAXM and --sip-idle-ms
IDLE (RFC 3261 section 18.3, RFC 5626 section 3.5.1).  Each check prints
"name=value"; test_sip_stream.sh compares the values:

  options_tcp       an OPTIONS over TCP: its status and the Via transport
  back_to_back      two OPTIONS in one write: two answers
  split             an OPTIONS sent in pieces: answered
  pong              a double-CRLF ping: a single CRLF back
  limit_exact       an OPTIONS of exactly MAXM bytes: answered
  limit_over        MAXM + 1 bytes: the connection closed, no answer
  endless_header    a header section that never ends: closed
  missing_clen      a request without Content-Length: 400 naming it, then
                    closed (RFC 3261 section 18.3)
  bad_clen          Content-Length "x": 400 naming the value, closed
  negative_clen     Content-Length "-5": the same
  over_clen         Content-Length 20 MAXM: 400, closed
  conflicting_clen  Content-Length 0 and l: 12: 400, closed
  unanswerable      no Content-Length and no Call-ID: closed, no answer
  keep_tcp          OPTIONS on another connection before and after them
  garbage           binary bytes: closed
  slow              half a request, then nothing: closed (no answer)
  trickle           a request a byte at a time, each well within IDLE:
                    closed before its end
  idle              connected, nothing sent: closed
  mid_close         half an INVITE, then our close: the next is answered
  max_conns         2 MAXC connections: how many are answered
  invite_refused    an INVITE over TLS without a play URL: its status
  options_tls       an OPTIONS over TLS: its status
  tls_contact       a whole call over TLS to PLAY_URL: the Contact of the
                    200, a sips URI (RFC 5630 section 3)
  tls_bye_via       the sent-protocol of the Via of anncd's BYE, which
                    comes on the INVITE's connection
  tls_bye_copies    copies of that BYE in 1.2 s unanswered: 1, timer E
                    resends over UDP only (RFC 3261 section 17.1.2.2)
  udp_limit_exact   an OPTIONS of MAXM bytes over UDP: answered
  udp_limit_over    MAXM + 1 bytes over UDP: no answer
  timer_i_udp       an INVITE refused over UDP and its ACK: a copy of the
                    INVITE right after the ACK is absorbed unanswered, one
                    after T4 answered anew (another To tag): timer I, RFC
                    3261 section 17.2.1
  timer_i_tcp       the same over TCP: the copy right after the ACK is
                    answered anew, timer I being zero on a stream
  reply_refused     an INVITE over TCP whose connection we close at once,
                    its Via naming a closed port: anncd's connect for the
                    200 refused, as anncd's log says
  reply_tcp         the listener then opened on that port: the 200 comes
                    on a connection from the server (RFC 3261 18.2.2)
  reply_reuse       unacknowledged, the 200 comes again (section
                    13.3.1.4) on that same connection, kept by our
                    pings, no other opened (section 18.3)
  reply_tcp_bye     our ACK and BYE on it: the BYE's answer
  reply_full        an INVITE's connection closed while MAXC others stay
                    open: the connection for the 200 is not opened, as
                    the log says, and once they close the 200 comes on
                    one (ours count against --sip-max-connections)
  reply_full_refused  connections of ours refused on the way, before
                    anncd saw the INVITE's close
  reply_timeout     the same over TLS, the Via's port a listener that
                    never answers the handshake: given up after
                    --sip-connect-timeout-ms, as the log says
  reply_untrusted   then a TLS listener with a self-signed certificate:
                    refused by --sip-tls-verify, as the log says
  reply_tls         then one with a certificate of the test CA: the 200
  reply_tls_bye     our ACK and BYE on it: the BYE's answer
  bye_gone          a call over TCP whose Contact names our host and a
                    listener: we close the INVITE's connection after the
                    ACK; anncd's BYE for the call's end comes on a
                    connection of its own to the Contact (RFC 3261
                    sections 12.2.1.1, 18.1.1), to the Contact's URI

With --default-verify (anncd started without --sip-tls-verify) only:

  reply_none        the TLS reply path to a listener with a self-signed
                    certificate: the 200, then our BYE's answer

    sip_stream.py --server IP --tcp PORT --tls PORT --udp PORT --ca FILE
                  --local IP --maxc N --maxm N --idle-ms N --play-url URL
                  --log FILE --ua-cert PEM --ua-key KEY --self-cert PEM
                  --self-key KEY --t4-ms N [--default-verify]
"""

import argparse
import re
import socket
import ssl
import time
import urllib.parse


def request(method, ruri, local, transport="TCP", pad=0, clen=True,
            clen_value=None, body="", port=5070, call_id=True):
    branch = "z9hG4bK" + str(time.monotonic_ns())
    lines = ["%s %s SIP/2.0" % (method, ruri),
             "Via: SIP/2.0/%s %s:%d;branch=%s" % (transport, local, port,
                                                  branch),
             "Max-Forwards: 70",
             "From: <sip:stream@%s>;tag=s%d" % (local, time.monotonic_ns()),
             "To: <%s>" % ruri]
    if call_id:
        lines.append("Call-ID: %d@stream" % time.monotonic_ns())
    lines += ["CSeq: 1 %s" % method,
              "Contact: <sip:stream@%s:%d;transport=%s>" %
              (local, port, transport.lower())]
    if pad > 0:
        lines.append("X-Pad: " + "p" * pad)
    if clen:
        lines.append("Content-Length: %s" %
                     (clen_value if clen_value is not None else len(body)))
    return ("\r\n".join(lines) + "\r\n\r\n" + body).encode()


def padded(method, ruri, local, size, transport="TCP"):
    """A request of exactly size bytes, by its X-Pad header."""
    base = len(request(method, ruri, local, transport, pad=1))
    m = request(method, ruri, local, transport, pad=1 + size - base)
    assert len(m) == size, (len(m), size)
    return m


def read_answers(s, want, seconds):
    """Reads until want responses came, the peer closed or time is up.
    Returns (status codes, closed, raw bytes)."""
    data = b""
    closed = False
    end = time.monotonic() + seconds
    while data.count(b"SIP/2.0 ") < want:
        left = end - time.monotonic()
        if left <= 0:
            break
        s.settimeout(left)
        try:
            chunk = s.recv(65536)
        except socket.timeout:
            break
        except (ConnectionResetError, ssl.SSLError):
            closed = True
            break
        if not chunk:
            closed = True
            break
        data += chunk
    codes = [int(p.split(b" ", 2)[1]) for p in data.split(b"\r\n")
             if p.startswith(b"SIP/2.0 ")]
    return codes, closed, data


def closed_within(s, seconds):
    """True when the server closes s within seconds, sending nothing."""
    codes, closed, data = read_answers(s, 1, seconds)
    return "yes" if closed and not codes else "no:%r" % data[:40]


class Client:
    def __init__(self, a):
        self.a = a
        self.ruri = "sip:annc@%s" % a.server

    def tcp(self):
        s = socket.create_connection((self.a.server, self.a.tcp), 5,
                                     (self.a.local, 0))
        return s

    def tls(self):
        ctx = ssl.create_default_context(cafile=self.a.ca)
        raw = socket.create_connection((self.a.server, self.a.tls), 5,
                                       (self.a.local, 0))
        return ctx.wrap_socket(raw, server_hostname=self.a.server)

    def options(self, s, transport="TCP"):
        s.sendall(request("OPTIONS", self.ruri, self.a.local, transport))
        codes, _, data = read_answers(s, 1, 5)
        return codes, data


def report(name, value):
    print("%s=%s" % (name, value), flush=True)


def check_framing(c, a):
    s = c.tcp()
    codes, data = c.options(s)
    via = [l for l in data.split(b"\r\n") if l.lower().startswith(b"via:")]
    report("options_tcp", "%s %s" % (codes[:1], via[0].split()[1].decode()
                                     if via else "-"))
    m = request("OPTIONS", c.ruri, a.local)
    s.sendall(m + request("OPTIONS", c.ruri, a.local))
    report("back_to_back", read_answers(s, 2, 5)[0])
    m = request("OPTIONS", c.ruri, a.local)
    for i in range(0, len(m), 7):
        s.sendall(m[i:i + 7])
        time.sleep(0.002)
    report("split", read_answers(s, 1, 5)[0])
    s.sendall(b"\r\n\r\n")
    s.settimeout(5)
    report("pong", repr(s.recv(16)))
    s.sendall(padded("OPTIONS", c.ruri, a.local, a.maxm))
    report("limit_exact", read_answers(s, 1, 5)[0])
    s.sendall(padded("OPTIONS", c.ruri, a.local, a.maxm + 1))
    report("limit_over", closed_within(s, 5))
    s.close()


def trickle(c, a, seconds):
    """Sends a request one byte per IDLE/4: "yes" when the server closes
    the connection before the last byte."""
    s = c.tcp()
    m = request("OPTIONS", c.ruri, a.local)
    end = time.monotonic() + seconds
    for i in range(len(m) - 1):
        if time.monotonic() > end:
            return "no: still open"
        try:
            s.sendall(m[i:i + 1])
        except OSError:
            return "yes"
        s.settimeout(a.idle_ms / 4000)
        try:
            if s.recv(1) == b"":
                return "yes"
        except socket.timeout:
            pass
        except OSError:
            return "yes"
    return "no: whole message sent"


def check_hostile(c, a):
    wait = a.idle_ms / 1000 * 4 + 2
    s = c.tcp()
    s.sendall(b"OPTIONS " + c.ruri.encode() + b" SIP/2.0\r\nX: " +
              b"x" * (a.maxm + 10))
    report("endless_header", closed_within(s, 5))
    s = c.tcp()
    s.sendall(bytes(range(256)))
    report("garbage", closed_within(s, 5))
    s = c.tcp()
    m = request("OPTIONS", c.ruri, a.local)
    s.sendall(m[:len(m) // 2])
    report("slow", closed_within(s, wait))
    report("trickle", trickle(c, a, wait))
    s = c.tcp()
    report("idle", closed_within(s, wait))
    s = c.tcp()
    m = request("INVITE", c.ruri, a.local, body="v=0\r\n" * 20)
    s.sendall(m[:len(m) - 30])
    s.close()
    s = c.tcp()
    report("mid_close", c.options(s)[0])
    s.close()


def refusal(s):
    """The status of the answer on s, and whether s was closed after it:
    "400 Missing Content-Length closed"."""
    codes, closed, data = read_answers(s, 1, 5)
    if codes and not closed:
        closed = read_answers(s, 2, 5)[1]
    line = data.split(b"\r\n", 1)[0].decode(errors="replace")
    status = line[8:] if codes else "none"
    return "%s %s" % (status, "closed" if closed else "open")


def check_faults(c, a):
    """Each Content-Length fault on a connection of its own, another
    connection asking before and after them."""
    keep = c.tcp()
    before = c.options(keep)[0]

    def opts(**kw):
        return request("OPTIONS", c.ruri, a.local, **kw)

    cases = (("missing_clen", opts(clen=False)),
             ("bad_clen", opts(clen_value="x")),
             ("negative_clen", opts(clen_value="-5")),
             ("over_clen", opts(clen_value=str(20 * a.maxm))),
             ("conflicting_clen", opts().replace(
                 b"\r\nContent-Length: 0", b"\r\nContent-Length: 0"
                 b"\r\nl: 12")),
             ("unanswerable", opts(clen=False, call_id=False)))
    for name, m in cases:
        s = c.tcp()
        s.sendall(m)
        report(name, refusal(s))
        s.close()
    report("keep_tcp", "%s %s" % (before, c.options(keep)[0]))
    keep.close()


def check_max_conns(c, a):
    socks, answered = [], 0
    for _ in range(2 * a.maxc):
        socks.append(c.tcp())
        time.sleep(0.02)
    for s in socks:
        try:
            codes, _ = c.options(s)
        except OSError:
            codes = []
        answered += 1 if codes == [200] else 0
    report("max_conns", answered)
    for s in socks:
        s.close()


def check_tls(c, a):
    s = c.tls()
    report("options_tls", c.options(s, "TLS")[0])
    s.sendall(request("INVITE", c.ruri, a.local, "TLS"))
    codes, _, _ = read_answers(s, 1, 5)
    report("invite_refused", codes)
    s.close()


class Stream:
    """Whole messages off a stream, framed by Content-Length (none: no
    body), as bytes from next_raw() or text from next()."""

    def __init__(self, s):
        self.s = s
        self.buf = b""

    def next_raw(self, seconds):
        end = time.monotonic() + seconds
        while True:
            self.buf = self.buf.lstrip(b"\r\n")
            eoh = self.buf.find(b"\r\n\r\n")
            if eoh >= 0:
                m = re.search(rb"(?im)^(content-length|l)\s*:\s*(\d+)",
                              self.buf[:eoh])
                total = eoh + 4 + (int(m.group(2)) if m else 0)
                if len(self.buf) >= total:
                    msg, self.buf = self.buf[:total], self.buf[total:]
                    return msg
            left = end - time.monotonic()
            if left <= 0:
                return None
            self.s.settimeout(left)
            try:
                chunk = self.s.recv(65536)
            except (socket.timeout, OSError):
                return None
            if not chunk:
                return None
            self.buf += chunk

    def next(self, seconds):
        msg = self.next_raw(seconds)
        return None if msg is None else msg.decode()


def header(msg, name):
    m = re.search(r"(?im)^%s\s*:\s*(.*?)\r$" % name, msg)
    return m.group(1) if m else ""


def answer(req, code, reason):
    """A response to req, its Via, From, To, Call-ID and CSeq copied."""
    keep = [l for l in req.split("\r\n")[1:]
            if re.match(r"(?i)(via|from|to|call-id|cseq)\s*:", l)]
    return ("SIP/2.0 %d %s\r\n%s\r\nContent-Length: 0\r\n\r\n" %
            (code, reason, "\r\n".join(keep))).encode()


def check_tls_call(c, a):
    """INVITE, 200, ACK, then anncd's BYE on the same connection."""
    s = c.tls()
    st = Stream(s)
    ruri = "sip:annc@%s:%d;play=%s;content-type=audio/basic;" \
        "content-transfer-encoding=base64" % (
            a.server, a.tls, urllib.parse.quote(a.play_url, safe=""))
    sdp = ("v=0\r\no=tls 1 1 IN IP4 %s\r\ns=-\r\nc=IN IP4 %s\r\n"
           "t=0 0\r\nm=audio 30100 RTP/AVP 0\r\na=recvonly\r\n" %
           (a.local, a.local))
    inv = request("INVITE", ruri, a.local, "TLS", body=sdp).replace(
        b"\r\nContent-Length", b"\r\nContent-Type: application/sdp"
        b"\r\nContent-Length")
    s.sendall(inv)
    final = None
    while final is None:
        m = st.next(20)
        if m is None:
            break
        if m.startswith("SIP/2.0 ") and int(m.split()[1]) >= 200:
            final = m
    report("tls_contact", header(final or "", "Contact") or "none")
    if final is None or not final.startswith("SIP/2.0 200"):
        report("tls_bye_via", "no call")
        return
    inv_s = inv.decode()
    ack = ("ACK %s SIP/2.0\r\nVia: SIP/2.0/TLS %s:5070;branch=z9hG4bKack%d"
           "\r\nMax-Forwards: 70\r\nFrom: %s\r\nTo: %s\r\n"
           "Call-ID: %s\r\nCSeq: 1 ACK\r\nContent-Length: 0\r\n\r\n" %
           (header(final, "Contact").strip("<>"), a.local,
            time.monotonic_ns(), header(inv_s, "From"),
            header(final, "To"), header(inv_s, "Call-ID")))
    s.sendall(ack.encode())
    bye = st.next(60)
    while bye is not None and not bye.startswith("BYE "):
        bye = st.next(60)
    report("tls_bye_via", header(bye or "", "Via").split(" ")[0] or "none")
    if bye is not None:
        # Past 2 T1 unanswered: over UDP timer E would have resent it.
        copies = 1
        while True:
            m = st.next(1.2)
            if m is None:
                break
            copies += m.startswith("BYE ")
        report("tls_bye_copies", copies)
        s.sendall(answer(bye, 200, "OK"))
    time.sleep(0.5)
    s.close()


def wait_log(a, pattern, seconds):
    """Whether anncd's log gets a line matching pattern in time."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        with open(a.log, errors="replace") as f:
            if re.search(pattern, f.read()):
                return "logged"
        time.sleep(0.05)
    return "not logged"


def listen(a, port):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((a.local, port))
    s.listen(4)
    return s


def invite(c, a, transport, via_port):
    """An INVITE to PLAY_URL on a connection closed at once; returns it."""
    s = c.tls() if transport == "TLS" else c.tcp()
    ruri = "sip:annc@%s;play=%s;content-type=audio/basic;" \
        "content-transfer-encoding=base64" % (
            a.server, urllib.parse.quote(a.play_url, safe=""))
    sdp = ("v=0\r\no=r 1 1 IN IP4 %s\r\ns=-\r\nc=IN IP4 %s\r\n"
           "t=0 0\r\nm=audio 30200 RTP/AVP 0\r\na=recvonly\r\n" %
           (a.local, a.local))
    inv = request("INVITE", ruri, a.local, transport, body=sdp,
                  port=via_port).replace(
        b"\r\nContent-Length", b"\r\nContent-Type: application/sdp"
        b"\r\nContent-Length")
    s.sendall(inv)
    s.close()
    return inv.decode()


def next_2xx(st, seconds):
    m = st.next(seconds)
    while m is not None and not m.startswith("SIP/2.0 2"):
        m = st.next(seconds)
    return m


def take_answer(conn, inv, transport, via_port, local, copies=None):
    """The 200 for inv on conn, anncd's connection (and, with copies, a
    retransmission of it: copies[0] says whether it came); then our ACK
    and BYE on it.  Returns (the 200's status and Call-ID check, the
    BYE's answer)."""
    st = Stream(conn)
    final = next_2xx(st, 20)
    if final is None:
        return "none", "no call"
    if copies is not None:
        # Double-CRLF pings (RFC 5626 section 3.5.1) keep the connection
        # from closing for silence (--sip-idle-ms is short here) while
        # the retransmission comes, T1 doubling to T2 apart.
        again = None
        for _ in range(20):
            conn.sendall(b"\r\n\r\n")
            again = next_2xx(st, 0.5)
            if again is not None:
                break
        copies.append(again == final)
    same = header(final, "Call-ID") == header(inv, "Call-ID")
    contact = header(final, "Contact").strip("<>")
    common = ("Max-Forwards: 70\r\nFrom: %s\r\nTo: %s\r\nCall-ID: %s\r\n"
              % (header(inv, "From"), header(final, "To"),
                 header(inv, "Call-ID")))
    for meth in ("ACK", "BYE"):
        conn.sendall(("%s %s SIP/2.0\r\nVia: SIP/2.0/%s %s:%d;branch="
                      "z9hG4bK%s%d\r\n%sCSeq: %d %s\r\n"
                      "Content-Length: 0\r\n\r\n" %
                      (meth, contact, transport, local, via_port, meth,
                       time.monotonic_ns(), common,
                       1 if meth == "ACK" else 2, meth)).encode())
    ans = st.next(5)
    while ans is not None and not (ans.startswith("SIP/2.0 ") and
                                   header(ans, "CSeq").endswith("BYE")):
        ans = st.next(5)
    return ("%s %s" % (final.split(" ", 2)[1], "same call" if same
                       else "other call")), \
        (ans.split(" ", 2)[1] if ans else "none")


def accept(l, seconds):
    l.settimeout(seconds)
    try:
        conn, peer = l.accept()
    except socket.timeout:
        return None, "none"
    return conn, peer[0]


def check_reply_tcp(c, a):
    port = 5072
    inv = invite(c, a, "TCP", port)
    report("reply_refused", wait_log(
        a, r"cannot connect to TCP %s:%d: Connection refused" %
        (re.escape(a.local), port), 15))
    l = listen(a, port)
    conn, peer = accept(l, 15)
    if conn is None:
        report("reply_tcp", "no connection")
        return
    copies = []
    status, bye = take_answer(conn, inv, "TCP", port, a.local, copies)
    report("reply_tcp", "%s from %s" % (status, peer))
    more, _ = accept(l, 0.2)
    report("reply_reuse", "%s copy on 1 connection, %s other" % (
        "a" if copies == [True] else "no", "no" if more is None else "an"))
    report("reply_tcp_bye", bye)
    conn.close()
    l.close()


def check_bye_gone(c, a):
    port = 5076
    l = listen(a, port)
    s = c.tcp()
    ruri = "sip:annc@%s;play=%s;content-type=audio/basic;" \
        "content-transfer-encoding=base64;duration=1000" % (
            a.server, urllib.parse.quote(a.play_url, safe=""))
    sdp = ("v=0\r\no=r 1 1 IN IP4 %s\r\ns=-\r\nc=IN IP4 %s\r\n"
           "t=0 0\r\nm=audio 30202 RTP/AVP 0\r\na=recvonly\r\n" %
           (a.local, a.local))
    inv = request("INVITE", ruri, a.local, "TCP", body=sdp,
                  port=port).replace(
        b"\r\nContent-Length", b"\r\nContent-Type: application/sdp"
        b"\r\nContent-Length").decode()
    s.sendall(inv.encode())
    final = next_2xx(Stream(s), 20)
    if final is None:
        report("bye_gone", "no 200")
        return
    # The ACK of a 2xx (RFC 3261 section 13.2.2.4): to the Contact of
    # the 200, on a branch of its own.
    s.sendall(("ACK %s SIP/2.0\r\nVia: SIP/2.0/TCP %s:%d;branch=z9hG4bK"
               "a%d\r\nMax-Forwards: 70\r\nFrom: %s\r\nTo: %s\r\n"
               "Call-ID: %s\r\nCSeq: 1 ACK\r\nContent-Length: 0\r\n\r\n"
               % (header(final, "Contact").strip("<>"), a.local, port,
                  time.monotonic_ns(), header(inv, "From"),
                  header(final, "To"), header(inv, "Call-ID"))).encode())
    s.close()
    conn, _ = accept(l, 20)
    bye = Stream(conn).next(10) if conn is not None else None
    report("bye_gone", "none" if bye is None else "%s %s" % (
        bye.split(" ", 2)[0], bye.split(" ", 2)[1]))
    if bye is not None:
        conn.sendall(answer(bye, 200, "OK"))
        conn.close()
    l.close()


def alive(c, s):
    try:
        return c.options(s)[0] == [200]
    except OSError:
        return False


def check_reply_full(c, a):
    port = 5076
    l = listen(a, port)
    fill = [c.tcp() for _ in range(a.maxc - 1)]
    inv = invite(c, a, "TCP", port)
    # The INVITE's slot, once anncd has seen it close; each try before
    # that is refused, and logged.
    refused = 0
    for _ in range(50):
        s = c.tcp()
        if alive(c, s):
            fill.append(s)
            break
        refused += 1
        s.close()
        time.sleep(0.1)
    report("reply_full_refused", refused)
    pattern = r"not connecting to TCP %s:%d: %d connections open already" % (
        re.escape(a.local), port, a.maxc)
    logged = "not logged"
    end = time.monotonic() + 15
    while logged != "logged" and time.monotonic() < end:
        for s in fill:
            s.sendall(b"\r\n\r\n")     # kept from closing for silence
        logged = wait_log(a, pattern, 0.4)
    for s in fill:
        s.close()
    conn, peer = accept(l, 15)
    status = "no connection"
    if conn is not None:
        status, bye = take_answer(conn, inv, "TCP", port, a.local)
        status += " BYE " + bye
        conn.close()
    report("reply_full", "%s, then %s" % (logged, status))
    l.close()


def tls_accept(l, ctx, seconds):
    """A TLS connection on l, or None when its handshake fails."""
    conn, peer = accept(l, seconds)
    if conn is None:
        return None, peer
    try:
        return ctx.wrap_socket(conn, server_side=True), peer
    except (ssl.SSLError, OSError):
        conn.close()
        return None, peer


def check_reply_tls(c, a):
    port = 5073
    silent = listen(a, port)
    inv = invite(c, a, "TLS", port)
    ip = re.escape(a.local)
    report("reply_timeout", wait_log(
        a, r"cannot connect to TLS %s:%d: not connected within "
        r"--sip-connect-timeout-ms" % (ip, port), 15))
    silent.close()
    untrusted = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    untrusted.load_cert_chain(a.self_cert, a.self_key)
    l = listen(a, port)
    tls_accept(l, untrusted, 15)
    report("reply_untrusted", wait_log(
        a, r"cannot connect to TLS %s:%d: certificate verify failed" %
        (ip, port), 15))
    good = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    good.load_cert_chain(a.ua_cert, a.ua_key)
    conn, peer = None, "none"
    end = time.monotonic() + 20
    while conn is None and time.monotonic() < end:
        conn, peer = tls_accept(l, good, end - time.monotonic())
    if conn is None:
        report("reply_tls", "no connection")
        return
    status, bye = take_answer(conn, inv, "TLS", port, a.local)
    report("reply_tls", "%s from %s" % (status, peer))
    report("reply_tls_bye", bye)
    conn.close()
    l.close()


def to_tag(msg):
    m = re.search(rb"(?im)^(?:to|t)\s*:.*;tag=([^;\s]+)", msg)
    return m.group(1).decode() if m else ""


def ack_for(inv, answer, transport, local):
    """The ACK of a refusal (section 17.1.1.3): the INVITE's branch,
    the To of the answer."""
    head = inv.split(b"\r\n\r\n", 1)[0].decode().split("\r\n")
    keep = [l for l in head[1:] if re.match(r"(?i)(via|from|call-id|"
                                            r"max-forwards)\s*:", l)]
    to = re.search(r"(?im)^to\s*:.*?\r$", answer.decode()).group(0)[:-1]
    return ("ACK %s SIP/2.0\r\n%s\r\n%s\r\nCSeq: 1 ACK\r\n"
            "Content-Length: 0\r\n\r\n" %
            (head[0].split(" ")[1], "\r\n".join(keep), to)).encode()


def check_timer_i(c, a):
    """Copies of a refused INVITE after its ACK, over UDP and TCP."""
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.bind((a.local, 0))
    u.settimeout(5)
    inv = request("INVITE", c.ruri, a.local, "UDP")
    u.sendto(inv, (a.server, a.udp))
    first = u.recv(65536)
    u.sendto(ack_for(inv, first, "UDP", a.local), (a.server, a.udp))
    u.sendto(inv, (a.server, a.udp))
    u.settimeout(a.t4_ms / 2000)
    try:
        within = "answered %s" % u.recv(65536).split(b" ", 2)[1].decode()
    except socket.timeout:
        within = "absorbed"
    time.sleep(a.t4_ms / 1000 + 2)
    u.settimeout(5)
    u.sendto(inv, (a.server, a.udp))
    try:
        again = u.recv(65536)
        after = "answered anew" if to_tag(again) != to_tag(first) else \
            "answered again"
        u.sendto(ack_for(inv, again, "UDP", a.local), (a.server, a.udp))
    except socket.timeout:
        after = "absorbed"
    report("timer_i_udp", "%s, then %s" % (within, after))
    u.close()
    s = c.tcp()
    st = Stream(s)
    inv = request("INVITE", c.ruri, a.local)
    s.sendall(inv)
    first = (st.next(5) or "").encode()
    s.sendall(ack_for(inv, first, "TCP", a.local) + inv)
    again = (st.next(5) or "").encode()
    report("timer_i_tcp", "none" if not again else "answered anew"
           if to_tag(again) != to_tag(first) else "answered again")
    s.close()


def check_reply_none(c, a):
    """--sip-tls-verify none, the default: a self-signed certificate is
    taken."""
    port = 5075
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(a.self_cert, a.self_key)
    l = listen(a, port)
    inv = invite(c, a, "TLS", port)
    conn, peer = None, "none"
    end = time.monotonic() + 20
    while conn is None and time.monotonic() < end:
        conn, peer = tls_accept(l, ctx, end - time.monotonic())
    if conn is None:
        report("reply_none", "no connection")
        return
    status, bye = take_answer(conn, inv, "TLS", port, a.local)
    report("reply_none", "%s from %s, BYE %s" % (status, peer, bye))
    conn.close()
    l.close()


def check_udp(c, a):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((a.local, 0))
    s.settimeout(3)
    for name, size in (("udp_limit_exact", a.maxm),
                       ("udp_limit_over", a.maxm + 1)):
        s.sendto(padded("OPTIONS", c.ruri, a.local, size, "UDP"),
                 (a.server, a.udp))
        try:
            report(name, s.recv(65536).split(b" ", 2)[1].decode())
        except socket.timeout:
            report(name, "none")


def main():
    p = argparse.ArgumentParser()
    for opt in ("--server", "--local", "--ca", "--play-url", "--log",
                "--ua-cert", "--ua-key", "--self-cert", "--self-key"):
        p.add_argument(opt, required=True)
    for opt in ("--tcp", "--tls", "--udp", "--maxc", "--maxm", "--idle-ms",
                "--t4-ms"):
        p.add_argument(opt, type=int, required=True)
    p.add_argument("--default-verify", action="store_true")
    a = p.parse_args()
    c = Client(a)
    if a.default_verify:
        check_reply_none(c, a)
        return
    check_faults(c, a)
    check_framing(c, a)
    check_hostile(c, a)
    check_max_conns(c, a)
    check_tls(c, a)
    check_tls_call(c, a)
    check_udp(c, a)
    check_timer_i(c, a)
    check_reply_tcp(c, a)
    check_reply_full(c, a)
    check_reply_tls(c, a)
    check_bye_gone(c, a)


if __name__ == "__main__":
    main()
