# shellcheck shell=bash
# shellcheck disable=SC2034 # the BENCH_ variables are for the sourcing script
# What anncd-bench runs against, for scripts/bench calls and its smoke
# test: the rig of rig.sh, a private Cyrus on the server host's loopback
# holding alice's voice mail, an anonymous pawn-ticket URL of the
# attachment, and anncd started by anncd.sh with the options given.
#
#   bench_rig_up DIR       -> BENCH_URL BENCH_PACKETS (of a whole stream at
#                             BENCH_PTIME ms, 20 by default) BENCH_AUDIO_MS
#   bench_run ARGS...      anncd-bench (BENCH_BIN) in the caller namespace
#                          against anncd, with the URL and the addresses
#   bench_rig_sip_veth     SIP on a second veth pair of its own (below);
#                          sets RIG_SIP_IP to BENCH_SIP_IP
#
# In the rig of rig.sh, SIP and RTP share one veth, and the dataplane's
# af_packet socket on it is handed a copy of every SIP datagram, each
# way.  In production SIP comes in on a kernel interface and the DPDK
# port is a NIC of its own: bench_rig_sip_veth gives SIP a second veth
# pair, anncd's SIP address BENCH_SIP_IP on it in the server namespace,
# and a host route that sends the answers to the caller's address that
# way too.  The caller keeps one address (RIG_UA_IP) for SIP and RTP.
#
# Uses stage.sh (ANNCD_BIN, ANNCD_LOG).

BENCH_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/lib/stage.sh
. "$BENCH_LIB_DIR/stage.sh"

BENCH_BIN=${BENCH_BIN:-}
BENCH_PTIME=${BENCH_PTIME:-20}
BENCH_SIP_IP=198.19.0.1	# anncd's SIP address on the second pair
BENCH_SIP_UA_IP=198.19.0.2	# the caller's end of it (routes only)
BENCH_URL=
BENCH_PACKETS=
BENCH_AUDIO_MS=

bench_rig_up()
{
	local dir=$1 bytes per

	stage_up mail "$dir" >/dev/null
	BENCH_URL=$(stage_url)
	[ -n "$BENCH_URL" ] || { echo "bench: GENURLAUTH failed" >&2; return 1; }
	bytes=$(mail_au_bytes "$MAIL_AU")
	per=$((8 * BENCH_PTIME))
	BENCH_PACKETS=$(((bytes + per - 1) / per))
	BENCH_AUDIO_MS=$((bytes / 8))
}

bench_rig_sip_veth()
{
	local ms=s$RIG_ID ua=t$RIG_ID

	ip -n "$RIG_MS" link add "$ms" type veth peer name "$ua" netns "$RIG_UA"
	ip -n "$RIG_MS" addr add "$BENCH_SIP_IP/$RIG_PLEN" dev "$ms"
	ip -n "$RIG_UA" addr add "$BENCH_SIP_UA_IP/$RIG_PLEN" dev "$ua"
	ip -n "$RIG_MS" link set "$ms" up
	ip -n "$RIG_UA" link set "$ua" up
	# SIP to the caller's one address leaves by this pair, not the
	# DPDK port's veth; the caller reaches BENCH_SIP_IP on it anyway.
	ip -n "$RIG_MS" route add "$RIG_UA_IP/32" dev "$ms"
	RIG_SIP_IP=$BENCH_SIP_IP
	rig_ua ping -q -c 1 -W 2 "$RIG_SIP_IP" >/dev/null || {
		echo "bench: no route to $RIG_SIP_IP on $ua" >&2
		return 1
	}
}

bench_run()
{
	rig_ua "$BENCH_BIN" --server "$RIG_SIP_IP:$ANNCD_SIP_PORT" \
		--local "$RIG_UA_IP" --play-url "$BENCH_URL" \
		--content-type audio/basic --cte base64 --ptime "$BENCH_PTIME" \
		--expect-packets "$BENCH_PACKETS" "$@"
}
