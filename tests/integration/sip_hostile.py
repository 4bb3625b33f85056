#!/usr/bin/env python3
"""A hostile caller against a running anncd with --sip-tcp, --sip-tls,
--sip-idle-ms IDLE and --sip-max-connections MAXC.  Each probe prints
"name=value"; test_hostile.sh compares the values.

  tls_trickle         a ClientHello sent a byte per IDLE/3: "yes" when
                      anncd closes before the handshake can end
  tls_record_trickle  after the handshake, one TLS record a byte per
                      IDLE/3: closed the same way
  after.status        a whole call over UDP once the probes are done

    sip_hostile.py --server IP --local IP --udp PORT --tcp PORT
                   --tls PORT --ca FILE --idle-ms N --maxc N --url URL
                   [--only NAME,...]
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
from sip_dialog import Dialog, header, sdp, sdp_dir, status  # noqa: E402


def report(name, value):
    print("%s=%s" % (name, value), flush=True)


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

    def after(self):
        d = Dialog(self.a.dlg, 5390, self.a.params)
        c, r = d.invite(sdp(self.a.local, 30390))
        report("after.status", status(r))
        if status(r) == 200:
            d.ack(c)
            d.bye()


def main():
    p = argparse.ArgumentParser()
    for opt in ("--server", "--local", "--ca", "--url"):
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
    probes = ["tls_trickle", "tls_record_trickle", "after"]
    for name in probes:
        if not a.only or name in a.only.split(","):
            getattr(pr, name)()


if __name__ == "__main__":
    main()
