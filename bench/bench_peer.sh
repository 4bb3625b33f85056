#!/usr/bin/env bash
# targets: anncd bench/bench-peer-rtp
# The peer benchmark: one announcement streamed to N callers by anncd (SIP
# calls through its normal path, the content fetched from a private Cyrus
# by URLAUTH, the dataplane on net_af_packet), by rtpengine (ng control:
# offer, answer, play media) and by a plain sendmmsg() loop, the
# kernel-socket floor.  All three send from the server namespace of the
# test rig over its veth to one receiving socket in the caller namespace
# (bench-peer-rtp recv), which counts the packets, the losses and each
# stream's spacing, and reads the sender's CPU time at the edges of its
# window.  The contenders run one at a time, interleaved: anncd, rtpengine,
# sendmmsg, REPS times per N.  Run by scripts/bench peer.
#
#   bench_peer.sh BUILD [--streams "100 1000"] [--reps 3] [--window 5]
#                       [--json FILE]
set -euo pipefail

BUILD=$(cd "$1" && pwd)
shift
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=tests/lib/stage.sh
. "$TOP/tests/lib/stage.sh"

STREAMS="100 1000"
REPS=3
WINDOW=5		# seconds measured per run
SETTLE=1		# seconds after the last stream is seen
WAIT=40			# bound on the calls' set-up, seconds
ANNC_S=45		# the announcement: longer than set-up and window
JSON=
RECV_PORT=30000		# the callers' one RTP port
RTP_PORTS=40000-47999	# anncd's source ports, one even one per call
MAX_STREAMS=4000
NG_PORT=2223		# rtpengine's control, on the server's loopback
RTP=$BUILD/bench/bench-peer-rtp
# The callers' programs stay on the first CPU, where anncd's control plane
# is too, so that they do not take the second from the sender under test
# (anncd's worker polls there); the same for all three senders.
CALLER_CPU=0
ANNCD_BIN=$BUILD/anncd
CALLS=$TOP/bench/peer_calls.py

usage()
{
	sed -n 's/^#   //p' "${BASH_SOURCE[0]}" >&2
	exit 2
}

note()
{
	printf 'bench-peer: %s\n' "$*" >&2
}

parse_args()
{
	local n

	while [ $# -gt 0 ]; do
		case "$1" in
		--streams) STREAMS=$2; shift 2 ;;
		--reps) REPS=$2; shift 2 ;;
		--window) WINDOW=$2; shift 2 ;;
		--json) JSON=$2; shift 2 ;;
		*) usage ;;
		esac
	done
	[[ $REPS =~ ^[1-9][0-9]?$ ]] || usage
	[[ $WINDOW =~ ^[1-9][0-9]?$ ]] || usage
	[[ $STREAMS =~ ^[0-9\ ]+$ ]] || usage
	for n in $STREAMS; do
		# anncd takes one even RTP port of RTP_PORTS per call
		if [ "$n" -lt 1 ] || [ "$n" -gt "$MAX_STREAMS" ]; then
			note "--streams: $n is not within 1-$MAX_STREAMS"
			exit 2
		fi
	done
}

# The rig, Cyrus in the server namespace and a voice mail of about
# ANNC_S seconds (the spoken message repeated) in alice's INBOX.
setup()
{
	local once

	stage_up cyrus
	mail_make_voice "$WORK"
	# sox's repeat N plays N more times
	once=$(soxi -D "$MAIL_AU")
	sox -q "$MAIL_AU" "$WORK/annc.au" repeat \
		"$(awk -v a="$ANNC_S" -v o="$once" 'BEGIN { print int(a / o) }')"
	mail_build_message "$WORK/annc.au" "$WORK/message.eml"
	mail_deliver "$MAIL_EML"
	URL=$(stage_url)
	[ -n "$URL" ] || { note "GENURLAUTH gave no URL"; exit 1; }
	chmod 755 "$WORK"
	chmod 644 "$WORK/annc.au"
	note "announcement: $(soxi -D "$WORK/annc.au") s, $(stat -c %s \
		"$WORK/annc.au") bytes, in Cyrus as UID $MAIL_UID"
}

# recv_start N PID [--usr1]: the callers' socket, measuring PID.
recv_start()
{
	ip netns exec "$RIG_UA" taskset -c "$CALLER_CPU" \
		"$RTP" recv --port "$RECV_PORT" \
		--streams "$1" --seconds "$WINDOW" --settle "$SETTLE" \
		--wait "$WAIT" --pid "$2" "${@:3}" \
		>"$WORK/recv.txt" 2>"$WORK/recv.err" &
	RECV_PID=$!
	cleanup_add_pid "$RECV_PID"
}

recv_wait()
{
	wait "$RECV_PID" || true
	RECV=$(grep '^streams=' "$WORK/recv.txt" | tail -n 1 || true)
	[ -n "$RECV" ] || cat "$WORK/recv.err" >&2
}

# calls_start NS MODE N ARGS...: peer_calls.py in namespace NS: the
# callers' for SIP, the server's for rtpengine's control, which a
# signalling server beside it would send on its loopback.
calls_start()
{
	ip netns exec "$1" taskset -c "$CALLER_CPU" \
		python3 "$CALLS" "$2" --count "$3" \
		--local "$RIG_UA_IP" --media-port "$RECV_PORT" \
		--timeout $((WAIT + WINDOW + 30)) "${@:4}" \
		>"$WORK/calls.txt" 2>&1 &
	CALLS_PID=$!
	cleanup_add_pid "$CALLS_PID"
}

calls_stop()
{
	cleanup_kill_pid "$CALLS_PID" 15
	CALLS_LINE=$(grep '^calls=' "$WORK/calls.txt" | tail -n 1 || true)
	[ -n "$CALLS_LINE" ] || cat "$WORK/calls.txt" >&2
}

# The worker's counters of the two SIGUSR1 lines the receiver asked for.
anncd_deltas()
{
	grep 'counters tx_packets=' "$ANNCD_LOG" | tail -n 2 |
		sed 's/.*counters //' | awk '
		{ for (i = 1; i <= NF; i++) { split($i, kv, "="); v[NR, kv[1]] = kv[2] } }
		END {
			if (NR != 2) exit 1
			for (k = 1; k <= 2; k++)
				rtp[k] = v[k, "tx_packets"] - v[k, "rtcp_sr"] - v[k, "rtcp_bye"]
			hz = v[2, "tsc_hz"]
			printf "sent=%d busy_s=%.6f tx_burst_s=%.6f busy_long_s=%.6f",
				rtp[2] - rtp[1],
				(v[2, "busy_tsc"] - v[1, "busy_tsc"]) / hz,
				(v[2, "tx_burst_tsc"] - v[1, "tx_burst_tsc"]) / hz,
				(v[2, "busy_long_tsc"] - v[1, "busy_long_tsc"]) / hz
		}'
}

run_anncd()
{
	local n=$1 dp

	ANNCD_LOG=$WORK/anncd-$n-$2.log
	: >"$ANNCD_LOG"
	ANNCD_STARTS=0
	ANNCD_RTP_PORTS=$RTP_PORTS
	stage_anncd --max-calls $((n + 16))
	recv_start "$n" "$ANNCD_PID" --usr1
	calls_start "$RIG_UA" sip "$n" --server "$RIG_SIP_IP:$ANNCD_SIP_PORT" \
		--play-url "$URL"
	recv_wait
	calls_stop
	sleep 0.2
	dp=$(anncd_deltas || echo "sent=0")
	anncd_stop
	record anncd "$n" "$2" "$dp"
}

rtpengine_start()
{
	local i

	cat >"$WORK/rtpengine.conf" <<EOF
[rtpengine]
table = -1
interface = $RIG_SIP_IP
listen-ng = 127.0.0.1:$NG_PORT
port-min = 50000
port-max = 59999
timeout = 3600
log-level = 4
foreground = true
log-stderr = true
EOF
	# The peer needs a few descriptors per call: as many as allowed.
	# shellcheck disable=SC2016 # expanded by the inner shell
	ip netns exec "$RIG_MS" bash -c 'ulimit -n "$(ulimit -Hn)"; exec "$@"' \
		rtpengine rtpengine --config-file="$WORK/rtpengine.conf" \
		--config-section=rtpengine \
		>>"$WORK/rtpengine.log" 2>&1 &
	RTPENGINE_PID=$!
	cleanup_add_pid "$RTPENGINE_PID"
	for ((i = 0; i < 100; i++)); do
		[ -n "$(rig_ms ss -Hlun "sport = :$NG_PORT")" ] && return 0
		cleanup_alive "$RTPENGINE_PID" || break
		sleep 0.1
	done
	cat "$WORK/rtpengine.log" >&2
	note "rtpengine did not start"
	exit 1
}

run_rtpengine()
{
	local n=$1

	rtpengine_start
	recv_start "$n" "$RTPENGINE_PID"
	calls_start "$RIG_MS" rtpengine "$n" --ng "127.0.0.1:$NG_PORT" \
		--file "$WORK/annc.au"
	recv_wait
	calls_stop
	cleanup_kill_pid "$RTPENGINE_PID" 10
	record rtpengine "$n" "$2" ""
}

run_sendmmsg()
{
	local n=$1 pid

	ip netns exec "$RIG_MS" "$RTP" send --src "$RIG_SIP_IP" \
		--dst "$RIG_UA_IP:$RECV_PORT" --streams "$n" \
		--seconds $((SETTLE + WINDOW + 3)) --au "$WORK/annc.au" \
		>"$WORK/send.txt" 2>&1 &
	pid=$!
	cleanup_add_pid "$pid"
	recv_start "$n" "$pid"
	recv_wait
	cleanup_kill_pid "$pid" 15
	CALLS_LINE=
	record sendmmsg "$n" "$2" ""
}

# One line per run for the report: who, N, the repetition, the receiver's
# figures, the callers' set-up, the dataplane's counters and the machine's
# load average, since other work may share it.
record()
{
	printf 'who=%s n=%s rep=%s %s %s %s load1=%s\n' "$1" "$2" "$3" \
		"$RECV" "${CALLS_LINE:-}" "$4" "$(cut -d' ' -f1 /proc/loadavg)" \
		>>"$WORK/runs.txt"
	note "$(tail -n 1 "$WORK/runs.txt")"
}

main()
{
	local n rep

	parse_args "$@"
	[ "$(id -u)" -eq 0 ] || { note "needs root (namespaces)"; exit 1; }
	"$TOP/scripts/deps" bench >&2
	cleanup_trap
	WORK=$(mktemp -d /tmp/bench-peer.XXXXXX)
	cleanup_add_dir "$WORK"
	setup
	for n in $STREAMS; do
		for ((rep = 1; rep <= REPS; rep++)); do
			run_anncd "$n" "$rep"
			run_rtpengine "$n" "$rep"
			run_sendmmsg "$n" "$rep"
		done
	done
	python3 "$TOP/bench/peer_report.py" "$WORK/runs.txt" \
		${JSON:+--json "$JSON"}
}

main "$@"
