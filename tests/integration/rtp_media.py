#!/usr/bin/env python3
"""The format tests' view of a captured call: the RTP that anncd sent,
as tshark exported it, cut back into the frames of each payload format
(RFC 3551 G.711/L16/G.722/G.729, RFC 4867 AMR and AMR-WB in both modes,
RFC 2250 MPEG audio and video), checked against the frames of the
original attachment, and replayed to ffmpeg's own RTP receiver.

  rtp_media.py analyze FMT DUMP PORT [--rate N] [--fps N] [--es OUT]
  rtp_media.py frames FMT FILE          one line per frame: size md5
  rtp_media.py cmpframes FMT WANT GOT   same frames in the same order?
  rtp_media.py cmppcm WANT GOT [--snr DB]
  rtp_media.py replay DUMP CALLER_PORT BASE_PORT OUTDIR OFFER...
  rtp_media.py record PORT DUMP         what arrives on 127.0.0.1:PORT

DUMP holds tshark's "-T fields -e udp.dstport -e udp.payload" lines for
the datagrams from anncd's media address, in capture order.  An OFFER is
"audio:96=AMR/8000;octet-align=1" (kind, payload type, rtpmap, fmtp), as
anncd-call --offer takes it.  Every result is a key=value line.
"""

import array
import hashlib
import math
import os
import signal
import socket
import subprocess
import sys
import time

# RFC 4867 section 3.6 and 3GPP TS 26.101/26.201: speech bits per frame
# type; 15 is NO_DATA.
AMR_BITS = {0: 95, 1: 103, 2: 118, 3: 134, 4: 148, 5: 159, 6: 204, 7: 244,
            8: 39, 15: 0}
AMR_WB_BITS = {0: 132, 1: 177, 2: 253, 3: 285, 4: 317, 5: 365, 6: 397,
               7: 461, 8: 477, 9: 40, 14: 0, 15: 0}

# ISO/IEC 11172-3 and 13818-3 header tables, kbit/s.
MPA_KBPS = {
    (1, 1): [0, 32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384,
             416, 448],
    (1, 2): [0, 32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320,
             384],
    (1, 3): [0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256,
             320],
    (2, 1): [0, 32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224,
             256],
    (2, 2): [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160],
}
MPA_KBPS[(2, 3)] = MPA_KBPS[(2, 2)]
MPA_RATES = {1: [44100, 48000, 32000], 2: [22050, 24000, 16000],
             25: [11025, 12000, 8000]}


def fail(msg):
    print("error=\"%s\"" % msg.replace('"', "'"))
    sys.exit(1)


# ---- RTP (RFC 3550 section 5.1) -------------------------------------------

def rtp_parse(d):
    """Header fields and payload of one RTP packet, or None."""
    if len(d) < 12 or d[0] >> 6 != 2:
        return None
    hl = 12 + 4 * (d[0] & 15)
    if d[0] & 0x10:
        if len(d) < hl + 4:
            return None
        hl += 4 + 4 * int.from_bytes(d[hl + 2:hl + 4], "big")
    end = len(d) - (d[-1] if d[0] & 0x20 else 0)
    if hl > end:
        return None
    return {"m": d[1] >> 7, "pt": d[1] & 0x7F,
            "seq": int.from_bytes(d[2:4], "big"),
            "ts": int.from_bytes(d[4:8], "big"),
            "ssrc": int.from_bytes(d[8:12], "big"), "pl": d[hl:end]}


def read_dump(path):
    """(dstport, datagram) in capture order."""
    out = []
    with open(path) as f:
        for line in f:
            parts = line.split()
            if len(parts) != 2:
                continue
            out.append((int(parts[0]), bytes.fromhex(parts[1].replace(":", ""))))
    return out


def rtp_packets(dump, port):
    pkts = []
    for dport, d in dump:
        if dport != port or len(d) < 2 or 72 <= (d[1] & 0x7F) <= 76:
            continue
        p = rtp_parse(d)
        if p is not None:
            pkts.append(p)
    return pkts


# ---- frames of each format --------------------------------------------------

def amr_table(wb):
    return AMR_WB_BITS if wb else AMR_BITS


def amr_storage_frames(data, wb):
    """Frames of an RFC 4867 section 5 file, each with its TOC byte."""
    magic = b"#!AMR-WB\n" if wb else b"#!AMR\n"
    if not data.startswith(magic):
        raise ValueError("no %r magic" % magic)
    pos, out = len(magic), []
    while pos < len(data):
        ft = data[pos] >> 3 & 15
        if ft not in amr_table(wb):
            raise ValueError("frame type %d at byte %d" % (ft, pos))
        n = 1 + (amr_table(wb)[ft] + 7) // 8
        out.append(data[pos:pos + n])
        pos += n
    return out


def mpa_header(b):
    """(frame bytes, samples, rate) of the MPEG audio header at b[0:4]."""
    if len(b) < 4 or b[0] != 0xFF or b[1] & 0xE0 != 0xE0:
        return None
    ver = {3: 1, 2: 2, 0: 25}.get(b[1] >> 3 & 3)
    layer = {3: 1, 2: 2, 1: 3}.get(b[1] >> 1 & 3)
    bri, sri, pad = b[2] >> 4, b[2] >> 2 & 3, b[2] >> 1 & 1
    if ver is None or layer is None or bri in (0, 15) or sri == 3:
        return None
    kbps = MPA_KBPS[(1 if ver == 1 else 2, layer)][bri]
    rate = MPA_RATES[ver][sri]
    if layer == 1:
        return ((12 * kbps * 1000 // rate + pad) * 4, 384, rate)
    if layer == 3 and ver != 1:
        return (72 * kbps * 1000 // rate + pad, 576, rate)
    return (144 * kbps * 1000 // rate + pad, 1152, rate)


def mpa_frames(data):
    pos, out = 0, []
    while pos < len(data):
        h = mpa_header(data[pos:pos + 4])
        if h is None or pos + h[0] > len(data):
            raise ValueError("no MPEG audio frame at byte %d" % pos)
        out.append(data[pos:pos + h[0]])
        pos += h[0]
    return out


def start_codes(data):
    """Offsets and values of the 00 00 01 xx start codes."""
    out, i = [], data.find(b"\0\0\1")
    while 0 <= i < len(data) - 3:
        out.append((i, data[i + 3]))
        i = data.find(b"\0\0\1", i + 3)
    return out


def mpv_units(data):
    """The video elementary stream cut per picture: each unit starts with
    the sequence or GOP header before its picture, if any, else with the
    picture start code (what RFC 2250 section 3.4 puts first in a packet
    and the marker bit ends); a trailing sequence end code is dropped."""
    if data.endswith(b"\0\0\1\xb7"):
        data = data[:-4]
    cuts, pending, seen_pic = [], None, False
    for off, code in start_codes(data):
        if code in (0xB3, 0xB8) and pending is None:
            pending = off
        elif code == 0x00:
            cut = pending if pending is not None else off
            if seen_pic:
                cuts.append(cut)
            seen_pic, pending = True, None
    bounds = [0] + cuts + [len(data)]
    return [data[a:b] for a, b in zip(bounds, bounds[1:]) if b > a]


def split_frames(fmt, data):
    if fmt in ("amr", "amr-be"):
        return amr_storage_frames(data, False)
    if fmt in ("amr-wb", "amr-wb-be"):
        return amr_storage_frames(data, True)
    if fmt == "mpa":
        return mpa_frames(data)
    if fmt == "mpv":
        return mpv_units(data)
    if fmt == "g729":
        return [data[i:i + 10] for i in range(0, len(data), 10)]
    raise ValueError("no frames for format %s" % fmt)


# ---- depacketizers: payloads back to frames, and each packet's duration ----

def bits_take(data, pos, n):
    """n bits of data from bit pos on, as an int."""
    v = 0
    for i in range(pos, pos + n):
        v = v << 1 | (data[i >> 3] >> (7 - (i & 7)) & 1)
    return v


def amr_depack(pl, wb, octet):
    """Storage frames of one RFC 4867 payload (section 4.3 or 4.4)."""
    table, tocs, frames = amr_table(wb), [], []
    if octet:
        pos = 1
        while True:
            t = pl[pos]
            tocs.append((t >> 3 & 15, t >> 2 & 1))
            pos += 1
            if not t & 0x80:
                break
        for ft, q in tocs:
            n = (table[ft] + 7) // 8
            frames.append(bytes([ft << 3 | q << 2]) + pl[pos:pos + n])
            pos += n
        if pos != len(pl):
            raise ValueError("octet-aligned payload: %d bytes past the "
                             "frames" % (len(pl) - pos))
        return frames
    bit = 4
    while True:
        f, ft, q = (bits_take(pl, bit, 1), bits_take(pl, bit + 1, 4),
                    bits_take(pl, bit + 5, 1))
        tocs.append((ft, q))
        bit += 6
        if not f:
            break
    for ft, q in tocs:
        nb = table[ft]
        out = bytearray((nb + 7) // 8)
        for i in range(nb):
            if bits_take(pl, bit + i, 1):
                out[i >> 3] |= 0x80 >> (i & 7)
        frames.append(bytes([ft << 3 | q << 2]) + bytes(out))
        bit += nb
    if (bit + 7) // 8 != len(pl):
        raise ValueError("bandwidth-efficient payload: %d bits of frames "
                         "in %d bytes" % (bit, len(pl)))
    return frames


def mpv_payload(pl):
    # RFC 2250 section 3.4: the T bit says an MPEG-2 header follows
    return pl[8:] if pl[0] & 0x04 else pl[4:]


class Depack:
    """Frames and elementary stream of one RTP stream, with the timestamp
    each packet should carry, in clock ticks after the first packet's."""

    def __init__(self, fmt, pkts, rate, fps, channels):
        self.fmt, self.pkts = fmt, pkts
        self.es, self.want_ts, self.frames = b"", [], []
        getattr(self, "run_" + fmt.replace("-", "_"))(rate, fps, channels)

    def uniform(self, bytes_per_tick):
        t = 0
        for p in self.pkts:
            self.want_ts.append(t)
            t += len(p["pl"]) / bytes_per_tick
        self.es = b"".join(p["pl"] for p in self.pkts)

    def run_g711(self, rate, fps, ch):
        self.uniform(1)

    def run_g722(self, rate, fps, ch):
        # RFC 3551 section 4.5.2: clock 8000 although sampled at 16000
        self.uniform(1)

    def run_l16(self, rate, fps, ch):
        self.uniform(2 * ch)

    def run_g729(self, rate, fps, ch):
        self.uniform(10 / 80)
        self.frames = split_frames("g729", self.es)

    def amr(self, wb, octet):
        t = 0
        for p in self.pkts:
            self.want_ts.append(t)
            fr = amr_depack(p["pl"], wb, octet)
            self.frames += fr
            t += len(fr) * (320 if wb else 160)
        magic = b"#!AMR-WB\n" if wb else b"#!AMR\n"
        self.es = magic + b"".join(self.frames)

    def run_amr(self, rate, fps, ch):
        self.amr(False, True)

    def run_amr_be(self, rate, fps, ch):
        self.amr(False, False)

    def run_amr_wb(self, rate, fps, ch):
        self.amr(True, True)

    def run_amr_wb_be(self, rate, fps, ch):
        self.amr(True, False)

    def run_mpa(self, rate, fps, ch):
        # RFC 2250 section 3.5: MBZ and Frag_offset, then frames; a
        # packet's timestamp is that of the frame it starts (or continues)
        starts, pos = [], 0
        for p in self.pkts:
            off = int.from_bytes(p["pl"][2:4], "big")
            starts.append((pos, off))
            self.es += p["pl"][4:]
            pos += len(p["pl"]) - 4
        self.frames = mpa_frames(self.es)
        at, samples, t = {}, 0, 0
        for fr in self.frames:
            h = mpa_header(fr)
            at[t] = samples * 90000 / h[2]
            samples += h[1]
            t += len(fr)
        for pos, off in starts:
            if pos - off not in at:
                raise ValueError("packet at byte %d (offset %d) starts no "
                                 "frame" % (pos, off))
            self.want_ts.append(at[pos - off])

    def run_mpv(self, rate, fps, ch):
        pic, unit, units = 0, b"", []
        for p in self.pkts:
            self.want_ts.append(pic * 90000 / fps)
            unit += mpv_payload(p["pl"])
            if p["m"]:
                units.append(unit)
                unit, pic = b"", pic + 1
        if unit:
            units.append(unit)
        self.es = b"".join(units)
        self.frames = units


def sorted_by_seq(pkts):
    """Sequence order, extended across a wrap (RFC 3550 appendix A.1)."""
    if not pkts:
        return pkts
    ext, high = [], pkts[0]["seq"]
    for p in pkts:
        e = high + ((p["seq"] - high + 32768) % 65536 - 32768)
        high = max(high, e)
        ext.append((e, p))
    ext.sort(key=lambda x: x[0])
    return [p for _, p in ext]


def cmd_analyze(args):
    fmt, dump, port = args[0], args[1], int(args[2])
    opts = dict(zip(args[3::2], args[4::2]))
    pkts = rtp_packets(read_dump(dump), port)
    if not pkts:
        fail("no RTP to port %d" % port)
    seq_steps = {(b["seq"] - a["seq"]) % 65536 for a, b in zip(pkts, pkts[1:])}
    pkts = sorted_by_seq(pkts)
    try:
        d = Depack(fmt, pkts, int(opts.get("--rate", 8000)),
                   float(opts.get("--fps", 25)),
                   int(opts.get("--channels", 1)))
    except (ValueError, IndexError, KeyError) as e:
        fail("%s payloads: %s" % (fmt, e))
    ts0 = pkts[0]["ts"]
    bad_ts = [i for i, (p, w) in enumerate(zip(pkts, d.want_ts))
              if abs(((p["ts"] - ts0) % 2**32) - w) > 1]
    steps = sorted({(b["ts"] - a["ts"]) % 2**32 for a, b in zip(pkts, pkts[1:])})
    if "--es" in opts:
        with open(opts["--es"], "wb") as f:
            f.write(d.es)
    print("packets=%d pts=%s ssrcs=%d seq_steps=%s ts_steps=%s ts_bad=%d "
          "first_bad_ts=%s marker_first=%d markers=%d frames=%d "
          "last_len=%d" % (
              len(pkts), ",".join(sorted({str(p["pt"]) for p in pkts})),
              len({p["ssrc"] for p in pkts}),
              ",".join(str(s) for s in sorted(seq_steps)),
              ",".join(str(s) for s in steps[:8]), len(bad_ts),
              bad_ts[0] if bad_ts else "none", pkts[0]["m"],
              sum(p["m"] for p in pkts), len(d.frames),
              len(pkts[-1]["pl"])))


def cmd_frames(args):
    with open(args[1], "rb") as f:
        for fr in split_frames(args[0], f.read()):
            print(len(fr), hashlib.md5(fr).hexdigest())


def cmd_cmpframes(args):
    fmt = args[0]
    try:
        lists = []
        for path in args[1:3]:
            with open(path, "rb") as f:
                lists.append(split_frames(fmt, f.read()))
    except ValueError as e:
        fail(str(e))
    want, got = lists
    diff = next((i for i, (a, b) in enumerate(zip(want, got)) if a != b),
                None)
    if diff is None and len(want) != len(got):
        diff = min(len(want), len(got))
    print("want_frames=%d got_frames=%d frames=%s first_diff=%s" % (
        len(want), len(got), "same" if diff is None else "differ",
        "none" if diff is None else diff))


def read_s16(path):
    a = array.array("h")
    with open(path, "rb") as f:
        a.frombytes(f.read())
    if sys.byteorder == "big":
        a.byteswap()
    return a


def snr_at(want, got, lag):
    """SNR of got against want, got shifted lag samples later."""
    lo, hi = max(0, -lag), min(len(want), len(got) - lag)
    sig = sum(want[i] * want[i] for i in range(lo, hi)) or 1
    err = sum((want[i] - got[i + lag]) ** 2 for i in range(lo, hi))
    return 99.0 if err == 0 else 10 * math.log10(sig / err)


def cmd_cmppcm(args):
    """Identical, or how close: --align N finds the lag within N samples
    that fits best, for a conversion whose filter delays the signal."""
    want, got = read_s16(args[0]), read_s16(args[1])
    align = int(args[3]) if len(args) > 3 and args[2] == "--align" else 0
    n = min(len(want), len(got))
    diff = next((i for i in range(n) if want[i] != got[i]), None)
    # a coarse search on a stride, then every lag near the best
    lags = range(-align, align + 1)
    best = max(lags, key=lambda k: snr_at(want[::4], got[::4], k // 4)
               if k % 4 == 0 else -999)
    best = max(range(best - 4, best + 5) if align else [0],
               key=lambda k: snr_at(want, got, k))
    same = diff is None and len(want) == len(got)
    print("want_samples=%d got_samples=%d samples=%s first_diff=%s "
          "snr_db=%.1f lag=%d" % (len(want), len(got),
                                  "same" if same else "differ",
                                  "none" if diff is None else diff,
                                  snr_at(want, got, best), best))


# ---- replay to ffmpeg -------------------------------------------------------

def offer_parse(spec):
    """"audio:96=AMR/8000;octet-align=1" -> (kind, pt, rtpmap, fmtp)."""
    kind, rest = spec.split(":", 1)
    pt, _, rest = rest.partition("=")
    rtpmap, _, fmtp = rest.partition(";")
    return kind, int(pt), rtpmap, fmtp


def write_sdp(path, offers, base):
    lines = ["v=0", "o=- 0 0 IN IP4 127.0.0.1", "s=replay",
             "c=IN IP4 127.0.0.1", "t=0 0"]
    for i, spec in enumerate(offers):
        kind, pt, rtpmap, fmtp = offer_parse(spec)
        lines.append("m=%s %d RTP/AVP %d" % (kind, base + 2 * i, pt))
        if rtpmap:
            lines.append("a=rtpmap:%d %s" % (pt, rtpmap))
        if fmtp:
            lines.append("a=fmtp:%d %s" % (pt, fmtp))
    with open(path, "w") as f:
        f.write("\r\n".join(lines) + "\r\n")


def recv_q(port):
    """Bytes queued on the UDP socket bound to port, or None: unbound."""
    out = subprocess.run(["ss", "-Hlun", "sport = :%d" % port],
                         capture_output=True, text=True).stdout.split()
    return int(out[1]) if len(out) > 1 else None


def drained(ports):
    return all(recv_q(p) == 0 for p in ports)


def cmd_replay(args):
    """Plays the captured datagrams again, in capture order and in
    separate ports of this namespace's loopback, to ffmpeg reading an SDP
    of the offer; its RTCP BYE (RFC 3550 section 6.6, anncd sends one per
    stream) ends ffmpeg's input.  Each stream is decoded: audio to s16le,
    video to one MD5 per picture."""
    dump, cport, base, outdir = (read_dump(args[0]), int(args[1]),
                                 int(args[2]), args[3])
    offers = args[4:]
    sdp = os.path.join(outdir, "replay.sdp")
    write_sdp(sdp, offers, base)
    cmd = ["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y",
           "-protocol_whitelist", "file,udp,rtp", "-reorder_queue_size",
           "0", "-i", sdp]
    for i, spec in enumerate(offers):
        if spec.startswith("video"):
            cmd += ["-map", "0:%d" % i, "-fps_mode", "passthrough",
                    "-f", "framemd5",
                    os.path.join(outdir, "replay.%d.md5" % i)]
        else:
            cmd += ["-map", "0:%d" % i, "-f", "s16le",
                    os.path.join(outdir, "replay.%d.raw" % i)]
    log = open(os.path.join(outdir, "replay.log"), "w")
    ff = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
    try:
        replay_send(dump, cport, base, len(offers), ff)
    finally:
        # bounded: the BYE ends it at once; else ask it to finish
        try:
            ff.wait(timeout=5)
        except subprocess.TimeoutExpired:
            ff.send_signal(signal.SIGINT)
            try:
                ff.wait(timeout=5)
            except subprocess.TimeoutExpired:
                ff.kill()
                ff.wait()
    print("replay_exit=%d" % ff.returncode)


def replay_send(dump, cport, base, nstreams, ff):
    ports = [base + i for i in range(2 * nstreams)]
    for _ in range(100):
        if all(recv_q(p) is not None for p in ports):
            break
        if ff.poll() is not None:
            return
        time.sleep(0.05)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    for dport, d in dump:
        off = dport - cport
        # RTP only: ffmpeg reads its RTCP socket first, and an SR read
        # ahead of the RTP before it cost the last packets of the stream
        if 0 <= off < 2 * nstreams and off % 2 == 0:
            s.sendto(d, ("127.0.0.1", base + off))
            # paced, so that ffmpeg's socket never overflows
            time.sleep(0.00025)
    # ffmpeg reads its RTCP socket before its RTP socket: a BYE must wait
    # until every packet before it has been read
    for _ in range(100):
        if drained(ports) or ff.poll() is not None:
            break
        time.sleep(0.05)
    time.sleep(0.1)
    # ffmpeg reads a compound RTCP packet only up to its SR, so anncd's
    # BYE (after an SR, as RFC 3550 section 6.1 wants) does not end its
    # input; and it ignores datagrams under 12 bytes.  A BYE alone, with
    # a reason, per stream does.
    reason = b"replay over"
    bye = bytes(8) + bytes([len(reason)]) + reason
    bye += bytes(-len(bye) % 4)
    bye = bytes([0x81, 203, 0, len(bye) // 4 - 1]) + bye[4:]
    for i in range(nstreams):
        s.sendto(bye, ("127.0.0.1", base + 2 * i + 1))
    s.close()


def cmd_record(args):
    """Receives RTP on 127.0.0.1:PORT into a dump until 1 s passes
    without a packet (at most 30 s): the checker's own check, on the
    packets of ffmpeg's RTP muxer."""
    port, out = int(args[0]), args[1]
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
    s.bind(("127.0.0.1", port))
    print("listening", flush=True)
    s.settimeout(30)
    end = time.monotonic() + 30
    with open(out, "w") as f:
        while time.monotonic() < end:
            try:
                d = s.recv(65536)
            except socket.timeout:
                break
            f.write("%d %s\n" % (port, d.hex()))
            s.settimeout(1)


def main():
    cmds = {"analyze": cmd_analyze, "frames": cmd_frames,
            "cmpframes": cmd_cmpframes, "cmppcm": cmd_cmppcm,
            "replay": cmd_replay, "record": cmd_record}
    if len(sys.argv) < 2 or sys.argv[1] not in cmds:
        sys.stderr.write(__doc__)
        sys.exit(2)
    cmds[sys.argv[1]](sys.argv[2:])


if __name__ == "__main__":
    main()
