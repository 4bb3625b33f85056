#!/usr/bin/env python3
"""anncd's server transactions seen from the wire (RFC 3261 section 17.2),
for an anncd started with a short T1 (--sip-t1-ms) so that timer G shows
within seconds:

  options_again    an OPTIONS sent twice with one branch gets the same
                   answer twice, byte for byte (one To tag): the second
                   copy was not handled anew
  options_new      another branch is another transaction: another tag
  refusal_rtx      a refused INVITE never acknowledged: the refusal
                   comes again and again (timer G), all copies equal
  refusal_acked    a refused INVITE acknowledged with the INVITE's
                   branch (section 17.1.1.3): no copy after the ACK
  invite_again     a retransmitted INVITE after its refusal: the same
                   refusal, not a new one
  bye_unknown      a BYE for no dialog: 481

Each check prints "name=value"; the caller compares the values.

    sip_txn.py --to HOST:PORT --window SECONDS
"""

import argparse
import os
import re
import socket
import time


def request(method, ruri, branch, call_id, local, cseq=1, to_tag=""):
    host, port = local
    to = "<%s>%s" % (ruri, ";tag=" + to_tag if to_tag else "")
    return ("%s %s SIP/2.0\r\n"
            "Via: SIP/2.0/UDP %s:%d;branch=%s\r\n"
            "Max-Forwards: 70\r\n"
            "From: <sip:txn@%s>;tag=txnfrom\r\n"
            "To: %s\r\n"
            "Call-ID: %s\r\n"
            "CSeq: %d %s\r\n"
            "Contact: <sip:txn@%s:%d>\r\n"
            "Content-Length: 0\r\n\r\n" %
            (method, ruri, host, port, branch, host, to, call_id, cseq,
             method, host, port)).encode()


def collect(s, seconds):
    """Every datagram that comes within seconds."""
    got = []
    end = time.monotonic() + seconds
    while True:
        left = end - time.monotonic()
        if left <= 0:
            return got
        s.settimeout(left)
        try:
            got.append(s.recv(65535))
        except socket.timeout:
            return got


def status(pkt):
    m = re.match(rb"SIP/2\.0 (\d{3}) ", pkt)
    return int(m.group(1)) if m else -1


def branch():
    return "z9hG4bK" + os.urandom(6).hex()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--to", required=True)
    ap.add_argument("--window", type=float, default=3.0)
    a = ap.parse_args()
    host, port = a.to.rsplit(":", 1)
    to = (host, int(port))
    s = None
    ruri = "sip:annc@%s" % host

    def fresh():
        # A socket per check: a refusal of an earlier check keeps coming
        # (timer G) to the socket it went to.
        nonlocal s
        if s is not None:
            s.close()
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.connect(to)
        return s.getsockname()

    local = fresh()

    b = branch()
    opt = request("OPTIONS", ruri, b, "txn-opt", local)
    s.send(opt)
    first = collect(s, 0.5)
    s.send(opt)
    second = collect(s, 0.5)
    print("options_again=%s" % ("same" if first and first == second
                                else "different"))
    s.send(request("OPTIONS", ruri, branch(), "txn-opt", local))
    other = collect(s, 0.5)
    print("options_new=%s" % ("same" if other == first else "different"))

    nobody = "sip:nobody@%s" % host
    local = fresh()
    s.send(request("INVITE", nobody, branch(), "txn-rtx", local))
    copies = collect(s, a.window)
    print("refusal_rtx=%d" % len(copies))
    print("refusal_rtx_status=%s" % ",".join(
        sorted({str(status(p)) for p in copies})))
    print("refusal_rtx_identical=%s" % ("yes" if len(set(copies)) == 1
                                        else "no"))

    b = branch()
    local = fresh()
    s.send(request("INVITE", nobody, b, "txn-ack", local))
    refusal = collect(s, 0.05)
    s.send(request("ACK", nobody, b, "txn-ack", local))
    collect(s, 0.3)             # a copy that crossed the ACK
    print("refusal_acked=%d after an ACK, %d before" %
          (len(collect(s, a.window)), len(refusal)))

    b = branch()
    local = fresh()
    inv = request("INVITE", nobody, b, "txn-again", local)
    s.send(inv)
    one = collect(s, 0.05)
    s.send(inv)
    two = collect(s, 0.05)
    s.send(request("ACK", nobody, b, "txn-again", local))
    print("invite_again=%s" % ("same" if one and two and one[0] == two[0]
                               else "different"))

    s.send(request("BYE", ruri, branch(), "txn-nodialog", local, 2,
                   "nosuchtag"))
    print("bye_unknown=%s" % ",".join(str(status(p))
                                      for p in collect(s, 0.5)))


if __name__ == "__main__":
    main()
