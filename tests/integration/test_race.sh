#!/usr/bin/env bash
# Requests that cross anncd's own, end to end on the rig of test_call.sh
# (real Cyrus, anncd on net_af_packet): a BYE before the dialog exists
# (481, the INVITE still answered, the fetch let go without a leak), a
# CANCEL just after the 200 (no 487 after a 2xx, the call goes on), and
# a BYE crossing anncd's own (both 200, one outcome); and the parser's
# header limits at their edges on the wire.  The caller is sip_race.py;
# anncd's log tells the rest.
#
#   test_race.sh ANNCD
set -euo pipefail

ANNCD=$1
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
HERE=$TOP/tests/integration
# shellcheck source=tests/lib/stage.sh
. "$TOP/tests/lib/stage.sh"

SIP_PORT=5060
BASE_PORT=40000
OUT=

field()
{
	kv_field "$OUT" "$1"
}

# How many outcome lines say this result.
outcomes()
{
	grep -c "result=$1" "$ANNCD_LOG" || true
}

check_results()
{
	# Not forced: the fetch may win; the order is shown, not checked.
	note "early BYE: received in order $(field early.seen)"
	check "BYE before the dialog: 481" "$(field early.bye)" 481
	check "BYE before the dialog: the INVITE still answered" \
		"$(field early.invite)" 200
	check "BYE before the dialog: the call then hangs up" \
		"$(field early.hangup)" 200
	check "CANCEL after the 200: 200 or 481" \
		"$(field cancel.invite) $(field cancel.cancel | grep -cxE '200|481')" \
		"200 1"
	check "CANCEL after the 200: no 487 after the 2xx" \
		"$(field cancel.invite_after | grep -c 487 || true)" 0
	check "CANCEL after the 200: the call goes on" \
		"$(field cancel.rtp_goes_on) $(field cancel.hangup)" "yes 200"
	check "crossing BYEs: anncd's came, ours got 200" \
		"$(field cross.invite) $(field cross.their_bye) $(field cross.my_bye)" \
		"200 yes 200"
	check "crossing BYEs: anncd's not sent again" \
		"$(field cross.bye_again)" no
	check "crossing BYEs: one outcome, the stream's end" \
		"$(outcomes 'caller hung up') $(outcomes 'duration reached')" \
		"2 1"
	check "256 header fields: answered" "$(field limits.at_headers)" 200_OK
	check "257 header fields: 400 naming the limit" \
		"$(field limits.over_headers)" \
		400_header_fields_over_--sip-max-headers
	check "257 header fields, Call-ID past them: dropped" \
		"$(field limits.over_headers_first)" none
	check "header line of 8192 bytes: answered" \
		"$(field limits.at_line)" 200_OK
	check "header line of 8193 bytes: 400 naming the limit" \
		"$(field limits.over_line)" \
		400_header_line_over_--sip-max-line-bytes
	check "three calls, three outcomes" \
		"$(grep -c 'result=' "$ANNCD_LOG")" 3
	# The first call's fetch was a real one, run to its end and kept
	# for the next two calls.
	check "the fetch under the early BYE completed" \
		"$(kill -USR1 "$ANNCD_PID"; sleep 1; grep 'cache counters' \
		"$ANNCD_LOG" | tail -n 1 | grep -o 'misses=[0-9]* .*abandoned=[0-9]*' |
		sed 's/ joins.*abandoned/ abandoned/')" "misses=1 abandoned=0"
}

main()
{
	stage_begin
	ANNCD_BIN=$ANNCD
	ANNCD_SIP_PORT=$SIP_PORT

	stage_up
	stage_anncd --log-level debug
	OUT=$(rig_ua timeout 120 python3 "$HERE/sip_race.py" \
		--to "$RIG_SIP_IP:$SIP_PORT" --local "$RIG_UA_IP" \
		--url "$(stage_url)" --base-port "$BASE_PORT") || true
	printf '%s\n' "$OUT"
	check_results
	anncd_stop
	# A call still open at the stop would log this outcome.
	check "no call left at the stop" \
		"$(outcomes 'server shutting down')" 0
	stage_sanitizer
	stage_verdict
}

main "$@"
