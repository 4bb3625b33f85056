#!/usr/bin/env python3
"""The RFC 4475 torture messages, each as one UDP datagram to a running
anncd, and what anncd answers checked against what RFC 4475 expects of a
user agent server that is neither a registrar nor a proxy.

Each message goes from its own socket, so that whatever comes back belongs
to it.  A case lists the final status codes the RFC allows (None: no
answer at all, as for a response or a message too broken to answer) and
headers the answer must carry.  Some cases are sent a second time with the
Request-URI turned to sip:annc@..., because RFC 3261 section 8.2 checks
the Request-URI's user (404) before Require (420) and the body (415): the
torture message's own user would hide the check it is about.

The last line is
    cases=N passed=N failed=N
and the exit status is 0 only when every case passed.

    sip_torture.py --to HOST:PORT --data DIR [--wait SECONDS]
                   [--final-bound SECONDS]
"""

import argparse
import re
import socket
import sys
import time

# file, allowed final codes, required header names (lower case), and
# whether to send it again addressed to annc (with what is allowed then).
CASES = [
    # 3.1.1: valid messages, parsed and answered as any request.
    ("wsinv.sip", {404}, [], None),
    ("intmeth.sip", {501}, ["allow"], None),
    ("esc01.sip", {404}, [], None),
    ("escnull.sip", {405}, ["allow"], None),
    ("esc02.sip", {501}, ["allow"], None),
    ("lwsdisp.sip", {200}, ["allow", "accept", "supported"], None),
    ("longreq.sip", {404}, [], None),
    ("dblreq.sip", {405}, ["allow"], None),
    ("semiuri.sip", {200}, [], None),
    ("transports.sip", {200}, [], None),
    ("mpart01.sip", {405}, ["allow"], None),
    ("unreason.sip", {None}, [], None),
    ("noreason.sip", {None}, [], None),
    # 3.1.2: invalid messages.
    ("badinv01.sip", {400}, [], None),
    ("clerr.sip", {400}, [], None),
    ("ncl.sip", {400, None}, [], None),
    ("scalar02.sip", {400}, [], None),
    ("scalarlg.sip", {None}, [], None),
    ("quotbal.sip", {400}, [], None),
    ("ltgtruri.sip", {400}, [], None),
    ("lwsruri.sip", {400}, [], None),
    ("lwsstart.sip", {400, 404}, [], None),
    ("trws.sip", {400, 200}, [], None),
    ("escruri.sip", {400, 404}, [], None),
    ("baddate.sip", {404}, [], None),
    ("regbadct.sip", {400, 405}, [], None),
    ("badaspec.sip", {400, 200}, [], None),
    ("baddn.sip", {400}, [], None),
    ("badvers.sip", {505}, [], None),
    ("mismatch01.sip", {400}, [], None),
    ("mismatch02.sip", {501, 400}, [], None),
    ("bigcode.sip", {None}, [], None),
    # 3.2, 3.3: semantic.
    ("badbranch.sip", {400, 200}, [], None),
    ("insuf.sip", {400, None}, [], None),
    ("unkscm.sip", {416}, [], None),
    ("novelsc.sip", {416}, [], None),
    ("unksm2.sip", {405}, ["allow"], None),
    ("bext01.sip", {420}, ["unsupported"], None),
    ("invut.sip", {404}, [], ({415}, ["accept"])),
    ("regaut01.sip", {405}, ["allow"], None),
    ("multi01.sip", {400}, [], None),
    ("mcl01.sip", {400, None}, [], None),
    ("bcast.sip", {None}, [], None),
    ("zeromf.sip", {200}, [], None),
    ("cparam01.sip", {405}, ["allow"], None),
    ("cparam02.sip", {405}, ["allow"], None),
    ("regescrt.sip", {405}, ["allow"], None),
    ("sdp01.sip", {404}, [], ({406, 400}, [])),
    # 3.4: RFC 2543 syntax; a strict RFC 3261 server may refuse it.
    ("inv2543.sip", {404, 400}, [], None),
]

COMPACT = {"k": "supported"}


def to_annc(data, host):
    """The message with its Request-URI replaced by sip:annc@host."""
    line, sep, rest = data.partition(b"\r\n")
    method = line.split(b" ", 1)[0]
    return method + b" sip:annc@" + host.encode() + b" SIP/2.0" + sep + rest


def answers(data, to, wait, bound):
    """Every datagram that comes back, as (status, header names, first
    line): until wait seconds pass with nothing after the last one, or
    after sending; while no final answer has come, the wait stretches to
    bound seconds, so that a slow machine does not pass for silence."""
    got = []
    seen = set()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.sendto(data, to)
        start = last = time.monotonic()
        final = False
        while True:
            end = last + wait if final else max(last + wait, start + bound)
            s.settimeout(max(0.0, end - time.monotonic()))
            try:
                pkt = s.recv(65535)
            except socket.timeout:
                return got
            last = time.monotonic()
            head = pkt.split(b"\r\n\r\n", 1)[0].decode("utf-8", "replace")
            lines = head.split("\r\n")
            m = re.match(r"SIP/2\.0 (\d{3}) ", lines[0] + " ")
            names = set()
            for h in lines[1:]:
                name = h.partition(":")[0].strip().lower()
                names.add(COMPACT.get(name, name))
            if pkt in seen:
                continue    # a retransmission (timer G): the same answer
            seen.add(pkt)
            code = int(m.group(1)) if m else -1
            final = final or code >= 200 or code < 100
            got.append((code, names, lines[0]))


def judge(name, got, allowed, need):
    """'' when the answers fit the case, else what is wrong."""
    finals = [g for g in got if g[0] >= 200 or g[0] < 100]
    if None in allowed and not got:
        return ""
    if not finals:
        return "no final answer (got %s)" % [g[2] for g in got]
    if len(finals) > 1:
        return "%d final answers: %s" % (len(finals),
                                         [g[2] for g in finals])
    code, names, line = finals[0]
    if code not in allowed:
        return "answered %r, expected one of %s" % (line, sorted(
            allowed, key=str))
    missing = [h for h in need if h not in names]
    if missing:
        return "answer %r lacks %s" % (line, ", ".join(missing))
    return ""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--to", required=True)
    ap.add_argument("--data", required=True)
    ap.add_argument("--wait", type=float, default=0.5)
    ap.add_argument("--final-bound", type=float, default=10.0)
    a = ap.parse_args()
    host, port = a.to.rsplit(":", 1)
    to = (host, int(port))
    runs = failed = 0
    for name, allowed, need, as_annc in CASES:
        with open("%s/%s" % (a.data, name), "rb") as f:
            data = f.read()
        sends = [(name, data, allowed, need)]
        if as_annc is not None:
            sends.append((name + " to annc", to_annc(data, host),
                          as_annc[0], as_annc[1]))
        for label, payload, ok_codes, headers in sends:
            runs += 1
            bound = a.wait if None in ok_codes else a.final_bound
            got = answers(payload, to, a.wait, bound)
            why = judge(label, got, ok_codes, headers)
            codes = ",".join(str(g[0]) for g in got) or "none"
            print("%-22s %-10s %s" % (label, codes, why or "ok"))
            failed += bool(why)
    print("cases=%d passed=%d failed=%d" % (runs, runs - failed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
