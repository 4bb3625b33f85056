#!/usr/bin/env bash
# Real SIP phones call anncd: baresip and linphone, headless, in the
# caller's network namespace of the rig, each dialling the RFC 5616 URI of a
# voice mail held by a private Cyrus IMAP (a pawn-ticket URL made with
# GENURLAUTH, %-escaped into the Request-URI).  anncd answers their
# sendrecv offers sendrecv (--answer-direction), without which baresip
# plays and records nothing.
#
# baresip's recording, mapped back to mu-law with its own decoding table,
# must equal the attachment's audio byte for byte.  linphone rewrites the
# escapes of the Request-URI (lowercase hex, %3A decoded) and its recording
# is not frame-exact: anncd must still answer it and play the whole file,
# and what it heard must be audio of about the file's length.  Neither
# phone may send anything outside the rig's addresses.
#
#   test_phones.sh ANNCD
set -euo pipefail

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=tests/lib/stage.sh
. "$TOP/tests/lib/stage.sh"

ANNCD_BIN=${1:?usage: test_phones.sh ANNCD}
CALL_BOUND=120		# seconds any one call may take, at most
BARESIP_SIP=5062
BARESIP_CTRL=4444
LINPHONE_SIP=5072
PLAY_URI=
AUDIO_BYTES=
EXPECT_PACKETS=

# phone_stop PID: a phone that was told to quit gets 5 s; then SIGTERM,
# and a second one (baresip ends a call on the first), each with 5 s;
# SIGKILL only after that.
phone_stop()
{
	local pid=$1 round i

	for round in wait term term; do
		[ "$round" = wait ] || kill -TERM "$pid" 2>/dev/null || true
		for ((i = 0; i < 50; i++)); do
			cleanup_alive "$pid" || break 2
			sleep 0.1
		done
	done
	cleanup_kill_pid "$pid" 1
}

# RFC 3261 section 25.1: all but the unreserved characters as %HH, ':'
# and '/' too (allowed as they are, but phones differ in what they make
# of an escaped one).
uri_escape()
{
	local s=$1 i ch out=

	for ((i = 0; i < ${#s}; i++)); do
		ch=${s:i:1}
		case $ch in
		[A-Za-z0-9_.!~*\'\(\)-]) out+=$ch ;;
		*) out+=$(printf '%%%02X' "'$ch") ;;
		esac
	done
	printf '%s' "$out"
}

# The outcome line anncd logged for the Nth call (1-based).
outcome()
{
	grep ' result=' "$ANNCD_LOG" | sed -n "$1p"
}

baresip_config()
{
	local dir=$1 secs=$2

	mkdir -p "$dir/snd"
	# The silence it sends; at its end baresip would hang up itself.
	sox -q -n -r 8000 -c 1 -b 16 -e signed-integer "$dir/silence.wav" \
		trim 0 "$secs"
	# No sound hardware module, no NAT traversal module, no registrar;
	# the resolver points into the rig, though no name is looked up.
	cat >"$dir/config" <<EOF
poll_method		epoll
sip_listen		$RIG_UA_IP:$BARESIP_SIP
net_interface		$RIG_UA_IP
dns_server		$RIG_SIP_IP:53
audio_source		aufile,$dir/silence.wav
audio_srate		8000
audio_channels		1
jitter_buffer_delay	0-0
rtcp_mux		no
rtp_stats		no
module_path		/usr/lib/baresip/modules
module			g711.so
module			aufile.so
module			sndfile.so
module_app		account.so
module_app		menu.so
module_app		ctrl_tcp.so
ctrl_tcp_listen		127.0.0.1:$BARESIP_CTRL
snd_path		$dir/snd
EOF
	printf '<sip:tester@%s:%s>;regint=0;answermode=manual;audio_codecs=PCMU\n' \
		"$RIG_UA_IP" "$BARESIP_SIP" >"$dir/accounts"
	: >"$dir/contacts"
}

# check_baresip NAME URI N: baresip dials URI over ctrl_tcp and waits for
# the CALL_CLOSED of anncd's BYE; its recording goes back to mu-law for
# the byte comparison; the call is anncd's Nth.
check_baresip()
{
	local name=$1 uri=$2 nth=$3 dir=$WORK/$1 pid summary line wav

	baresip_config "$dir" $((CALL_BOUND + 30))
	ip netns exec "$RIG_UA" baresip -f "$dir" </dev/null \
		>"$dir/baresip.log" 2>&1 &
	pid=$!
	cleanup_add_pid "$pid"
	rig_ua timeout $((CALL_BOUND + 10)) python3 \
		"$TOP/tests/integration/baresip_ctrl.py" \
		"127.0.0.1:$BARESIP_CTRL" "$uri" "$CALL_BOUND" \
		>"$dir/ctrl.txt" 2>&1 || true
	phone_stop "$pid"

	summary=$(tail -n 1 "$dir/ctrl.txt")
	check "$name: call established" "$(kv_field "$summary" established)" yes
	check "$name: closed by anncd's BYE" \
		"$(kv_field "$summary" closed) $(kv_field "$summary" reason)" \
		"yes Connection reset by peer"
	line=$(outcome "$nth")
	check "$name: anncd played every packet" \
		"$(kv_field "$line" packets) $(kv_field "$line" result)" \
		"$EXPECT_PACKETS played"

	wav=$(find "$dir/snd" -name '*-dec.wav' | head -n 1)
	if [ -z "$wav" ]; then
		check "$name: recording written" none "a dump-*-dec.wav"
		cat "$dir/baresip.log" "$dir/ctrl.txt" >&2
		return
	fi
	python3 "$TOP/tests/integration/ulaw_from_wav.py" "$wav" \
		"$WORK/$name.ul" || true
	check "$name: recording in mu-law, bytes" \
		"$(stat -c %s "$WORK/$name.ul" 2>/dev/null)" "$AUDIO_BYTES"
	check "$name: recording equals the attachment's audio" \
		"$(sha256sum <"$WORK/$name.ul" | cut -d' ' -f1)" \
		"$(sha256sum <"$WORK/audio.ul" | cut -d' ' -f1)"
}

linphone_config()
{
	local dir=$1

	mkdir -p "$dir/.local/share/linphone"
	# No STUN, ICE, UPnP, registrar, provisioning or version check: the
	# only address it is given is anncd's.
	cat >"$dir/linphonerc" <<EOF
[sip]
sip_port=$LINPHONE_SIP
sip_tcp_port=0
sip_tls_port=0
default_proxy=-1
use_ipv6=0
ipv6=0
contact=sip:tester@$RIG_UA_IP:$LINPHONE_SIP

[net]
firewall_policy=0
nat_policy_ref=
stun_server=
upnp=0
mtu=1300

[rtp]
audio_rtp_port=7078

[sound]
echocancellation=0

[video]
capture=0
display=0
automatically_initiate=0

[misc]
version_check_url_root=
config-uri=
log_collection_upload_server_url=
file_transfer_server_url=
EOF
}

# linphonec, commands on its stdin through a FIFO; "ended" in its output
# is the end of the call.
check_linphone()
{
	local dir=$WORK/linphone pid i fd line

	linphone_config "$dir"
	mkfifo "$dir/in"
	ip netns exec "$RIG_UA" env HOME="$dir" linphonec -c "$dir/linphonerc" \
		<"$dir/in" >"$dir/linphone.log" 2>&1 &
	pid=$!
	cleanup_add_pid "$pid"
	exec {fd}>"$dir/in"
	printf 'soundcard use files\nrecord %s\ncall %s\n' \
		"$dir/heard.wav" "$PLAY_URI" >&"$fd"
	for ((i = 0; i < CALL_BOUND * 10; i++)); do
		grep -q ' ended ' "$dir/linphone.log" && break
		cleanup_alive "$pid" || break
		sleep 0.1
	done
	{ printf 'quit\n' >&"$fd"; } 2>/dev/null || true
	exec {fd}>&-
	phone_stop "$pid"

	check "linphone: call ended" \
		"$(grep -c ' ended ' "$dir/linphone.log")" 1
	line=$(outcome 2)
	check "linphone: anncd played every packet" \
		"$(kv_field "$line" packets) $(kv_field "$line" result)" \
		"$EXPECT_PACKETS played"
	check_linphone_recording "$dir/heard.wav"
}

# Not frame-exact: speech, within a tenth of the attachment's length.
check_linphone_recording()
{
	local stat

	stat=$(sox "$1" -n stat 2>&1 || true)
	check "linphone: recording of about the attachment's length" \
		"$(awk -v want="$AUDIO_BYTES" '/^Samples read:/ {
			print ($3 > 0.9 * want && $3 < 1.1 * want) ? "yes" : $3 }' \
			<<<"$stat")" yes
	check "linphone: recording holds sound" \
		"$(awk '/^RMS +amplitude:/ { print ($3 > 0.01) ? "yes" : $3 }' \
			<<<"$stat")" yes
}

# anncd's answer to linphone, and what linphone made of the Request-URI:
# it differs from what was dialled (so anncd unescaped another form) and
# still names the same play URL.
check_linphone_wire()
{
	local ruri

	ruri=$(tshark -r "$WORK/wire.pcapng" -Y \
		"sip.Method == \"INVITE\" && udp.srcport == $LINPHONE_SIP" \
		-T fields -e sip.r-uri | head -n 1)
	check "linphone: 200 OK with SDP" "$(tshark -r "$WORK/wire.pcapng" -Y \
		"sip.Status-Code == 200 && sdp && udp.dstport == $LINPHONE_SIP" |
		awk 'END { print (NR > 0) ? "yes" : "no" }')" yes
	check "linphone: Request-URI rewritten" \
		"$([ -n "$ruri" ] && [ "$ruri" != "$PLAY_URI" ] && echo yes)" yes
	check "linphone: rewritten URI unescapes to the dialled one" \
		"$(printf '%b' "${ruri//%/\\x}")" \
		"$(printf '%b' "${PLAY_URI//%/\\x}")"
}

# Neither phone sent anything to, or got anything from, outside the rig.
check_confined()
{
	check "IP packets outside 198.18.0.0/15 on the caller's wire" \
		"$(tshark -r "$WORK/wire.pcapng" -Y 'ip && !(ip.src == 198.18.0.0/15
			&& ip.dst == 198.18.0.0/15)' | wc -l)" 0
}

# The SDP answer to baresip's sendrecv offer (the first 200 with SDP).
check_answer_direction()
{
	local attrs

	attrs=$(tshark -r "$WORK/wire.pcapng" \
		-Y 'sip.Status-Code == 200 && sdp' -T fields \
		-e sdp.media_attr | head -n 1)
	check "SDP answer with --answer-direction sendrecv" "$attrs" \
		"rtpmap:0 PCMU/8000,ptime:20,sendrecv"
}

main()
{
	stage_begin
	if ! command -v baresip >/dev/null || ! command -v linphonec >/dev/null
	then
		note "baresip or linphonec missing: run scripts/deps"
		exit 77
	fi

	stage_up
	# linphone sees the network as down without a default route; the
	# server namespace forwards nothing, so nothing leaves the rig.
	rig_ms sysctl -qw net.ipv4.ip_forward=0
	ip -n "$RIG_UA" route add default via "$RIG_SIP_IP"
	mail_au_audio "$MAIL_AU" >"$WORK/audio.ul"
	AUDIO_BYTES=$(stat -c %s "$WORK/audio.ul")
	EXPECT_PACKETS=$(((AUDIO_BYTES + 159) / 160))
	PLAY_URI="sip:annc@$RIG_SIP_IP:$ANNCD_SIP_PORT;play=$(uri_escape "$(stage_url)")"
	PLAY_URI+=";content-type=audio/basic;content-transfer-encoding=base64"

	stage_anncd --answer-direction sendrecv \
		--sip-tcp "$RIG_SIP_IP:$ANNCD_SIP_PORT"
	# Everything on the caller's wire, for the SDP answer and for
	# traffic that leaves the rig's addresses.
	stage_capture "$WORK/wire.pcapng"
	check_baresip baresip "$PLAY_URI" 1
	check_linphone
	cleanup_kill_pid "$TSHARK_PID" 10
	check_answer_direction
	check_linphone_wire
	check_confined
	# The same call over TCP (RFC 3261 section 19.1.1: transport=tcp).
	check_baresip baresip-tcp "${PLAY_URI/;play=/;transport=tcp;play=}" 3
	check "baresip-tcp: the call came over TCP" \
		"$(outcome 3 | grep -o 'from TCP' || true)" "from TCP"

	anncd_stop
	stage_sanitizer
	if [ "$FAILS" -ne 0 ]; then
		for f in baresip/baresip.log baresip/ctrl.txt linphone/linphone.log \
			baresip-tcp/baresip.log baresip-tcp/ctrl.txt anncd.log; do
			note "$f:"
			cat "$WORK/$f"
		done
		note "$FAILS checks failed"
		exit 1
	fi
	note "all checks passed"
}

main "$@"
