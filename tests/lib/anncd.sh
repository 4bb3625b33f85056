# shellcheck shell=bash
# anncd under test in the rig of rig.sh, for the integration scripts: one
# instance at a time in the server namespace, its output appended to one
# log, stopped by its PID; its cache counters asked for with SIGUSR1; the
# key=value lines of anncd-call and the other test clients read by key.
#
# Set before anncd_start:
#   ANNCD_BIN        the anncd executable
#   ANNCD_LOG        the log every start appends to
#   ANNCD_SIP_PORT   SIP port on RIG_SIP_IP (default 5060)
#   ANNCD_RTP_PORTS  source ports of the streams (default 40000-40999)
#   ANNCD_LOG_LEVEL  --log-level (default info); above info, anncd is
#                    taken as started once its SIP socket is bound
#
#   anncd_start [anncd options...] -> ANNCD_PID, once "sip listening"
#   anncd_stop                     SIGTERM, SIGKILL after 10 s
#   anncd_counters_now             SIGUSR1, waits for the counters line
#   anncd_counter KEY              KEY of the last counters line (0: none)
#   kv_field LINE KEY              value of KEY=value or KEY="value"
#
# Uses cleanup.sh and rig.sh (RIG_MS, RIG_MSVETH, RIG_SIP_IP,
# RIG_MEDIA_IP).

ANNCD_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/lib/cleanup.sh
. "$ANNCD_LIB_DIR/cleanup.sh"

ANNCD_BIN=${ANNCD_BIN:-}
ANNCD_LOG=${ANNCD_LOG:-}
ANNCD_SIP_PORT=${ANNCD_SIP_PORT:-5060}
ANNCD_RTP_PORTS=${ANNCD_RTP_PORTS:-40000-40999}
ANNCD_LOG_LEVEL=${ANNCD_LOG_LEVEL:-info}
ANNCD_PID=
ANNCD_STARTS=0		# start-ups seen in ANNCD_LOG

anncd_start()
{
	local i

	# ip netns exec, not rig_ms: $! must be anncd itself, to stop it.
	ip netns exec "$RIG_MS" "$ANNCD_BIN" --no-huge -m 512 --no-shconf \
		--no-pci -l 0,1 "--file-prefix=anncd-test-$$" \
		"--vdev=net_af_packet0,iface=$RIG_MSVETH" -- \
		--sip "$RIG_SIP_IP:$ANNCD_SIP_PORT" --media-ip "$RIG_MEDIA_IP" \
		--rtp-ports "$ANNCD_RTP_PORTS" \
		--log-level "$ANNCD_LOG_LEVEL" "$@" </dev/null >>"$ANNCD_LOG" 2>&1 &
	ANNCD_PID=$!
	cleanup_add_pid "$ANNCD_PID"
	cleanup_add_dir "/var/run/dpdk/anncd-test-$$"
	for ((i = 0; i < 300; i++)); do
		if [ "$(grep -c 'sip listening' "$ANNCD_LOG")" -gt \
			"$ANNCD_STARTS" ]; then
			ANNCD_STARTS=$((ANNCD_STARTS + 1))
			return 0
		fi
		# The socket is bound last, after the dataplane is up.
		if [ "$ANNCD_LOG_LEVEL" != info ] && [ "$ANNCD_LOG_LEVEL" != debug ] &&
			[ -n "$(ip netns exec "$RIG_MS" ss -Hlun \
				"sport = :$ANNCD_SIP_PORT")" ]; then
			return 0
		fi
		cleanup_alive "$ANNCD_PID" || break
		sleep 0.1
	done
	cat "$ANNCD_LOG" >&2
	printf 'anncd: did not start\n' >&2
	return 1
}

anncd_stop()
{
	[ -n "$ANNCD_PID" ] || return 0
	cleanup_kill_pid "$ANNCD_PID" 10
	ANNCD_PID=
}

anncd_counter()
{
	local v

	v=$(grep 'counters lookups=' "$ANNCD_LOG" | tail -n 1 |
		sed -n "s/.* $1=\([0-9]*\).*/\1/p")
	printf '%s' "${v:-0}"
}

# Up to 5 s for the new line; false when none came.
anncd_counters_now()
{
	local before i

	before=$(grep -c 'counters lookups=' "$ANNCD_LOG" || true)
	kill -USR1 "$ANNCD_PID"
	for ((i = 0; i < 50; i++)); do
		[ "$(grep -c 'counters lookups=' "$ANNCD_LOG" || true)" \
			-gt "$before" ] && return 0
		sleep 0.1
	done
	printf 'anncd: no counters line after SIGUSR1\n' >&2
	return 1
}

kv_field()
{
	local line=$1 key=$2

	if [[ $line =~ (^|[[:space:]])$key=\"([^\"]*)\" ]]; then
		printf '%s' "${BASH_REMATCH[2]}"
	elif [[ $line =~ (^|[[:space:]])$key=([^[:space:]]*) ]]; then
		printf '%s' "${BASH_REMATCH[2]}"
	fi
}
