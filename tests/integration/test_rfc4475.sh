#!/usr/bin/env bash
# SIP message handling on a running anncd: the RFC 4475 torture messages
# as datagrams, each answered as RFC 4475 expects of a user agent server
# (sip_torture.py holds the table), and the server transactions of RFC
# 3261 section 17.2 seen from the wire (sip_txn.py); anncd runs with a
# short T1 so that timer G shows within seconds, and must end alive, clean
# and with no sanitizer report in its log.  The torture messages are the
# RFC's own, in tests/data/rfc4475.
#
#   test_rfc4475.sh ANNCD
set -euo pipefail

ANNCD=$1
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
HERE=$TOP/tests/integration
# shellcheck source=tests/lib/stage.sh
. "$TOP/tests/lib/stage.sh"

TXN=

field()
{
	kv_field "$TXN" "$1"
}

# T1 100 ms, T2 400 ms: in a 3 s window an unacknowledged refusal comes
# at 0, 0.1, 0.3, 0.7, 1.1, 1.5 ... s; at least three copies whatever the
# load, and none after an ACK.
check_transactions()
{
	local i

	TXN=$(rig_ua python3 "$HERE/sip_txn.py" \
		--to "$RIG_SIP_IP:$ANNCD_SIP_PORT" --window 3) || true
	printf '%s\n' "$TXN"
	check "retransmitted OPTIONS: the same answer again" \
		"$(field options_again)" same
	check "OPTIONS on another branch: answered anew" \
		"$(field options_new)" different
	check "refusal retransmitted until the ACK (timer G)" \
		"$([ "$(field refusal_rtx)" -ge 3 ] && echo yes)" yes
	check "retransmitted refusals identical" \
		"$(field refusal_rtx_identical)" yes
	check "retransmitted refusals are 404" "$(field refusal_rtx_status)" 404
	check "no refusal after its ACK" "$(field refusal_acked)" 0
	check "retransmitted INVITE: the same refusal" \
		"$(field invite_again)" same
	check "BYE for no dialog" "$(field bye_unknown)" 481
	kill -USR1 "$ANNCD_PID"
	for ((i = 0; i < 50; i++)); do
		grep -q 'counters transactions=' "$ANNCD_LOG" && break
		sleep 0.1
	done
	check "INVITE refusals acknowledged, as counted" \
		"$(grep 'counters transactions=' "$ANNCD_LOG" | tail -n 1 |
		sed -n 's/.* acked=\([0-9]*\).*/\1/p')" 2
}

main()
{
	local out

	stage_begin
	ANNCD_BIN=$ANNCD

	stage_up rig
	anncd_start --sip-t1-ms 100 --sip-t2-ms 400 || exit 1
	out=$(rig_ua python3 "$HERE/sip_torture.py" \
		--to "$RIG_SIP_IP:$ANNCD_SIP_PORT" \
		--data "$TOP/tests/data/rfc4475") || true
	printf '%s\n' "$out"
	check "torture messages answered as RFC 4475 expects" \
		"$(printf '%s\n' "$out" | tail -n 1 | sed -n 's/.*failed=//p')" 0
	check_transactions
	check "anncd alive after the torture messages" \
		"$(cleanup_alive "$ANNCD_PID" && echo yes)" yes
	anncd_stop
	stage_sanitizer
	check "contents released at exit" \
		"$(grep -c ' 0 contents still held' "$ANNCD_LOG")" 1
	stage_verdict
}

main "$@"
