#!/usr/bin/env bash
# Offer/answer and the announcement parameters end to end, on the rig of
# test_call.sh (real Cyrus, anncd on net_af_packet, anncd-call, tshark):
# repeat and delay (timestamps and markers across the silences), duration
# cutting a stream short, --max-call-ms, an inactive offer answered
# inactive with no RTP, dynamic payload types, a late offer answered in
# the ACK (and a bad answer ended with BYE), a video with its audio as
# two streams, 488 with a Warning, and 400 naming a bad parameter.
#
#   test_negotiate.sh ANNCD ANNCD_CALL
set -euo pipefail

ANNCD=$1
CALL=$2
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=tests/lib/stage.sh
. "$TOP/tests/lib/stage.sh"

SIP_PORT=5060
PTIME=20
DELAY_MS=500
DURATION_MS=600
MAX_REPEAT=5
URL=
VIDEO_URL=
PCAP=
NCALLS=0
# A short message keeps three plays and their silences short.
MAIL_TEXT="One two three."

field()
{
	kv_field "$RESULT" "$1"
}

# The last call's final response must be in the file before tshark
# stops: dumpcap writes in blocks.
capture_stop()
{
	local i

	for ((i = 0; i < 20; i++)); do
		[ "$(tshark -r "$PCAP" -Y 'sip.CSeq.method == "INVITE" &&
			sip.Status-Code >= 200' 2>/dev/null | wc -l)" -ge \
			"$NCALLS" ] && break
		sleep 0.5
	done
	cleanup_kill_pid "$TSHARK_PID" 10
}

# call NAME ARGS...: one call of URL from the caller's namespace on SIP
# and RTP ports of its own; its output to WORK/NAME.txt.
call()
{
	local name=$1

	shift
	NCALLS=$((NCALLS + 1))
	echo "$name $((5100 + 2 * NCALLS)) $((30000 + 2 * NCALLS))" \
		>>"$WORK/ports"
	rig_ms timeout 120 "$CALL" --netns "$RIG_UA" --local "$RIG_UA_IP" \
		--server "$RIG_SIP_IP:$SIP_PORT" --sip-port $((5100 + 2 * NCALLS)) \
		--rtp-port $((30000 + 2 * NCALLS)) --ptime "$PTIME" \
		--play-url "$URL" --content-type audio/basic --cte base64 "$@" \
		</dev/null >"$WORK/$name.txt" 2>&1 || true
}

# use NAME: the call whose result, SIP and RTP the next checks read.
use()
{
	local ports

	ports=$(grep "^$1 " "$WORK/ports")
	CALL_SIP=$(cut -d' ' -f2 <<<"$ports")
	CALL_RTP=$(cut -d' ' -f3 <<<"$ports")
	RESULT=$(grep '^result=' "$WORK/$1.txt" | tail -n 1 || true)
	[ -n "$RESULT" ] || cat "$WORK/$1.txt" >&2
}

# Fields of the RTP anncd sent in the last call, one line per packet.
rtp_fields()
{
	tshark -r "$PCAP" -o rtp.heuristic_rtp:TRUE \
		-Y "rtp && ip.src == $RIG_MEDIA_IP && udp.dstport == $CALL_RTP" \
		-T fields "$@"
}

# The first SIP message matching FILTER: the fields asked for.
sip_fields()
{
	local filter=$1

	shift
	tshark -r "$PCAP" -Y "($filter) && udp.port == $CALL_SIP" -T fields \
		-E separator='|' "$@" | head -n 1
}

# Every call of the run, each checked afterwards by its name.
place_calls()
{
	local dir mode

	call gsm --codecs GSM
	call multicast --sdp-addr 224.2.1.1
	call bad-repeat --uri-params ";repeat=often"
	call twice-delay --uri-params ";delay=1;delay=2"
	call zero-duration --uri-params ";duration=0"
	call dynamic --dynamic-pts --codecs GSM,PCMU \
		--uri-params ";locale=en_US;param1=a;param9=z"
	for dir in inactive sendonly; do
		call "$dir" --direction "$dir" --linger 200
	done
	call late --late-offer
	for mode in garbage none decline; do
		call "late-$mode" --late-offer --ack-answer "$mode" --linger 200
	done
	call duration --uri-params ";repeat=forever;duration=$DURATION_MS"
	call repeat --uri-params ";repeat=3;delay=$DELAY_MS"
	# A video with its audio: two m= lines offered, both answered.
	call video-late --play-url "$VIDEO_URL" --content-type video/mpeg \
		--late-offer
	call video-no-line --play-url "$VIDEO_URL" --content-type video/mpeg \
		--codecs PCMU
	# --max-call-ms ends a call that duration= would let run on.
	anncd_stop
	stage_anncd --max-call-ms 1000 --max-repeat "$MAX_REPEAT"
	call maxcall --uri-params ";repeat=forever;duration=60000"
}

# An MPEG program stream, MPEG-1 video and MPEG audio (2 s), in its own
# message: VIDEO_URL.
make_video()
{
	ffmpeg -nostdin -loglevel error -f lavfi \
		-i "testsrc=size=176x144:rate=25:duration=2" -f lavfi \
		-i "sine=frequency=440:sample_rate=48000:duration=2" \
		-c:v mpeg1video -bf 0 -g 12 -c:a mp2 -b:a 128k -f mpeg \
		"$WORK/video.mpg"
	mail_build_message "$WORK/video.mpg" "$WORK/video.eml" video/mpeg
	mail_deliver "$MAIL_EML"
	VIDEO_URL=$(stage_url)
}

# A late offer for the video (RFC 3264 section 5): an m= line per kind,
# video first; with both answered in the ACK, MPV (PT 32) and MPA (PT
# 14, RFC 2250) flow as two streams.  An offer with no video line gets
# 488 with Warning 304.
check_video()
{
	local media

	use video-late
	media=$(sip_fields 'sip.Status-Code == 200 && sdp' -e sdp.media |
		sed 's/ [0-9]* / P /g')
	check "video, late offer: two m= lines offered" "$media" \
		"video P RTP/AVP 32,audio P RTP/AVP 14"
	check "video, late offer: played, BYE" "$(field result) $(field bye)" \
		"200 yes"
	check "video, late offer: outcome" "$(grep -c \
		'type video/mpeg bytes=[1-9][0-9]* packets=[1-9][0-9]* result=played' \
		"$ANNCD_LOG")" 1
	check "video, late offer: MPV on the first port" \
		"$(rtp_fields -e rtp.p_type | sort -u | tr '\n' ' ')" "32 "
	CALL_RTP=$((CALL_RTP + 2))
	check "video, late offer: MPA on the second" \
		"$(rtp_fields -e rtp.p_type | sort -u | tr '\n' ' ')" "14 "
	use video-no-line
	check "video, audio-only offer: 488 with Warning 304" \
		"$(field result) $(sip_fields 'sip.Status-Code == 488' -e sip.Warning)" \
		'488 304 anncd "no usable video m= line for MPV/90000"'
}

# RFC 4240 repeat and delay: three plays, every packet one sequence
# number on, the timestamp on by the samples sent plus the silence of
# the delay across each gap (RFC 3550 section 5.1), the marker on the
# first packet of each play (RFC 3551 section 4.1), one SSRC.
check_repeat()
{
	local len per last gap steps markers

	len=$(mail_au_bytes "$MAIL_AU")
	per=$(((len + 8 * PTIME - 1) / (8 * PTIME)))
	last=$((len - (per - 1) * 8 * PTIME))
	gap=$((last + 8 * DELAY_MS))
	use repeat
	check "repeat=3: answered and ended by anncd" \
		"$(field result) $(field bye) $(field ssrcs)" "200 yes 1"
	check "repeat=3: packets of three plays" "$(field packets)" \
		"$((3 * per))"
	check "repeat=3: bytes of three plays" "$(field bytes)" "$((3 * len))"
	steps=$(rtp_fields -e rtp.seq -e rtp.timestamp |
		awk 'NR > 1 { print ($1 - s + 65536) % 65536 "," \
			($2 - t + 4294967296) % 4294967296 }
		     { s = $1; t = $2 }' | sort | uniq -c |
		awk '{ print $2 "x" $1 }' | sort -t, -k2n | tr '\n' ' ')
	check "repeat=3: sequence and timestamp steps" "$steps" \
		"1,$((8 * PTIME))x$((3 * per - 3)) 1,${gap}x2 "
	markers=$(rtp_fields -e frame.number -e rtp.marker |
		awk '$2 == 1 || $2 == "True" { printf "%d ", NR }')
	check "repeat=3: marker on the first packet of each play" \
		"$markers" "1 $((per + 1)) $((2 * per + 1)) "
	check "repeat=3: outcome line" \
		"$(grep -c 'repeat=3 delay=500 bytes=.* result=played' \
		"$ANNCD_LOG")" 1
}

# repeat=forever is capped by --max-repeat; duration= cuts it short,
# then anncd sends the BYE.
check_duration()
{
	local per full

	per=$(((DURATION_MS + PTIME - 1) / PTIME))
	full=$(( ($(mail_au_bytes "$MAIL_AU") + 8 * PTIME - 1) / (8 * PTIME) ))
	use duration
	check "duration: answered, BYE from anncd" \
		"$(field result) $(field bye) $(field bye_after_last)" "200 yes yes"
	check "duration: stream cut short of one play" \
		"$(($(field packets) > 0 && $(field packets) <= per &&
		    $(field packets) < full))" 1
	check "duration: outcome" \
		"$(grep -c 'duration=600 bytes=.* result=duration reached' \
		"$ANNCD_LOG")" 1
}

# RFC 3264 section 6.1: answered inactive, no RTP, ended by anncd once
# the announcement would have played.
check_inactive()
{
	local dir attrs

	for dir in inactive sendonly; do
		use "$dir"
		attrs=$(sip_fields 'sip.Status-Code == 200 && sdp' \
			-e sdp.media -e sdp.media_attr)
		check "$dir offer: answered inactive" \
			"$(cut -d'|' -f2 <<<"$attrs" | tr ',' '\n' | tail -n 1)" \
			inactive
		check "$dir offer: no RTP, BYE from anncd" \
			"$(field result) $(rtp_fields -e frame.number | wc -l) $(field bye)" \
			"200 0 yes"
	done
	check "inactive: outcome" \
		"$(grep -c 'result=ended, stream inactive' "$ANNCD_LOG")" 2
}

# Dynamic payload types named in lowercase (RFC 4855 section 3): PCMU at
# 96, repeated in the answer with its rtpmap, the stream sent as 96.
check_dynamic()
{
	local sdp

	use dynamic
	sdp=$(sip_fields 'sip.Status-Code == 200 && sdp' -e sdp.media \
		-e sdp.media_attr)
	# shellcheck disable=SC2001 # a regular expression, not a glob
	check "dynamic PTs: answer" "$(sed 's/ [0-9]* / P /' <<<"$sdp")" \
		"audio P RTP/AVP 97|rtpmap:97 PCMU/8000,ptime:$PTIME,sendonly"
	check "dynamic PTs: RTP payload type" \
		"$(rtp_fields -e rtp.p_type | sort -u | tr '\n' ' ')" "97 "
	check "dynamic PTs: played" "$(field result) $(field bye)" "200 yes"
}

# RFC 3261 section 13.2.1: no offer in the INVITE, anncd's in the 200
# and the caller's answer in the ACK; without a usable answer the call
# is ended with a BYE and nothing is sent.
check_late_offer()
{
	local mode want

	use late
	check "late offer: 200 carries an offer with PCMU" \
		"$(sip_fields 'sip.Status-Code == 200 && sdp' -e sdp.media |
		sed 's/ [0-9]* / P /' | cut -d' ' -f1-4)" "audio P RTP/AVP 0"
	check "late offer: the ACK carries the answer" \
		"$(sip_fields 'sip.Method == "ACK" && sdp' -e sdp.media |
		sed 's/ [0-9]* / P /')" "audio P RTP/AVP 0"
	check "late offer: played whole" \
		"$(field result) $(field packets) $(field bye)" \
		"200 $(( ($(mail_au_bytes "$MAIL_AU") + 8 * PTIME - 1) / (8 * PTIME) )) yes"
	for mode in garbage none decline; do
		use "late-$mode"
		check "late offer, $mode answer: BYE, no RTP" \
			"$(field result) $(rtp_fields -e frame.number | wc -l) $(field bye)" \
			"200 0 yes"
	done
	want='bad SDP answer in ACK: answer declines every stream'
	check "late offer: declined answer's outcome" \
		"$(grep -c "result=$want" "$ANNCD_LOG")" 1
	check "late offer: missing answer's outcome" \
		"$(grep -c 'result=bad SDP answer in ACK: none' "$ANNCD_LOG")" 1
}

# RFC 3261 sections 21.4.26 and 20.43: 488 with a Warning naming what did
# not fit, before the fetch (a multicast offer) and after it (no format).
check_refusals()
{
	use gsm
	check "no format: 488" "$(field result)" 488
	check "no format: Warning" \
		"$(sip_fields 'sip.Status-Code == 488' -e sip.Warning)" \
		'305 anncd "offer has none of PCMU/8000, PCMA/8000"'
	use multicast
	check "multicast: 488 with Warning 301" \
		"$(field result) $(sip_fields 'sip.Status-Code == 488' -e sip.Warning)" \
		"488 301 anncd \"Offer's media address is not unicast\""
	use bad-repeat
	check "bad repeat: 400 names it" "$(field result) $(field reason)" \
		"400 Bad repeat parameter: often"
	use twice-delay
	check "delay given twice: 400 names it" \
		"$(field result) $(field reason)" \
		"400 Bad delay parameter: given twice"
	use zero-duration
	check "duration=0: 400 names it" "$(field result) $(field reason)" \
		"400 Bad duration parameter: 0"
}

# --max-call-ms cut the call that duration= would have let run on.
check_max_call()
{
	use maxcall
	check "max call: answered, BYE from anncd" \
		"$(field result) $(field bye)" "200 yes"
	# The control plane's 10 ms tick may let one more packet out.
	check "max call: about a second of packets" \
		"$(($(field packets) > 0 && $(field packets) <= 1000 / PTIME + 1))" 1
	check "max call: outcome" \
		"$(grep -c 'result=max call length reached' "$ANNCD_LOG")" 1
}

# --max-repeat and --max-call-ms just outside their ranges: refused at
# start-up with the option named (the EAL comes up first).
check_option_edges()
{
	local opt out

	cleanup_add_dir "/var/run/dpdk/anncd-negopt-$$"
	for opt in "--max-repeat 0" "--max-repeat 1000001" \
		"--max-call-ms 999" "--max-call-ms 86400001"; do
		# shellcheck disable=SC2086 # option and value are two words
		out=$(timeout 30 "$ANNCD" --no-huge -m 64 --no-shconf --no-pci \
			--no-telemetry -l 0 "--file-prefix=anncd-negopt-$$" -- \
			--media-ip "$RIG_MEDIA_IP" $opt 2>&1 || true)
		check "$opt refused" \
			"$(grep -c -- "${opt% *}: '${opt#* }' is not a number" <<<"$out")" 1
	done
}

main()
{
	stage_begin
	PCAP=$WORK/wire.pcapng
	ANNCD_BIN=$ANNCD
	ANNCD_SIP_PORT=$SIP_PORT

	stage_up
	URL=$(stage_url)
	make_video
	stage_anncd --max-repeat "$MAX_REPEAT" --log-level debug

	# One capture of the caller's wire for the whole run: a capture per
	# call would race dumpcap's start and its buffered writes.  Each call
	# has SIP and RTP ports of its own, by which its packets are found
	# afterwards.
	stage_capture "$PCAP" udp
	place_calls
	capture_stop
	check_refusals
	check_dynamic
	check_inactive
	check_late_offer
	check_duration
	check_repeat
	check "locale and params in the outcome line" "$(grep -c \
		'locale=en_US param1=a param9=z bytes=' "$ANNCD_LOG")" 1
	check_max_call
	check_video
	check_option_edges
	# Seven calls of the first run (at debug) took PCMU at 20 ms: the
	# plan was cut once and shared.
	check "one PCMU plan per cache entry" \
		"$(grep -c 'plan PCMU/8000 ptime 20 ms built' "$ANNCD_LOG")" 1
	anncd_stop
	stage_sanitizer
	stage_verdict
}

main "$@"
