#!/usr/bin/env bash
# A hostile caller against one anncd (real Cyrus, net_af_packet, SIP over
# UDP, TCP and TLS): the inputs of sip_hostile.py that once harmed anncd,
# each checked for the answer RFC 3261, 3264 or 4028 asks and for anncd
# alive, answering and clean at exit.
#
#   test_hostile.sh ANNCD
#
# HOSTILE_HOLD=FILE keeps the rig up before the probes, its names written
# to FILE, until FILE is removed (an hour at most): for probing by hand.
set -euo pipefail

ANNCD=$1
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
HERE=$TOP/tests/integration
# shellcheck source=tests/lib/stage.sh
. "$TOP/tests/lib/stage.sh"

SIP_PORT=5060		# UDP and TCP
TLS_PORT=5061
MAXC=16			# --sip-max-connections
IDLE_MS=1500		# --sip-idle-ms
HOLD_S=3600		# HOSTILE_HOLD: the longest the rig stays up
SLOW_PORT=1143		# imap_script_server.py, which never answers URLFETCH
SLOW_PID=
OUT=

field()
{
	kv_field "$OUT" "$1"
}

# A pawn-ticket URL for the attachment distinct from stage_url's: its
# rump carries ;EXPIRE= an hour from now (RFC 4467: the token covers the
# rump).
fresh_url()
{
	local rump exp

	exp=$(date -u -d "@$(($(date +%s) + 3600))" +%Y-%m-%dT%H:%M:%SZ)
	rump="imap://alice@$CYRUS_HOST:$CYRUS_PORT/INBOX/;UID=$MAIL_UID/"
	rump+=";SECTION=$MAIL_SECTION;EXPIRE=$exp;URLAUTH=anonymous"
	cyrus_imap alice "GENURLAUTH \"$rump\" INTERNAL" INBOX |
		sed -n 's/^\* GENURLAUTH "\([^"]*\)".*/\1/p'
}

# An IMAP server in the server namespace that greets and logs in but
# never answers URLFETCH: a call for its URL stays in its fetch.
slow_start()
{
	local i log=$WORK/slow.log

	rig_ms python3 "$HERE/imap_script_server.py" "$SLOW_PORT" silent \
		</dev/null >"$log" 2>&1 &
	SLOW_PID=$!
	cleanup_add_pid "$SLOW_PID"
	for ((i = 0; i < 100; i++)); do
		grep -q '^listening' "$log" && return 0
		sleep 0.1
	done
	cat "$log" >&2
	note "scripted IMAP server did not start"
	exit 1
}

hostile_args()
{
	local url

	url=$(stage_url)
	HOSTILE_ARGS=(--server "$RIG_SIP_IP" --local "$RIG_UA_IP"
		--udp "$SIP_PORT" --tcp "$SIP_PORT" --tls "$TLS_PORT"
		--ca "$WORK/tls/ca.pem" --idle-ms "$IDLE_MS" --maxc "$MAXC"
		--url "$url" --fresh-url "$(fresh_url)"
		--slow-url "${url/$CYRUS_HOST:$CYRUS_PORT/$CYRUS_HOST:$SLOW_PORT}")
}

check_results()
{
	local crlf=audio/x%0D%0AX-Injected:%20yes

	check "TLS handshake trickled: closed" "$(field tls_trickle)" yes
	check "TLS record trickled: closed" "$(field tls_record_trickle)" yes
	check "the trickled handshake's close logged with its cause" \
		"$(grep -c "closing TLS $RIG_UA_IP:[0-9]*: TLS handshake incomplete" \
		"$ANNCD_LOG")" 1
	check "re-INVITE with a second m= line: two in the answer" \
		"$(field more_mlines)" "200 2"
	check "re-INVITE with port 0: answered port 0" "$(field port0)" \
		"200 0 none"
	check "escaped CRLF in content-type: 400 naming it" \
		"$(field uri.ctype_crlf)" \
		"400 Bad content-type parameter: control character: $crlf"
	check "escaped CRLF in content-type: no header added" \
		"$(field uri.ctype_crlf.injected)" ""
	check "play given twice: 400" "$(field uri.play_twice)" \
		"400 Bad play parameter: given twice"
	check "content-type given twice: 400" "$(field uri.ctype_twice)" \
		"400 Bad content-type parameter: given twice"
	check "re-INVITE with a text/plain body: 415 with Accept" \
		"$(field rebody.text) $(field rebody.text.accept)" \
		"415 Unsupported Media Type application/sdp"
	check "re-INVITE to a multicast address: 488, Warning 301" \
		"$(field rebody.mcast | cut -d' ' -f1,2)" "488 301"
	check "re-INVITE to the broadcast address: 488, Warning 301" \
		"$(field rebody.bcast | cut -d' ' -f1,2)" "488 301"
	check "re-INVITE with c=0.0.0.0 still holds" "$(field rebody.hold0)" \
		"200 OK"
	check "a URL first named with a wrong content-type: next caller served" \
		"$(field poison.fresh)" "200 200 OK"
	check "INVITE, OPTIONS and BYE in one write: answered in order" \
		"$(field pipelined)" "[400, 200, 481]"
	check "OPTIONS then garbage in one write: answered, then closed" \
		"$(field garbage_after)" "[200] closed"
	check "40 holds and resumes, each ACKed: sending, version 41" \
		"$(field storm)" "[200] 41 rtp"
	check "100 UPDATEs with offers at once: all 200, sending at the end" \
		"$(field update_storm)" "[200] rtp"
	check "BYE with a re-INVITE's 200 unACKed: that 200 not resent" \
		"$(field bye_pending) $(field after_bye_200s)" "200 0"
	check "a TCP call's BYE on a new connection" \
		"$(field tcp_bye_new_conn)" "[200]"
	check "connections at the limit: a UDP call answered, one more shut" \
		"$(field at_limit)" "200 yes"
	check "UDP: bytes past Content-Length ignored" \
		"$(field udp_clen.under)" "200 OK"
	check "re-INVITE and UPDATE after anncd's BYE: 481 both" \
		"$(field after_our_bye)" "bye 481 481"
	check "during a fetch: UPDATE, INVITE, BYE 481; CANCEL 200 then 487" \
		"$(field during_fetch)" "100 481 481 481 200 487"
	check "ACK of a 487 without its To tag: no 487 resent" \
		"$(field ack_no_tag)" "487 none"
	check "OPTIONS with 10 kB of Via: answered" "$(field big_via)" "[200]"
	check "INVITE with 3 kB of Record-Route: BYE with every Route" \
		"$(field big_rr)" "200 bye 16"
	check "Session-Expires 89: 422 with Min-SE 90" "$(field se.se89)" \
		"422 Session Interval Too Small|90"
	# RFC 4028 section 9: 0 is under any Min-SE; an interval under the
	# request's own Min-SE may not be answered either.
	check "Session-Expires 0: 422 with Min-SE 90" "$(field se.se0)" \
		"422 Session Interval Too Small|90"
	check "Session-Expires under its own Min-SE: 422 naming that" \
		"$(field se.minse_high)" \
		"422 Session Interval Too Small|4294967295"
	check "Session-Expires past 32 bits, or twice: 400" \
		"$(field se.se_over) $(field se.se_twice)" \
		"400 bad Session-Expires: '4294967296'| 400 duplicate Session-Expires|"
	# Not a next hop: anncd's BYE goes to the INVITE's source instead.
	check "Contact at anncd's IMAP port on loopback: BYE to the source" \
		"$(field contact.loopback)" "200 bye"
	check "Contact at 0.0.0.0: BYE to the source" "$(field contact.zero)" \
		"200 bye"
	check "Contact at a multicast group: BYE to the source" \
		"$(field contact.mcast) $(field contact.maddr)" "200 bye 200 bye"
	check "Contact at the broadcast address: BYE to the source" \
		"$(field contact.bcast)" "200 bye"
	check "Contact at anncd's own SIP address: BYE to the source" \
		"$(field contact.self)" "200 bye"
	check "nothing sent to loopback port 143 by anncd" \
		"$(grep -c 'connect.* 127.0.0.1:143' "$ANNCD_LOG")" 0
	check "refresh answered Session-Expires 1: no UPDATE within 8 s" \
		"$(field refresh_se1)" "update 0 200"
	check "a call after the hostile inputs" "$(field after.status)" 200
}

# A TLS 1.2 renegotiation asked for by the peer (openssl s_client's R
# command): the alert that refuses it, at once.
check_renegotiation()
{
	local out

	out=$( (sleep 0.5; printf 'R\n'; sleep 1) |
		rig_ua timeout 10 openssl s_client -tls1_2 \
		-connect "$RIG_SIP_IP:$TLS_PORT" -CAfile "$WORK/tls/ca.pem" \
		2>&1 || true)
	check "TLS renegotiation asked: refused by an alert" \
		"$(grep -c 'no renegotiation' <<<"$out")" 1
}

hold()
{
	local i

	[ -n "${HOSTILE_HOLD:-}" ] || return 0
	{
		printf 'RIG_UA=%s\nRIG_MS=%s\n' "$RIG_UA" "$RIG_MS"
		printf 'ANNCD_LOG=%s\nANNCD_PID=%s\n' "$ANNCD_LOG" "$ANNCD_PID"
		printf 'ARGS=(%s)\n' "${HOSTILE_ARGS[*]@Q}"
	} >"$HOSTILE_HOLD"
	note "rig up; remove $HOSTILE_HOLD to end"
	for ((i = 0; i < HOLD_S; i++)); do
		[ -e "$HOSTILE_HOLD" ] || break
		sleep 1
	done
	rm -f "$HOSTILE_HOLD"
}

main()
{
	stage_begin
	ANNCD_BIN=$ANNCD
	ANNCD_SIP_PORT=$SIP_PORT

	mkdir "$WORK/tls"
	if ! cyrus_tls_cert "$WORK/tls" ca "" ||
		! cyrus_tls_cert "$WORK/tls" sip ca "IP:$RIG_SIP_IP"; then
		note "openssl could not make the certificates"
		exit 1
	fi
	stage_up
	slow_start
	anncd_start --imap-allow "$CYRUS_HOST:$CYRUS_PORT,$CYRUS_HOST:$SLOW_PORT" \
		--sip-tcp "$RIG_SIP_IP:$SIP_PORT" \
		--sip-tls "$RIG_SIP_IP:$TLS_PORT" \
		--sip-tls-cert "$WORK/tls/sip.pem" \
		--sip-tls-key "$WORK/tls/sip.key" \
		--sip-max-connections "$MAXC" --sip-idle-ms "$IDLE_MS" \
		--log-level debug || exit 1
	hostile_args
	hold
	OUT=$(rig_ua timeout 300 python3 "$HERE/sip_hostile.py" \
		"${HOSTILE_ARGS[@]}") || true
	printf '%s\n' "$OUT"
	check_results
	check_renegotiation
	anncd_stop
	check "no call left open at exit" \
		"$(grep -c 'stopping: 0 calls open' "$ANNCD_LOG")" 1
	stage_sanitizer
	stage_verdict 200
}

main "$@"
