#!/usr/bin/env bash
# targets: anncd bench/anncd-bench
# Call setups per second of anncd on real parts: a private Cyrus holds one
# voice mail, anncd runs with its dataplane on net_af_packet in the rig's
# server namespace, anncd-bench calls from the caller namespace at a rising
# rate, every call for the same URL so that all but the first are answered
# from the content cache.  Most calls hang up with their ACK; every
# FULL_EVERY-th plays to anncd's BYE and has its whole stream checked.
#
#   bench_calls.sh BUILD_DIR [anncd-bench options...]
#
# RAMP=FROM,TO,STEP,SECONDS sets the rising rates; CPS=N (SECONDS_AT=S)
# one fixed rate instead, FULL_EVERY=N which calls play to the end.
# SIP_VETH=1 (the default) puts SIP on a veth pair of its own, as it
# would be on a machine whose DPDK port is a NIC of its own; SIP_VETH=0
# leaves it on the DPDK port's veth, where the dataplane's af_packet
# socket receives a copy of every SIP datagram (tests/lib/bench_rig.sh).
#
# Prints anncd-bench's table and, last, its key=value line (cps=...
# p50_setup_ms=... p99_setup_ms=... p99_first_rtp_ms=...).  JSON, plot data
# and PNGs go to BUILD_DIR/calls-out/.  BENCH_ANNCD names another anncd
# binary to measure (a build before a change).  Needs root.
#
# anncd-bench also reads the CPU time of anncd's control thread (the
# process's main thread, the main lcore) at the start and end of each step
# and prints it per call set up: ctl_us_per_setup, and ctl_cps_core, the
# setups per second one control core would carry were it not shared with
# the bench and the kernel's network work as it is on a small machine.
set -euo pipefail

BUILD=$(cd "$1" && pwd)
shift
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=tests/lib/bench_rig.sh
. "$TOP/tests/lib/bench_rig.sh"

RAMP=${RAMP:-2000,30000,2000,3}	# calls/s from, to, step; seconds each
CPS=${CPS:-}			# or one fixed rate ...
SECONDS_AT=${SECONDS_AT:-10}	# ... for this long
FULL_EVERY=${FULL_EVERY:-500}	# calls that play to the end and are checked
SIP_VETH=${SIP_VETH:-1}		# SIP on a veth pair of its own
MAX_CALLS=16384			# anncd --max-calls, and the bench's slots
RTP_PORTS=32768-65535		# anncd's source ports: 16,384 streams
RUN_LIMIT_S=300			# the whole bench, drain included

main()
{
	local out=$BUILD/calls-out work rate=(--ramp "$RAMP")

	[ "$(id -u)" -eq 0 ] || { echo "bench calls: needs root" >&2; exit 77; }
	[ -z "$CPS" ] || rate=(--cps "$CPS" --seconds "$SECONDS_AT")
	cleanup_trap
	work=$(mktemp -d /tmp/anncd-bench.XXXXXX)
	cleanup_add_dir "$work"
	mkdir -p "$out"
	ANNCD_BIN=${BENCH_ANNCD:-$BUILD/anncd}
	ANNCD_LOG=$out/anncd.log
	: >"$ANNCD_LOG"
	ANNCD_RTP_PORTS=$RTP_PORTS
	# One log line per call at info would be measured too: warnings only.
	ANNCD_LOG_LEVEL=warn
	BENCH_BIN=$BUILD/bench/anncd-bench
	bench_rig_up "$work"
	[ "$SIP_VETH" = 0 ] || bench_rig_sip_veth
	stage_anncd --max-calls "$MAX_CALLS"

	# The first call fetches the attachment; the ramp finds it cached.
	bench_run --cps 1 --calls 1 --sip-port 5068 >"$out/warm.txt" 2>&1 || {
		cat "$out/warm.txt" >&2
		echo "bench calls: the first call failed" >&2
		exit 1
	}
	# The main lcore is the main thread: its TID is anncd's PID.
	rig_ua timeout "$RUN_LIMIT_S" "$BENCH_BIN" \
		--server-cpu "/proc/$ANNCD_PID/task/$ANNCD_PID/schedstat" \
		--server "$RIG_SIP_IP:$ANNCD_SIP_PORT" --local "$RIG_UA_IP" \
		--play-url "$BENCH_URL" --content-type audio/basic --cte base64 \
		--expect-packets "$BENCH_PACKETS" "${rate[@]}" --hold-ms 0 \
		--full-every "$FULL_EVERY" --max-active "$MAX_CALLS" \
		--call-ms-max "$((BENCH_AUDIO_MS + 10000))" \
		--json "$out/calls.json" --plot "$out" "$@" \
		>"$out/bench.txt" 2>"$out/progress.txt" || true
	anncd_stop
	cat "$out/bench.txt"
}

main "$@"
