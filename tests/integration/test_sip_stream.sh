#!/usr/bin/env bash
# SIP over TCP and TLS end to end (RFC 3261 section 18, RFC 5630): real
# calls from anncd-call over each, the content fetched from a private
# Cyrus, the RTP checked byte for byte and the signalling read off the
# wire by tshark (Via and Contact of anncd's messages); then hostile
# streams from sip_stream.py, each limit at its edge, each Content-Length
# fault answered 400 while a UDP call plays, with anncd alive and
# answering afterwards and clean at exit; timer I on the wire, T4 over
# UDP and zero over TCP; and the 200 of INVITEs whose
# connection was closed, delivered over TCP and TLS connections anncd
# opens to the Via's port (RFC 3261 section 18.2.2) once a refused
# connect, a handshake never answered and an untrusted certificate have
# each failed and been logged.
#
#   test_sip_stream.sh ANNCD ANNCD_CALL
set -euo pipefail

ANNCD=$1
CALL=$2
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=tests/lib/stage.sh
. "$TOP/tests/lib/stage.sh"

SIP_PORT=5060		# UDP and TCP
TLS_PORT=5061
MAXC=8			# --sip-max-connections
MAXM=4096		# --sip-max-message-bytes
IDLE_MS=1500		# --sip-idle-ms
CONNECT_MS=1000		# --sip-connect-timeout-ms
T4_MS=1000		# --sip-t4-ms, timer I over UDP
PTIME=20

# call NAME TRANSPORT PORT [ARGS...]: anncd-call from the server namespace
# (IMAP on its loopback), SIP and RTP in the caller's.
call()
{
	local name=$1 transport=$2 port=$3

	shift 3
	rig_ms timeout 120 "$CALL" --netns "$RIG_UA" --local "$RIG_UA_IP" \
		--server "$RIG_SIP_IP:$port" --transport "$transport" \
		--tls-ca "$WORK/tls/ca.pem" --rtp-port 30000 --ptime "$PTIME" \
		--imap "$CYRUS_HOST:$CYRUS_PORT" --user alice \
		--pass-file "$CYRUS_PASSDIR/alice.pass" --mailbox INBOX \
		--uid "$MAIL_UID" "$@" </dev/null >"$WORK/$name.txt" 2>&1 || true
	RESULT=$(grep '^result=' "$WORK/$name.txt" | tail -n 1 || true)
	[ -n "$RESULT" ] || cat "$WORK/$name.txt" >&2
}

check_call()
{
	local name=$1 packets

	packets=$(( ($(stat -c %s "$MAIL_AU") - 24 + 8 * PTIME - 1) / (8 * PTIME) ))
	check "$name: answered" "$(kv_field "$RESULT" result)" 200
	check "$name: heard what was sent" "$(kv_field "$RESULT" identical)" yes
	check "$name: BYE from anncd" "$(kv_field "$RESULT" bye)" yes
	check "$name: BYE after the last packet" \
		"$(kv_field "$RESULT" bye_after_last)" yes
	note "$name: $(kv_field "$RESULT" packets) packets, $packets expected"
}

# What anncd sent over TCP, per tshark: the Contact of its 200 to the
# INVITE and the Via of its BYE.
check_wire()
{
	check "TCP: Contact of the 200" "$(tshark -r "$WORK/tcp.pcapng" \
		-Y "sip.Status-Code == 200 && sip.CSeq.method == INVITE" \
		-T fields -e sip.Contact | head -n 1)" \
		"<sip:annc@$RIG_SIP_IP:$SIP_PORT;transport=tcp>"
	check "TCP: Via of anncd's BYE" "$(tshark -r "$WORK/tcp.pcapng" \
		-Y 'sip.Method == "BYE"' -T fields -e sip.Via.transport |
		head -n 1)" TCP
}

check_calls()
{
	stage_capture "$WORK/tcp.pcapng" "tcp port $SIP_PORT"
	call tcp tcp "$SIP_PORT" --out "$WORK/tcp.au"
	check_call tcp
	sleep 1
	cleanup_kill_pid "$TSHARK_PID" 10
	check_wire
	call tls tls "$TLS_PORT"
	check_call tls
}

# stream_py SECONDS OUT [ARGS...]: sip_stream.py from the caller's
# namespace against this anncd, bounded, its key=value lines into OUT.
stream_py()
{
	local secs=$1 out=$2

	shift 2
	rig_ua timeout "$secs" python3 "$TOP/tests/integration/sip_stream.py" \
		--server "$RIG_SIP_IP" --local "$RIG_UA_IP" --tcp "$SIP_PORT" \
		--tls "$TLS_PORT" --udp "$SIP_PORT" --ca "$WORK/tls/ca.pem" \
		--maxc "$MAXC" --maxm "$MAXM" --idle-ms "$IDLE_MS" \
		--log "$ANNCD_LOG" --ua-cert "$WORK/tls/ua.pem" \
		--ua-key "$WORK/tls/ua.key" --self-cert "$WORK/tls/self.pem" \
		--self-key "$WORK/tls/self.key" --t4-ms "$T4_MS" "$@" \
		--play-url "$(stage_url)" >"$out" 2>&1 || cat "$out" >&2
}

# key=value lines of sip_stream.py against what each must be.
check_hostile()
{
	local out=$WORK/stream.txt

	stream_py 300 "$out"
	v() { sed -n "s/^$1=//p" "$out"; }
	check "OPTIONS over TCP, Via kept" "$(v options_tcp)" \
		"[200] SIP/2.0/TCP"
	check "two OPTIONS in one write" "$(v back_to_back)" "[200, 200]"
	check "OPTIONS in 7-byte pieces" "$(v split)" "[200]"
	check "CRLF pong to a double-CRLF ping" "$(v pong)" "b'\\r\\n'"
	check "message of exactly $MAXM bytes" "$(v limit_exact)" "[200]"
	check "message of $((MAXM + 1)) bytes: closed" "$(v limit_over)" yes
	check "endless header section: closed" "$(v endless_header)" yes
	check "no Content-Length: 400, closed" "$(v missing_clen)" \
		"400 Missing Content-Length closed"
	check "Content-Length x: 400, closed" "$(v bad_clen)" \
		"400 Bad Content-Length: x closed"
	check "Content-Length -5: 400, closed" "$(v negative_clen)" \
		"400 Bad Content-Length: -5 closed"
	check "Content-Length over the limit: 400, closed" "$(v over_clen)" \
		"400 Content-Length over the message limit: $((20 * MAXM)) closed"
	check "two Content-Length values: 400, closed" \
		"$(v conflicting_clen)" "400 Conflicting Content-Length: 12 closed"
	check "no Content-Length nor Call-ID: closed unanswered" \
		"$(v unanswerable)" "none closed"
	check "another connection meanwhile" "$(v keep_tcp)" "[200] [200]"
	check "garbage: closed" "$(v garbage)" yes
	check "half a request, then silence: closed" "$(v slow)" yes
	check "a byte at a time: closed before the end" "$(v trickle)" yes
	check "connected, silent: closed" "$(v idle)" yes
	check "after a client closed mid-message" "$(v mid_close)" "[200]"
	check "$((2 * MAXC)) connections: answered" "$(v max_conns)" "$MAXC"
	check "OPTIONS over TLS" "$(v options_tls)" "[200]"
	check "INVITE without a play URL over TLS: refused" \
		"$(v invite_refused)" "[400]"
	check "TLS: Contact of the 200 is a sips URI" "$(v tls_contact)" \
		"<sips:annc@$RIG_SIP_IP:$TLS_PORT>"
	check "TLS: Via of anncd's BYE" "$(v tls_bye_via)" "SIP/2.0/TLS"
	check "TLS: anncd's BYE not resent on the stream" \
		"$(v tls_bye_copies)" 1
	check "UDP datagram of $MAXM bytes" "$(v udp_limit_exact)" 200
	check "UDP datagram of $((MAXM + 1)) bytes: dropped" \
		"$(v udp_limit_over)" none
	check "closes logged with peer and cause" \
		"$(grep -c "closing TCP $RIG_UA_IP:[0-9]*: missing Content-Length, answered 400" \
		"$ANNCD_LOG")" 1
	check "timer I over UDP: T4 of copies absorbed" "$(v timer_i_udp)" \
		"absorbed, then answered anew"
	check "timer I over TCP: none" "$(v timer_i_tcp)" "answered anew"
	check_reply "$out"
	check "refusals past --sip-max-connections logged" \
		"$(grep -c "refusing TCP .*: $MAXC connections open already" \
		"$ANNCD_LOG")" "$((MAXC + $(v reply_full_refused)))"
}

# RFC 3261 section 18.2.2: the 200 for an INVITE whose connection has
# gone comes over a connection anncd opens to the Via's port, after
# attempts that fail as they should (sip_stream.py's reply_* values).
check_reply()
{
	local out=$1

	v() { sed -n "s/^$1=//p" "$out"; }
	check "reply: connect to a closed port refused, logged" \
		"$(v reply_refused)" logged
	check "reply: the 200 on anncd's TCP connection" "$(v reply_tcp)" \
		"200 same call from $RIG_SIP_IP"
	check "reply: the 200 again on the same connection" \
		"$(v reply_reuse)" "a copy on 1 connection, no other"
	check "reply: BYE on that connection" "$(v reply_tcp_bye)" 200
	check "caller's connection closed: anncd's BYE on one of its own" \
		"$(v bye_gone)" "BYE sip:stream@$RIG_UA_IP:5076;transport=tcp"
	check "reply: not opened past --sip-max-connections, then opened" \
		"$(v reply_full)" "logged, then 200 same call BYE 200"
	check "reply: TLS handshake unanswered, given up, logged" \
		"$(v reply_timeout)" logged
	check "reply: self-signed certificate refused, logged" \
		"$(v reply_untrusted)" logged
	check "reply: the 200 on anncd's TLS connection" "$(v reply_tls)" \
		"200 same call from $RIG_SIP_IP"
	check "reply: BYE on that TLS connection" "$(v reply_tls_bye)" 200
}

# anncd again with --sip-tls-verify left at its default, none: the 200
# reaches a listener whose certificate is self-signed.
check_default_verify()
{
	local out=$WORK/none.txt ended i

	stage_anncd --sip-tcp "$RIG_SIP_IP:$SIP_PORT" \
		--sip-tls "$RIG_SIP_IP:$TLS_PORT" \
		--sip-tls-cert "$WORK/tls/sip.pem" \
		--sip-tls-key "$WORK/tls/sip.key"
	ended=$(grep -c ' result=' "$ANNCD_LOG")
	stream_py 120 "$out" --default-verify
	check "default --sip-tls-verify: a self-signed peer taken" \
		"$(sed -n 's/^reply_none=//p' "$out")" \
		"200 same call from $RIG_SIP_IP, BYE 200"
	# The call is over once its stream has let go: its line says so.
	for ((i = 0; i < 50; i++)); do
		[ "$(grep -c ' result=' "$ANNCD_LOG")" -gt "$ended" ] && break
		sleep 0.1
	done
	anncd_stop
	check "no call left open at the second exit" \
		"$(grep -c 'stopping: 0 calls open' "$ANNCD_LOG")" 2
}

# One past each edge of the stream options stops anncd at start-up with
# the option and the value named; so does --sip-tls without its files.
check_option_limits()
{
	local args rc out want

	cleanup_add_dir "/var/run/dpdk/anncd-test-cfg-$$"
	while IFS='|' read -r args want; do
		rc=0
		# shellcheck disable=SC2086 # args are words on purpose
		out=$("$ANNCD_BIN" --no-huge -m 64 --no-shconf --no-pci -l 0,1 \
			"--file-prefix=anncd-test-cfg-$$" -- \
			--media-ip "$RIG_MEDIA_IP" $args </dev/null 2>&1) || rc=$?
		check "$args refused" "$rc $(grep -cF -- "$want" <<<"$out")" "2 1"
	done <<EOF
--sip-max-message-bytes 1023|sip-max-message-bytes: '1023' is not a number in 1024..65535
--sip-max-message-bytes 65536|sip-max-message-bytes: '65536' is not a number in 1024..65535
--sip-max-connections 0|sip-max-connections: '0' is not a number in 1..1048576
--sip-idle-ms 0|sip-idle-ms: '0' is not a number in 1..3600000
--sip-connect-timeout-ms 99|sip-connect-timeout-ms: '99' is not a number in 100..120000
--sip-connect-timeout-ms 120001|sip-connect-timeout-ms: '120001' is not a number in 100..120000
--sip-tls-verify /nonexistent|--sip-tls-verify: '/nonexistent' is not none or system, and cannot be read
--sip-t4-ms 60001|sip-t4-ms: '60001' is not a number in 0..60000
--sip-t4-ms -1|sip-t4-ms: '-1' is not a number in 0..60000
--sip-max-headers 7|sip-max-headers: '7' is not a number in 8..65535
--sip-max-headers 65536|sip-max-headers: '65536' is not a number in 8..65535
--sip-max-line-bytes 63|sip-max-line-bytes: '63' is not a number in 64..65535
--sip-max-line-bytes 65536|sip-max-line-bytes: '65536' is not a number in 64..65535
--sip-tls 198.18.0.1:5061|--sip-tls needs --sip-tls-cert and --sip-tls-key
--sip-max-connections-per-ip 0|sip-max-connections-per-ip: '0' is not a number in 1..1048576
--sip-max-send-queue-bytes 1023|sip-max-send-queue-bytes: '1023' is not a number in 1024..1073741824
--sip-max-send-queue-bytes 65534|--sip-max-send-queue-bytes 65534 is below --sip-max-message-bytes 65535
--sip-tls-key /nonexistent|--sip-tls-key: cannot read /nonexistent
EOF
}

main()
{
	stage_begin
	ANNCD_BIN=$ANNCD
	ANNCD_SIP_PORT=$SIP_PORT

	mkdir "$WORK/tls"
	if ! cyrus_tls_cert "$WORK/tls" ca "" ||
		! cyrus_tls_cert "$WORK/tls" sip ca "IP:$RIG_SIP_IP" ||
		! cyrus_tls_cert "$WORK/tls" ua ca "IP:$RIG_UA_IP" ||
		! cyrus_tls_cert "$WORK/tls" self ""; then
		note "openssl could not make the certificates"
		exit 1
	fi
	stage_up
	stage_anncd --sip-tcp "$RIG_SIP_IP:$SIP_PORT" \
		--sip-tls "$RIG_SIP_IP:$TLS_PORT" \
		--sip-tls-cert "$WORK/tls/sip.pem" \
		--sip-tls-key "$WORK/tls/sip.key" \
		--sip-max-connections "$MAXC" --sip-max-message-bytes "$MAXM" \
		--sip-idle-ms "$IDLE_MS" \
		--sip-connect-timeout-ms "$CONNECT_MS" --sip-t4-ms "$T4_MS" \
		--sip-tls-verify "$WORK/tls/ca.pem"

	check_option_limits
	check_calls
	# A call over UDP plays while the hostile streams come, the framing
	# faults first.
	call during udp "$SIP_PORT" &
	DURING_PID=$!
	sleep 1.5
	check_hostile
	wait "$DURING_PID" || true
	RESULT=$(grep '^result=' "$WORK/during.txt" | tail -n 1 || true)
	check_call "a UDP call during the framing faults"
	call after tcp "$SIP_PORT"
	check_call "a call after the hostile streams"

	anncd_stop
	check "no call left open at exit" \
		"$(grep -c 'stopping: 0 calls open' "$ANNCD_LOG")" 1
	check_default_verify
	check "sanitizer reports in anncd's log" \
		"$(grep -cE 'Sanitizer|runtime error' "$ANNCD_LOG")" 0
	if [ "$FAILS" -ne 0 ]; then
		note "anncd log:"
		cat "$ANNCD_LOG"
		note "$FAILS checks failed"
		exit 1
	fi
	note "all checks passed"
}

main "$@"
