#!/usr/bin/env bash
# End to end on real parts: a private Cyrus IMAP holding a voice mail,
# anncd with its dataplane on net_af_packet in a network namespace,
# anncd-call as the mail client in another, tshark on the caller's wire.
# Asserts what the caller got (200 OK and its SDP, the RTP byte for byte,
# sequence and timestamp steps, one SSRC, the BYE after the last packet)
# and each refusal that needs no IMAP connection makes none.
#
#   test_call.sh ANNCD ANNCD_CALL
set -euo pipefail

ANNCD=$1
CALL=$2
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=tests/lib/stage.sh
. "$TOP/tests/lib/stage.sh"
# shellcheck source=tests/lib/syn.sh
. "$TOP/tests/lib/syn.sh"

SIP_PORT=5060
RTP_PORT=30000		# the caller's
PTIME=20
CACHE_CALLS=50		# callers of one URL at once

# The value of KEY in anncd-call's last line (quotes removed).
field()
{
	kv_field "$1" "$2"
}

# call NAME ARGS...: runs anncd-call from the server namespace (IMAP on
# its loopback), joining the caller's for SIP and RTP; the result line
# goes to RESULT, the whole output to WORK/NAME.txt.
call()
{
	local name=$1

	shift
	rig_ms timeout 120 "$CALL" --netns "$RIG_UA" --local "$RIG_UA_IP" \
		--server "$RIG_SIP_IP:$SIP_PORT" --rtp-port "$RTP_PORT" \
		--ptime "$PTIME" "$@" </dev/null >"$WORK/$name.txt" 2>&1 || true
	RESULT=$(grep '^result=' "$WORK/$name.txt" | tail -n 1 || true)
	[ -n "$RESULT" ] || cat "$WORK/$name.txt" >&2
}

imap_call()
{
	local name=$1

	shift
	call "$name" --imap "$CYRUS_HOST:$CYRUS_PORT" --user alice \
		--pass-file "$CYRUS_PASSDIR/alice.pass" --mailbox INBOX \
		--uid "$MAIL_UID" "$@"
}

# The audio of the .au file, as hex: what the RTP payloads must add up to.
au_payload_hex()
{
	mail_au_audio "$1" | od -An -v -tx1 | tr -d ' \n'
}

# Fields of the RTP that anncd sent, one line per packet.
rtp_fields()
{
	tshark -r "$WORK/wire.pcapng" -o rtp.heuristic_rtp:TRUE \
		-Y "rtp && ip.src == $RIG_MEDIA_IP" -T fields "$@"
}

check_happy_call()
{
	local payload_len packets

	payload_len=$(($(au_payload_hex "$MAIL_AU" | wc -c) / 2))
	packets=$(((payload_len + 8 * PTIME - 1) / (8 * PTIME)))
	check "call answered" "$(field "$RESULT" result)" 200
	check "packets received" "$(field "$RESULT" packets)" "$packets"
	check "bytes received" "$(field "$RESULT" bytes)" "$payload_len"
	check "payload identical (anncd-call)" "$(field "$RESULT" identical)" yes
	check "one SSRC" "$(field "$RESULT" ssrcs)" 1
	check "sequence errors" "$(field "$RESULT" seq_errors)" 0
	check "timestamp errors" "$(field "$RESULT" ts_errors)" 0
	check "marker on the first packet" "$(field "$RESULT" marker_first)" yes
	check "BYE from anncd" "$(field "$RESULT" bye)" yes
	check "BYE after the last packet" "$(field "$RESULT" bye_after_last)" yes
	check "RTP after the BYE" "$(field "$RESULT" rtp_after_bye)" 0
}

# What tshark reads off the caller's wire, independent of anncd-call.
check_wire()
{
	local sdp steps want_hex got_hex

	sdp=$(tshark -r "$WORK/wire.pcapng" -Y 'sip.Status-Code == 200 && sdp' \
		-T fields -E separator='|' -e sdp.connection_info \
		-e sdp.media -e sdp.media_attr | head -n 1)
	check "SDP c= line" "$(cut -d'|' -f1 <<<"$sdp")" "IN IP4 $RIG_MEDIA_IP"
	check "SDP m= line" "$(cut -d'|' -f2 <<<"$sdp" | sed 's/ [0-9]* / P /')" \
		"audio P RTP/AVP 0"
	check "SDP attributes" "$(cut -d'|' -f3 <<<"$sdp")" \
		"rtpmap:0 PCMU/8000,ptime:$PTIME,sendonly"

	want_hex=$(au_payload_hex "$MAIL_AU")
	got_hex=$(rtp_fields -e rtp.payload | tr -d ':\n')
	check "RTP payloads equal the attachment's audio (tshark)" \
		"$(printf '%s' "$got_hex" | sha256sum)" \
		"$(printf '%s' "$want_hex" | sha256sum)"

	steps=$(rtp_fields -e rtp.seq -e rtp.timestamp -e rtp.ssrc |
		awk 'NR > 1 { print ($1 - s + 65536) % 65536 "," \
			($2 - t + 4294967296) % 4294967296 "," ($3 == c) }
		     { s = $1; t = $2; c = $3 }' | sort -u | tr '\n' ' ')
	check "every step: seq +1, timestamp +$((8 * PTIME)), same SSRC" \
		"$steps" "1,$((8 * PTIME)),1 "

	check "bad IPv4 or UDP checksums" "$(tshark -r "$WORK/wire.pcapng" \
		-o ip.check_checksum:TRUE -o udp.check_checksum:TRUE \
		-Y "ip.src == $RIG_MEDIA_IP && (ip.checksum.status == 0 ||
		    udp.checksum.status == 0)" | wc -l)" 0
	check_rtp_streams
	check_bye_order
	check_rtcp
}

# tshark -z rtp,streams: one stream, none lost, no sequence problem.
check_rtp_streams()
{
	local line

	tshark -r "$WORK/wire.pcapng" -q -o rtp.heuristic_rtp:TRUE \
		-z rtp,streams >"$WORK/streams.txt"
	line=$(grep -E "^ *[0-9.]+ +[0-9.]+ +$RIG_MEDIA_IP " "$WORK/streams.txt" || true)
	check "tshark RTP streams from anncd" "$(grep -c . <<<"$line")" 1
	# ... Pkts Lost (pct) MinDelta MeanDelta MaxDelta MinJ MeanJ MaxJ [X]
	check "tshark lost packets" "$(awk '{ for (i = 1; i <= NF; i++)
		if ($i ~ /^\(.*%\)$/) print $(i - 1) }' <<<"$line")" 0
	check "tshark sequence problems" "$(awk '{ print ($NF == "X") }' \
		<<<"$line")" 0
}

check_bye_order()
{
	local last_rtp bye

	last_rtp=$(rtp_fields -e frame.number | tail -n 1)
	bye=$(tshark -r "$WORK/wire.pcapng" -Y 'sip.Method == "BYE"' \
		-T fields -e frame.number | head -n 1)
	check "BYE comes after the last RTP packet" \
		"$([ -n "$bye" ] && [ "$bye" -gt "$last_rtp" ] && echo yes)" yes
}

# Fields of the RTCP that anncd sent to the caller's RTP port + 1, one
# line per frame that holds an RTCP packet of type PT.
rtcp_fields()
{
	local pt=$1

	shift
	tshark -r "$WORK/wire.pcapng" -d "udp.port==$((RTP_PORT + 1)),rtcp" \
		-Y "ip.src == $RIG_MEDIA_IP && rtcp.pt == $pt" -T fields "$@"
}

# RFC 3550 sections 6.4.1 and 6.6 on the wire: sender reports whose
# counts do not exceed the RTP before them and whose SSRC is the RTP's,
# and one BYE, after the last RTP packet and before the SIP BYE.
check_rtcp()
{
	local ssrc last_rtp sip_bye bye srs bad

	ssrc=$(rtp_fields -e rtp.ssrc | sort -u | head -n 1)
	last_rtp=$(rtp_fields -e frame.number | tail -n 1)
	sip_bye=$(tshark -r "$WORK/wire.pcapng" -Y 'sip.Method == "BYE"' \
		-T fields -e frame.number | head -n 1)
	rtp_fields -e frame.number >"$WORK/rtp_frames.txt"
	srs=$(rtcp_fields 200 -e frame.number -e rtcp.senderssrc \
		-e rtcp.sender.packetcount -e rtcp.sender.octetcount)
	check "RTCP sender reports from anncd" "$([ -n "$srs" ] && echo yes)" yes
	check "RTCP SR SSRC is the RTP stream's" \
		"$(awk '{ print $2 }' <<<"$srs" | sort -u | tr '\n' ' ')" \
		"$(printf '%s ' "$ssrc")"
	# Each SR against the RTP frames before it: packets and octets.
	bad=$(while read -r frame _ pkts octets; do
		sent=$(awk -v f="$frame" '$1 < f' "$WORK/rtp_frames.txt" | wc -l)
		[ "$pkts" -le "$sent" ] && [ "$octets" -le $((sent * 8 * PTIME)) ] ||
			echo "$frame"
	done <<<"$srs")
	check "RTCP SR counts within the RTP sent before" "$bad" ""

	bye=$(rtcp_fields 203 -e frame.number)
	check "one RTCP BYE from anncd" "$(grep -c . <<<"$bye")" 1
	check "RTCP BYE SSRC is the RTP stream's" \
		"$(rtcp_fields 203 -e rtcp.ssrc.identifier | tr ',' '\n' |
		sort -u | tr '\n' ' ')" "$(printf '%s ' "$ssrc")"
	check "RTCP BYE after the last RTP packet, before the SIP BYE" \
		"$([ -n "$bye" ] && [ -n "$sip_bye" ] && [ "$bye" -gt "$last_rtp" ] &&
		[ "$bye" -lt "$sip_bye" ] && echo yes)" yes
	check "RTCP counted by anncd-call" \
		"$(field "$RESULT" rtcp_bye) $(($(field "$RESULT" rtcp_sr) >= 1))" "1 1"
}

# WAV attachments as sox writes them (fmt of 18 bytes, fact): mu-law at
# 8 kHz plays as the G.711 it holds, byte for byte after the header; at
# 16 kHz it is converted once at ingest (low-pass, one sample in two) and
# sent as 8 kHz mu-law: half as many bytes as sox counts samples.
check_wav()
{
	local uid=$MAIL_UID half

	sox -q "$MAIL_WAV" -r 8000 -c 1 -e mu-law "$WORK/ulaw8k.wav"
	mail_build_message "$WORK/ulaw8k.wav" "$WORK/wav8k.eml" audio/wav
	mail_deliver "$MAIL_EML" || exit 1
	imap_call wav8k
	check "WAV mu-law: answered" "$(field "$RESULT" result)" 200
	check "WAV mu-law: payload identical" "$(field "$RESULT" identical)" yes
	# One byte per sample, as sox counts them: the header is not sent.
	check "WAV mu-law: bytes are soxi's samples" \
		"$(field "$RESULT" bytes)" "$(soxi -s "$WORK/ulaw8k.wav")"
	check "WAV mu-law: sequence errors" "$(field "$RESULT" seq_errors)" 0

	sox -q "$MAIL_WAV" -r 16000 -c 1 -e mu-law "$WORK/ulaw16k.wav"
	mail_build_message "$WORK/ulaw16k.wav" "$WORK/wav16k.eml" audio/x-wav
	mail_deliver "$MAIL_EML" || exit 1
	imap_call wav16k
	check "WAV mu-law at 16 kHz: answered" "$(field "$RESULT" result)" 200
	half=$(($(soxi -s "$WORK/ulaw16k.wav") / 2))
	check "WAV mu-law at 16 kHz: 8 kHz samples sent" \
		"$(( $(field "$RESULT" bytes) >= half &&
		$(field "$RESULT" bytes) <= half + 1 ))" 1
	check "WAV mu-law at 16 kHz: sequence errors" \
		"$(field "$RESULT" seq_errors)" 0
	MAIL_UID=$uid
}

check_refusals()
{
	local url before_c before_o other_url

	imap_call tampered --tamper-token
	check "tampered token" "$(field "$RESULT" result) $(field "$RESULT" reason)" \
		"404 URLFETCH returned NIL"

	url=$(stage_url authuser)
	before_c=$(syn_count cyrus)
	call authuser --play-url "$url" --content-type audio/basic --cte base64
	check "authuser without credentials" \
		"$(field "$RESULT" result) $(field "$RESULT" reason)" \
		"404 Not authorized to access resource"
	check "authuser: no IMAP connection" "$(syn_count cyrus)" "$before_c"

	url=$(stage_url anonymous)
	other_url=${url/$CYRUS_HOST:$CYRUS_PORT/$CYRUS_HOST:$OTHER_PORT}
	before_o=$(syn_count other)
	call other --play-url "$other_url" --content-type audio/basic --cte base64
	check "server not on the allow list" \
		"$(field "$RESULT" result) $(field "$RESULT" reason)" \
		"404 IMAP server $CYRUS_HOST:$OTHER_PORT not allowed"
	check "not allowed: no connection" "$(syn_count other)" "$before_o"

	call badurl --play-url "imap://$CYRUS_HOST:$CYRUS_PORT/INBOX" \
		--content-type audio/basic
	check "malformed play URL" "$(field "$RESULT" result)" 400
	call ogg --play-url "$url" --content-type audio/ogg --cte base64
	check "unsupported content type" \
		"$(field "$RESULT" result) $(field "$RESULT" reason)" \
		"415 Unsupported content-type audio/ogg"
	# A parameter value anncd cannot play is refused before any fetch.
	call l16rate --play-url "$url" --content-type "audio/L16;rate=44100" \
		--cte base64
	check "unsupported L16 rate" \
		"$(field "$RESULT" result) $(field "$RESULT" reason)" \
		"415 Unsupported content-type audio/L16;rate=44100"
	call gsm --play-url "$url" --content-type audio/basic --cte base64 \
		--codecs GSM
	check "no codec in the offer" "$(field "$RESULT" result)" 488
	# RFC 3264 section 6.1: nothing may be sent to a sendonly offer; it
	# is answered inactive and ended by anncd (test_negotiate.sh).
	call sendonly --play-url "$url" --content-type audio/basic --cte base64 \
		--direction sendonly
	check "sendonly offer: answered, nothing sent, BYE" \
		"$(field "$RESULT" result) $(field "$RESULT" packets) $(field "$RESULT" bye)" \
		"200 0 yes"
	call multicast --play-url "$url" --content-type audio/basic --cte base64 \
		--sdp-addr 224.2.1.1
	check "multicast c= in the offer" \
		"$(field "$RESULT" result) $(field "$RESULT" reason)" \
		"488 Offer's media address is not unicast"
	call broadcast --play-url "$url" --content-type audio/basic --cte base64 \
		--sdp-addr 255.255.255.255
	check "broadcast c= in the offer" "$(field "$RESULT" result)" 488
}

# Every process of the private Cyrus: its master and the imapd children.
cyrus_pids()
{
	printf '%s\n' "$CYRUS_PID"
	ps -o pid= --ppid "$CYRUS_PID"
}

# The size of the attachment's literal as URLFETCH sends it: Cyrus offers
# URLAUTH=BINARY, so anncd asks for the decoded part (RFC 5524).
literal_size()
{
	stat -c %s "$MAIL_AU"
}

# With credentials, a fixed next hop, a literal limit of exactly the
# attachment and a short IMAP timeout.
check_with_credentials()
{
	local url pid

	printf '%s:%s mediaserver %s\n' "$CYRUS_HOST" "$CYRUS_PORT" \
		"$(cyrus_pass mediaserver)" >"$WORK/creds"
	chmod 600 "$WORK/creds"
	anncd_start --imap-credentials "$WORK/creds" \
		--imap-plaintext-ok "$CYRUS_HOST:$CYRUS_PORT" \
		--imap-allow "$CYRUS_HOST:$CYRUS_PORT,$CYRUS_HOST:$OTHER_PORT" \
		--nexthop-mac "$RIG_UAMAC" --imap-timeout-ms 1500 \
		--max-content-bytes "$(literal_size)" || exit 1

	url=$(stage_url authuser)
	call authuser-creds --play-url "$url" --content-type audio/basic \
		--cte base64
	check "authuser with credentials, literal at the limit" \
		"$(field "$RESULT" result) $(field "$RESULT" packets) $(field "$RESULT" bye)" \
		"200 $EXPECT_PACKETS yes"

	url=$(stage_url anonymous)
	call refused --play-url "${url/$CYRUS_HOST:$CYRUS_PORT/$CYRUS_HOST:$OTHER_PORT}" \
		--content-type audio/basic --cte base64
	check "IMAP connection refused" \
		"$(field "$RESULT" result) $(field "$RESULT" reason)" \
		"404 IMAP connect failed: Connection refused"

	# A real server that stops answering: the kernel still takes the
	# connection into the listen queue, nobody greets.
	for pid in $(cyrus_pids); do kill -STOP "$pid"; done
	call stalled --play-url "$url" --content-type audio/basic --cte base64
	for pid in $(cyrus_pids); do kill -CONT "$pid"; done
	check "IMAP server silent" \
		"$(field "$RESULT" result) $(field "$RESULT" reason)" \
		"404 IMAP server timed out"

	call hangup --play-url "$url" --content-type audio/basic --cte base64 \
		--timeout 2
	check "caller hangs up: no BYE from anncd" "$(field "$RESULT" bye)" no
	cleanup_kill_pid "$ANNCD_PID" 10
	check "caller hangs up: anncd stops the stream" \
		"$(grep -c 'result=caller hung up' "$WORK/anncd.log")" 1
}

# One byte under the attachment's literal: refused before any allocation.
check_literal_limit()
{
	local url size

	size=$(literal_size)
	stage_anncd --max-content-bytes "$((size - 1))"
	url=$(stage_url anonymous)
	call limit --play-url "$url" --content-type audio/basic --cte base64
	check "literal one byte over the limit" \
		"$(field "$RESULT" result) $(field "$RESULT" reason)" \
		"404 bad URLFETCH response: literal of $size bytes over limit $((size - 1))"
	cleanup_kill_pid "$ANNCD_PID" 10
}

# --max-calls at its edge: the one call allowed plays on untouched while
# a second is refused with 503 and Retry-After.
check_max_calls()
{
	local url first i

	stage_anncd --max-calls 1 --log-level debug
	url=$(stage_url anonymous)
	rig_ms timeout 120 "$CALL" --netns "$RIG_UA" --local "$RIG_UA_IP" \
		--server "$RIG_SIP_IP:$SIP_PORT" --sip-port 5064 \
		--rtp-port 30010 --play-url "$url" --content-type audio/basic \
		--cte base64 </dev/null >"$WORK/first.txt" 2>&1 &
	first=$!
	for ((i = 0; i < 100; i++)); do
		grep -q 'answered after' "$WORK/anncd.log" && break
		sleep 0.1
	done
	call second --play-url "$url" --content-type audio/basic --cte base64
	check "second call over --max-calls 1" \
		"$(field "$RESULT" result) $(field "$RESULT" reason)" \
		"503 Too many calls"
	wait "$first" || true
	RESULT=$(grep '^result=' "$WORK/first.txt" | tail -n 1)
	check "the call within the limit plays on" \
		"$(field "$RESULT" result) $(field "$RESULT" packets) $(field "$RESULT" lost) $(field "$RESULT" bye_after_last)" \
		"200 $EXPECT_PACKETS 0 yes"
	cleanup_kill_pid "$ANNCD_PID" 10
}

# many_call I URL: caller I of many at once, each on its own SIP and RTP
# ports, in the background; what it heard goes to WORK/manyI.au.
many_call()
{
	rig_ms timeout 120 "$CALL" --netns "$RIG_UA" --local "$RIG_UA_IP" \
		--server "$RIG_SIP_IP:$SIP_PORT" --sip-port $((6000 + 2 * $1)) \
		--rtp-port $((31000 + 2 * $1)) --ptime "$PTIME" --play-url "$2" \
		--content-type audio/basic --cte base64 --out "$WORK/many$1.au" \
		</dev/null >"$WORK/many$1.txt" 2>&1
}

# The content cache: callers of one voice mail at once share one URLFETCH
# over one IMAP connection and all hear the same audio; a bad URL asked
# for twice within --cache-negative-ms is refused twice for one fetch.
check_cache()
{
	local url bad want i ok=0 same=0 before_c pids=()

	stage_anncd
	url=$(stage_url anonymous)
	before_c=$(syn_count cyrus)
	for ((i = 0; i < CACHE_CALLS; i++)); do
		many_call "$i" "$url" &
		pids+=($!)
	done
	for i in "${pids[@]}"; do wait "$i" || true; done
	want=$(au_payload_hex "$MAIL_AU" | sha256sum)
	for ((i = 0; i < CACHE_CALLS; i++)); do
		RESULT=$(grep '^result=' "$WORK/many$i.txt" | tail -n 1 || true)
		[ "$(field "$RESULT" result)" = 200 ] && ok=$((ok + 1))
		[ -s "$WORK/many$i.au" ] &&
			[ "$(au_payload_hex "$WORK/many$i.au" | sha256sum)" = "$want" ] &&
			same=$((same + 1))
	done
	check "$CACHE_CALLS calls for one URL: answered" "$ok" "$CACHE_CALLS"
	check "$CACHE_CALLS calls for one URL: identical audio" "$same" "$CACHE_CALLS"
	check "$CACHE_CALLS calls for one URL: IMAP connections" \
		"$(($(syn_count cyrus) - before_c))" 1
	anncd_counters_now || true
	note "$(grep -o 'counters lookups=.*' "$WORK/anncd.log" | tail -n 1)"
	check "$CACHE_CALLS calls for one URL: URLFETCHes" \
		"$(anncd_counter misses)" 1
	check "$CACHE_CALLS calls for one URL: joined or hit" \
		"$(($(anncd_counter joins) + $(anncd_counter hits)))" \
		"$((CACHE_CALLS - 1))"

	# The last hex digit of the token changed: URLFETCH says NIL.
	bad=${url%?}$([ "${url: -1}" = 0 ] && echo 1 || echo 0)
	before_c=$(syn_count cyrus)
	call tampered1 --play-url "$bad" --content-type audio/basic --cte base64
	check "tampered URL, first call" "$(field "$RESULT" result) $(field "$RESULT" reason)" \
		"404 URLFETCH returned NIL"
	call tampered2 --play-url "$bad" --content-type audio/basic --cte base64
	check "tampered URL, again within the negative TTL" \
		"$(field "$RESULT" result) $(field "$RESULT" reason)" \
		"404 URLFETCH returned NIL"
	anncd_counters_now || true
	check "tampered URL twice: URLFETCHes" \
		"$(($(anncd_counter misses) - 1))" 1
	check "tampered URL twice: answered from memory" \
		"$(anncd_counter negative_hits)" 1
	check "tampered URL twice: at most one IMAP connection" \
		"$(($(syn_count cyrus) - before_c <= 1))" 1
	cleanup_kill_pid "$ANNCD_PID" 10
	# One line for SIGUSR1, the same numbers again at exit.
	check "cache counters logged at exit" \
		"$(grep -c 'counters lookups=52 ' "$WORK/anncd.log")" 2
}

# SIGTERM with a call answered and not yet acknowledged: the caller gets
# a BYE, the call its outcome line, and no content stays held.
check_shutdown()
{
	local url caller i before

	stage_anncd --log-level debug
	url=$(stage_url anonymous)
	before=$(grep -c 'answered after' "$WORK/anncd.log" || true)
	rig_ms timeout 60 "$CALL" --netns "$RIG_UA" --local "$RIG_UA_IP" \
		--server "$RIG_SIP_IP:$SIP_PORT" --sip-port 5066 \
		--rtp-port 30020 --play-url "$url" --content-type audio/basic \
		--cte base64 --ack-after 10 --timeout 8 \
		</dev/null >"$WORK/shutdown.txt" 2>&1 &
	caller=$!
	for ((i = 0; i < 100; i++)); do
		[ "$(grep -c 'answered after' "$WORK/anncd.log")" -gt "$before" ] &&
			break
		sleep 0.1
	done
	cleanup_kill_pid "$ANNCD_PID" 10
	wait "$caller" || true
	check "shutdown: the open call ends with its outcome" \
		"$(grep -c 'result=server shutting down' "$WORK/anncd.log")" 1
}

main()
{
	stage_begin
	ANNCD_BIN=$ANNCD
	ANNCD_SIP_PORT=$SIP_PORT

	stage_up
	OTHER_PORT=$((CYRUS_PORT + 1))
	syn_setup anncdtest "cyrus=$CYRUS_PORT" "other=$OTHER_PORT"
	EXPECT_PACKETS=$(( ($(au_payload_hex "$MAIL_AU" | wc -c) / 2 + 8 * PTIME - 1) / (8 * PTIME) ))
	stage_anncd

	check "dataplane answers ARP for the media address" \
		"$(rig_arping && echo yes)" yes

	stage_capture "$WORK/wire.pcapng" udp
	imap_call happy --out "$WORK/heard.au"
	cleanup_kill_pid "$TSHARK_PID" 10
	check_happy_call
	check_wire
	# The 200 to anncd's BYE ends the call at once (it carries the
	# caller's tag in To): its outcome line is there before any timer.
	check "outcome logged when the BYE is answered" \
		"$(grep -c "packets=$EXPECT_PACKETS result=played" "$WORK/anncd.log")" 1

	# The ACK held back until the third copy of the 200: anncd must
	# retransmit it (RFC 3261 section 13.3.1.4) and stream after the ACK.
	imap_call raw --escape raw --ack-after 3
	check "raw play URL: answered" "$(field "$RESULT" result)" 200
	check "raw play URL: identical" "$(field "$RESULT" identical)" yes
	check "200 OK retransmitted until the ACK" \
		"$(field "$RESULT" ok_copies)" 3

	check_refusals
	check_wav

	cleanup_kill_pid "$ANNCD_PID" 10
	check "no call left open at exit" \
		"$(grep -c 'stopping: 0 calls open' "$WORK/anncd.log")" 1
	check "EAL runtime folder removed at exit" \
		"$([ -e "/var/run/dpdk/anncd-test-$$" ] && echo left || echo gone)" gone
	check "refusals logged with their cause" \
		"$(grep -c 'result=404 URLFETCH returned NIL' "$WORK/anncd.log")" 1
	check_with_credentials
	check_literal_limit
	check_max_calls
	check_cache
	check_shutdown
	stage_sanitizer
	check "contents released at every exit" \
		"$(sed -n 's/.* \([0-9]*\) contents still held.*/\1/p' "$WORK/anncd.log" |
		tr '\n' ' ')" "0 0 0 0 0 0 "
	stage_verdict
}

main "$@"
