#!/usr/bin/env python3
"""The report of the peer benchmark (bench/bench_peer.sh): one line per run
in, a table for a person, --json FILE for a script, and a last line of
key=value figures for the largest N.

CPU per RTP packet: for rtpengine and the sendmmsg loop, the process's
utime + stime over the receiver's window divided by the packets received
in it; for anncd, the dataplane worker's busy TSC time over the same
window (two SIGUSR1 snapshots) divided by the RTP packets it sent, with
the whole process's CPU time per packet beside it, since its worker polls
a whole core at any load.

A run held the rate when at least 99.5 % of N * 50 packets a second
arrived and none was lost; it held the spacing when the median gap
between a stream's packets was within 1 ms of 20 ms and the 99th
percentile at most 30 ms (one and a half packet times).
"""

import argparse
import json
import statistics
import sys

WHO = ("anncd", "rtpengine", "sendmmsg")
PTIME_MS = 20.0


def parse(path):
    runs = []
    with open(path) as f:
        for line in f:
            r = {}
            for tok in line.split():
                k, _, v = tok.partition("=")
                try:
                    r[k] = float(v) if "." in v else int(v)
                except ValueError:
                    r[k] = v
            if "who" in r and "packets" in r:
                runs.append(derive(r))
    return runs


def derive(r):
    pkts = r.get("packets", 0)
    r["rate"] = r["pps"] / r["expected_pps"] if r.get("expected_pps") else 0
    r["rate_held"] = r["rate"] >= 0.995 and r.get("lost", 1) == 0
    r["spacing_held"] = (abs(r.get("gap_p50_ms", 0) - PTIME_MS) <= 1.0 and
                         0 < r.get("gap_p99_ms", 99) <= 1.5 * PTIME_MS)
    r["process_us_per_pkt"] = r["cpu_s"] / pkts * 1e6 if pkts else None
    # how much of a CPU the sender got: anncd's worker wants a whole one
    r["cpu_share"] = r["cpu_s"] / r["window_s"] if r.get("window_s") else 0
    if r["who"] == "anncd":
        sent = r.get("sent", 0)
        ok = sent > 0
        r["cpu_us_per_pkt"] = r["busy_s"] / sent * 1e6 if ok else None
        r["port_us_per_pkt"] = r["tx_burst_s"] / sent * 1e6 if ok else None
        r["own_us_per_pkt"] = ((r["busy_s"] - r["tx_burst_s"]) / sent * 1e6
                               if ok else None)
        r["short_us_per_pkt"] = ((r["busy_s"] - r["busy_long_s"]) / sent *
                                 1e6 if ok else None)
    else:
        r["cpu_us_per_pkt"] = r["process_us_per_pkt"]
    return r


def med(runs, key):
    v = [r[key] for r in runs if r.get(key) is not None]
    return statistics.median(v) if v else None


def summarise(runs):
    out = {}
    for n in sorted({r["n"] for r in runs}):
        s = out[n] = {}
        for who in WHO:
            rs = [r for r in runs if r["n"] == n and r["who"] == who]
            if not rs:
                continue
            s[who] = {k: med(rs, k) for k in (
                "cpu_us_per_pkt", "process_us_per_pkt", "own_us_per_pkt",
                "port_us_per_pkt", "short_us_per_pkt", "rate", "lost",
                "cpu_share", "gap_p50_ms",
                "gap_p99_ms", "worst_stream_p99_ms", "setup_s", "load1")}
            s[who]["runs"] = len(rs)
            s[who]["rate_held"] = sum(r["rate_held"] for r in rs)
            s[who]["spacing_held"] = sum(r["spacing_held"] for r in rs)
        for peer in ("rtpengine", "sendmmsg"):
            s[peer + "_over_anncd"] = ratio(runs, n, peer)
    return out


def ratio(runs, n, peer):
    """Median over the repetitions of each one's own peer / anncd."""
    v = []
    for rep in sorted({r["rep"] for r in runs if r["n"] == n}):
        a = [r for r in runs if (r["n"], r["rep"], r["who"]) ==
             (n, rep, "anncd")]
        p = [r for r in runs if (r["n"], r["rep"], r["who"]) ==
             (n, rep, peer)]
        if a and p and a[0]["cpu_us_per_pkt"] and p[0]["cpu_us_per_pkt"]:
            v.append(p[0]["cpu_us_per_pkt"] / a[0]["cpu_us_per_pkt"])
    return statistics.median(v) if v else None


def f(v, fmt="%.2f"):
    return "-" if v is None else fmt % v


def table(summary):
    print("| streams | sender | CPU us/packet | process us/packet | "
          "process CPUs | rate | lost | gap p50 | gap p99 | "
          "worst stream p99 | rate held | spacing held |")
    print("| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: "
          "| ---: | --- | --- |")
    for n, s in summary.items():
        for who in WHO:
            if who not in s:
                continue
            m = s[who]
            print("| %d | %s | %s | %s | %s | %s | %s | %s ms | %s ms "
                  "| %s ms | %d of %d | %d of %d |" % (
                      n, who, f(m["cpu_us_per_pkt"]),
                      f(m["process_us_per_pkt"]), f(m["cpu_share"]),
                      f(m["rate"], "%.3f"),
                      f(m["lost"], "%d"), f(m["gap_p50_ms"]),
                      f(m["gap_p99_ms"]), f(m["worst_stream_p99_ms"]),
                      m["rate_held"], m["runs"], m["spacing_held"],
                      m["runs"]))
    print()
    for n, s in summary.items():
        a = s.get("anncd", {})
        print("%d streams: anncd's busy time %s us/packet = %s in its own "
              "work + %s in the port's tx_burst (the kernel's af_packet "
              "send); %s without rounds over 2 ms (preempted); "
              "rtpengine / anncd %s, sendmmsg / anncd %s" % (
                  n, f(a.get("cpu_us_per_pkt")), f(a.get("own_us_per_pkt")),
                  f(a.get("port_us_per_pkt")), f(a.get("short_us_per_pkt")),
                  f(s["rtpengine_over_anncd"], "%.1f"),
                  f(s["sendmmsg_over_anncd"], "%.1f")))


def last_line(summary):
    n = max(summary)
    s = summary[n]

    def g(who, k="cpu_us_per_pkt"):
        return f(s.get(who, {}).get(k), "%.3f")

    print("streams=%d anncd_cpu_us_per_pkt=%s rtpengine_cpu_us_per_pkt=%s "
          "sendmmsg_cpu_us_per_pkt=%s ratio=%s floor_ratio=%s "
          "anncd_own_us_per_pkt=%s anncd_process_us_per_pkt=%s" % (
              n, g("anncd"), g("rtpengine"), g("sendmmsg"),
              f(s["rtpengine_over_anncd"], "%.1f"),
              f(s["sendmmsg_over_anncd"], "%.1f"),
              g("anncd", "own_us_per_pkt"),
              g("anncd", "process_us_per_pkt")))


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("runs")
    p.add_argument("--json")
    o = p.parse_args()
    runs = parse(o.runs)
    if not runs:
        print("peer-report: no runs in %s" % o.runs, file=sys.stderr)
        return 1
    summary = summarise(runs)
    if o.json:
        with open(o.json, "w") as fh:
            json.dump({"runs": runs, "summary": summary}, fh, indent=1)
    table(summary)
    last_line(summary)
    return 0


if __name__ == "__main__":
    sys.exit(main())
