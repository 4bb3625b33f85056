#!/usr/bin/env python3
"""Turns what baresip recorded back into the mu-law it received.

baresip's sndfile module writes the decoded audio of a call as a WAV file
(8 kHz, 16-bit mono).  Its G.711 decoder (librem's table) is the classic
segment decoder of ITU-T G.711, except that the two codes of zero, 0x7F
(negative) and 0xFF (positive), come out as -2 and +2 instead of 0 and 0.
All 256 codes then decode to distinct samples, so the recording maps back to
the RTP payload exactly.  A sample outside that set means the recording is
not a lossless image of the payload (mixing, resampling, packet loss
concealment): it is reported, never rounded.

    ulaw_from_wav.py IN.wav OUT.ul
"""
import sys
import wave


def ulaw_decode(code):
    """The sample librem's table gives for one mu-law code."""
    if code == 0x7F:
        return -2
    if code == 0xFF:
        return 2
    u = ~code & 0xFF
    seg = (u >> 4) & 0x07
    mag = ((((u & 0x0F) << 3) + 0x84) << seg) - 0x84
    return -mag if u & 0x80 else mag


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: ulaw_from_wav.py IN.wav OUT.ul")
    inverse = {ulaw_decode(c): c for c in range(256)}
    if len(inverse) != 256:
        sys.exit("ulaw_from_wav: the decoding table is not one to one")
    with wave.open(sys.argv[1], "rb") as w:
        if (w.getnchannels(), w.getsampwidth(), w.getframerate()) != (1, 2, 8000):
            sys.exit("ulaw_from_wav: %s is not 8 kHz 16-bit mono" % sys.argv[1])
        frames = w.readframes(w.getnframes())
    out = bytearray()
    for i in range(0, len(frames) - 1, 2):
        s = int.from_bytes(frames[i:i + 2], "little", signed=True)
        if s not in inverse:
            sys.exit("ulaw_from_wav: sample %d is %d, which no mu-law code "
                     "decodes to" % (i // 2, s))
        out.append(inverse[s])
    with open(sys.argv[2], "wb") as f:
        f.write(out)


if __name__ == "__main__":
    main()
