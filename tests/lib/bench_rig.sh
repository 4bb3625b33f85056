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
#
# Uses stage.sh (ANNCD_BIN, ANNCD_LOG).

BENCH_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/lib/stage.sh
. "$BENCH_LIB_DIR/stage.sh"

BENCH_BIN=${BENCH_BIN:-}
BENCH_PTIME=${BENCH_PTIME:-20}
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

bench_run()
{
	rig_ua "$BENCH_BIN" --server "$RIG_SIP_IP:$ANNCD_SIP_PORT" \
		--local "$RIG_UA_IP" --play-url "$BENCH_URL" \
		--content-type audio/basic --cte base64 --ptime "$BENCH_PTIME" \
		--expect-packets "$BENCH_PACKETS" "$@"
}
