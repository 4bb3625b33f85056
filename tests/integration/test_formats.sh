#!/usr/bin/env bash
# shellcheck disable=SC2034 # REF_IN_i are read through ${!in}
# Every media format that anncd streams, end to end on real parts: each
# row makes its attachment with Debian's tools (espeak-ng, sox, ffmpeg, and
# frame-enc for G.729 and AMR), puts it in a private Cyrus mailbox, has
# anncd-call get a URLAUTH URL and call anncd with the row's SDP offer,
# captures the caller's wire with tshark, and then checks
#   - ffmpeg decodes what anncd sent (the captured datagrams replayed to
#     ffmpeg's own RTP receiver, or, where ffmpeg has no depacketizer, the
#     frames rtp_media.py takes out of the payloads) into exactly what it
#     decodes from the attachment; for conversions, into the G.711 that
#     ffmpeg makes of the source, or close to its resampling;
#   - framed formats carry the attachment's frames, the same ones in the
#     same order, and each packet's timestamp is that of its first frame;
#   - tshark's RTP analysis: one stream per m= line, the payload type and
#     clock rate of the SDP answer, no loss, no sequence error, and the
#     timestamp steps of the codec;
#   - rows with repeat=N delay=MS (RFC 4240 section 3.4) on the
#     Request-URI: N plays of equal packets with sequence numbers +1
#     throughout, each play's timestamps those of its frames, each play
#     starting one span of a play (its last packet's timestamp offset plus
#     that packet's duration) and MS ms of the clock after the one before,
#     a marker on the first packet of each play and on no other (for
#     MPEG video, markers only where the first play has them: at picture
#     ends), and every play carrying the first one's payloads, packet for
#     packet; all the checks above then run on the first play.
# A row whose content type or payload format this anncd refuses (415 or
# 488) is reported as skipped with the answer; the script exits 77 only
# when no row ran.
#
#   test_formats.sh ANNCD ANNCD_CALL [FRAME_ENC] [ROW...]
set -euo pipefail

ANNCD=$1
CALL=$2
FRAME_ENC=${3:-}
shift $(($# < 3 ? $# : 3))
ONLY=("$@")
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
HERE=$TOP/tests/integration
# shellcheck source=tests/lib/stage.sh
. "$TOP/tests/lib/stage.sh"

SIP_PORT=5060
RTP_PORT=30000		# the caller's first m= line; stream i on + 2 i
REPLAY_PORT=42000	# ffmpeg's, on the caller namespace's loopback
SECONDS_OF_SPEECH=3

# The rows.  make: a gen_* function and its arguments, writing the
# attachment; offer: anncd-call --offer specs, one per m= line; ptime:
# the offer's a=ptime (anncd rounds it to whole frames); steps:
# the RTP timestamp steps tshark must see on the first m= line (- for
# none to check); compare: how what ffmpeg decodes is judged:
#   same       identical samples (or pictures) to the attachment's
#   ulaw|alaw  identical to the source companded by ITU-T G.711 (as its
#              reference code in ITU-T G.191 does)
#   resampled  the source resampled to 8 kHz by ffmpeg and encoded: the
#              same length, and within 25 dB SNR at the best lag (the
#              filters' delays may differ)
#   downmixed  the mean of the two channels, encoded: within 25 dB
#   frames     identical, and the same frames in the same order
# and expect: more key=value results of rtp_media.py analyze (of one
# play), and repeat=N delay=MS to put ";repeat=N;delay=MS" in the
# Request-URI (RFC 4240 section 3.4) and check the plays (check_plays).
ROWS=$(cat <<'EOF'
# name         | content-type         | make                  | offer                               | ptime | steps     | compare   | expect
au-ulaw        | audio/basic          | gen_au mu-law         | audio:0                             | 20    | 160       | same      |
au-alaw        | audio/basic          | gen_au a-law          | audio:8                             | 20    | 160       | same      |
au-1.01s       | audio/basic          | gen_au mu-law 1.01    | audio:0                             | 20    | 160       | same      | packets=51 last_len=80
pcmu           | audio/PCMU           | gen_g711 mulaw        | audio:0                             | 20    | 160       | same      |
pcma           | audio/PCMA           | gen_g711 alaw         | audio:8                             | 20    | 160       | same      |
wav-8k         | audio/wav            | gen_wav sox 8000 1    | audio:96=L16/8000                   | 20    | 160       | same      |
wav-16k        | audio/wav            | gen_wav sox 16000 1   | audio:96=L16/16000                  | 20    | 320       | same      |
wav-stereo     | audio/wav            | gen_wav sox 8000 2    | audio:96=L16/8000/2                 | 20    | 160       | same      |
wav-list       | audio/x-wav          | gen_wav ffmpeg 8000 1 | audio:96=L16/8000                   | 20    | 160       | same      |
wav-ext        | audio/wav            | gen_wav_ext 8000      | audio:96=L16/8000                   | 20    | 160       | same      |
wav-ulaw       | audio/wav            | gen_wav_g711 mu-law   | audio:0                             | 20    | 160       | same      |
wav-alaw       | audio/wave           | gen_wav_g711 a-law    | audio:8                             | 20    | 160       | same      |
wav-to-pcmu    | audio/wav            | gen_wav sox 8000 1    | audio:0                             | 20    | 160       | ulaw      |
wav-to-pcma    | audio/wav            | gen_wav sox 8000 1    | audio:8                             | 20    | 160       | alaw      |
wav16k-pcmu    | audio/wav            | gen_wav sox 16000 1   | audio:0                             | 20    | 160       | resampled |
stereo-pcmu    | audio/wav            | gen_wav sox 8000 2    | audio:0                             | 20    | 160       | downmixed |
l16            | audio/L16;rate=8000  | gen_l16 8000          | audio:96=L16/8000                   | 20    | 160       | same      |
l16-16k        | audio/L16;rate=16000 | gen_l16 16000         | audio:97=L16/16000                  | 20    | 320       | same      |
g722           | audio/G722           | gen_g722              | audio:9                             | 20    | 160       | same      |
g729           | audio/G729           | gen_frames g729       | audio:18                            | 20    | 160       | frames    |
amr            | audio/amr            | gen_frames amr 7      | audio:96=AMR/8000;octet-align=1     | 20    | 160       | frames    |
amr-be         | audio/amr            | gen_frames amr 7      | audio:96=AMR/8000                   | 20    | 160       | frames    |
amr-modes      | audio/AMR            | gen_frames amr 7,0,4  | audio:99=AMR/8000                   | 20    | 160       | frames    |
amr-wb         | audio/amr-wb         | gen_frames amr-wb 8   | audio:97=AMR-WB/16000;octet-align=1 | 20    | 320       | frames    |
amr-wb-be      | audio/amr-wb         | gen_frames amr-wb 8,2 | audio:97=AMR-WB/16000               | 20    | 320       | frames    |
pcmu-30ms      | audio/PCMU           | gen_g711 mulaw        | audio:0                             | 30    | 240       | same      |
g729-40ms      | audio/G729           | gen_frames g729       | audio:18                            | 40    | 320       | frames    |
amr-60ms       | audio/amr            | gen_frames amr 7,0,4  | audio:96=AMR/8000;octet-align=1     | 60    | 480       | frames    | packets=50
amr-be-60ms    | audio/amr            | gen_frames amr 7,0,4  | audio:96=AMR/8000                   | 60    | 480       | frames    | packets=50
amr-wb-be-40ms | audio/amr-wb         | gen_frames amr-wb 8,2 | audio:97=AMR-WB/16000               | 40    | 640       | frames    | packets=75
mp3            | audio/mpeg           | gen_mpa mp3 48000     | audio:14                            | 20    | 2160      | frames    |
mp3-id3        | audio/mpeg           | gen_mpa mp3-id3 48000 | audio:14                            | 20    | 2160      | frames    |
mp2            | audio/mpeg           | gen_mpa mp2 44100     | audio:14                            | 20    | 2351,2352 | frames    |
m1v            | video/mpeg           | gen_video m1v         | video:32                            | 20    | 0,3600    | frames    |
m2v            | video/mpeg           | gen_video m2v         | video:32                            | 20    | 0,3600    | frames    |
mpeg-ps        | video/mpeg           | gen_video ps          | audio:14 video:32                   | 20    | 2160      | frames    |
au-repeat      | audio/basic          | gen_au mu-law 1.01    | audio:0                             | 20    | 160       | same      | repeat=2 delay=300 packets=51 last_len=80
g729-repeat    | audio/G729           | gen_frames g729       | audio:18                            | 70    | 560       | frames    | repeat=3 delay=500 last_len=60
amr-be-repeat  | audio/amr            | gen_frames amr 7,0,4  | audio:96=AMR/8000                   | 60    | 480       | frames    | repeat=2 delay=300 packets=50
mp3-repeat     | audio/mpeg           | gen_mpa mp3 48000     | audio:14                            | 20    | 2160      | frames    | repeat=2 delay=300
m1v-repeat     | video/mpeg           | gen_video m1v         | video:32                            | 20    | 0,3600    | frames    | repeat=3 delay=500
EOF
)

field()
{
	kv_field "$1" "$2"
}

trim()
{
	local s=$1

	s=${s#"${s%%[![:space:]]*}"}
	printf '%s' "${s%"${s##*[![:space:]]}"}"
}

# ---- the attachments -------------------------------------------------------
# Each gen_* writes the attachment to $ATT and, per m= line i of the row,
# what ffmpeg must read to decode the original ($REF_IN_i, an array of
# input options and file), and for framed formats the original's
# elementary stream ($ORIG_ES_i).  The speech is espeak-ng's, made once.

make_sources()
{
	espeak-ng -v en -s 160 -w "$WORK/speech.wav" \
		"You have one new voice message. Hello Alice, this is Bob."
	sox -q "$WORK/speech.wav" "$WORK/src8k.wav" rate 8000 \
		trim 0 "$SECONDS_OF_SPEECH"
	sox -q "$WORK/speech.wav" "$WORK/src16k.wav" rate 16000 \
		trim 0 "$SECONDS_OF_SPEECH"
	sox -q "$WORK/speech.wav" "$WORK/src48k.wav" rate 48000 \
		trim 0 "$SECONDS_OF_SPEECH"
	sox -q "$WORK/speech.wav" "$WORK/src44k.wav" rate 44100 \
		trim 0 "$SECONDS_OF_SPEECH"
	# a second channel that differs from the first: a 440 Hz tone
	sox -q -n -r 8000 -c 1 "$WORK/tone8k.wav" synth "$SECONDS_OF_SPEECH" \
		sine 440 vol 0.3
	SRC=$WORK/src8k.wav
}

# tshark reading a capture, without its note about running as root.
tsh()
{
	tshark "$@" 2> >(grep -v '^Running as user' >&2)
}

ffdo()
{
	ffmpeg -nostdin -hide_banner -loglevel error -y "$@"
}

# gen_au ENCODING [SECONDS]: Sun .au, 8 kHz mono.
gen_au()
{
	ATT=$WORK/att.au
	if [ -n "${2:-}" ]; then
		sox -q "$SRC" -e "$1" "$ATT" trim 0 "$2"
	else
		sox -q "$SRC" -e "$1" "$ATT"
	fi
	REF_IN_0=(-i "$ATT")
}

# gen_g711 mulaw|alaw: raw G.711, as audio/PCMU and audio/PCMA carry it.
gen_g711()
{
	ATT=$WORK/att.$1
	ffdo -i "$SRC" -f "$1" "$ATT"
	REF_IN_0=(-f "$1" -ar 8000 -ac 1 -i "$ATT")
}

# gen_wav sox|ffmpeg RATE CHANNELS: 16-bit PCM WAV; ffmpeg's carries a
# LIST chunk before the data chunk.
gen_wav()
{
	local tool=$1 rate=$2 ch=$3 src=$WORK/src8k.wav

	ATT=$WORK/att.wav
	[ "$rate" = 16000 ] && src=$WORK/src16k.wav
	if [ "$ch" = 2 ]; then
		sox -q -M "$src" "$WORK/tone8k.wav" -e signed -b 16 "$ATT"
	elif [ "$tool" = sox ]; then
		sox -q "$src" -e signed -b 16 "$ATT"
	else
		ffdo -i "$src" -c:a pcm_s16le -metadata title=Voicemail "$ATT"
		grep -q LIST "$ATT" || { note "ffmpeg wrote no LIST chunk"; return 1; }
	fi
	SRC=$src
	REF_IN_0=(-i "$ATT")
}

# gen_wav_ext RATE: WAVE_FORMAT_EXTENSIBLE (tag 0xFFFE) with PCM inside:
# ffmpeg writes it for a mono channel other than front centre.
gen_wav_ext()
{
	ATT=$WORK/att.wav
	ffdo -i "$SRC" -af aformat=channel_layouts=FL -c:a pcm_s16le \
		-bitexact "$ATT"
	[ "$(od -An -tx1 -j 20 -N 2 "$ATT" | tr -d ' ')" = feff ] ||
		{ note "ffmpeg wrote no WAVE_FORMAT_EXTENSIBLE"; return 1; }
	REF_IN_0=(-i "$ATT")
}

# gen_wav_g711 mu-law|a-law: WAV of format 7 or 6.
gen_wav_g711()
{
	ATT=$WORK/att.wav
	sox -q "$SRC" -e "$1" -t wav "$ATT"
	REF_IN_0=(-i "$ATT")
}

# gen_l16 RATE: raw 16-bit big-endian PCM (RFC 2586).
gen_l16()
{
	[ "$1" = 16000 ] && SRC=$WORK/src16k.wav
	ATT=$WORK/att.l16
	ffdo -i "$SRC" -f s16be "$ATT"
	REF_IN_0=(-f s16be -ar "$1" -ac 1 -i "$ATT")
}

# gen_g722: raw G.722 at 64 kbit/s from 16 kHz speech, ffmpeg's encoder.
gen_g722()
{
	ATT=$WORK/att.g722
	ffdo -i "$WORK/src16k.wav" -c:a g722 -f g722 "$ATT"
	REF_IN_0=(-f g722 -i "$ATT")
}

# gen_frames g729|amr|amr-wb [MODES]: frame-enc (bcg729, opencore-amrnb,
# vo-amrwbenc); AMR modes change every second.
gen_frames()
{
	local codec=$1 rate=8000

	[ -n "$FRAME_ENC" ] || { SKIP_WHY="frame-enc not built (bcg729, opencore-amrnb or vo-amrwbenc missing)"; return 1; }
	[ "$codec" = amr-wb ] && rate=16000
	ffdo -i "$WORK/speech.wav" -ar "$rate" -ac 1 -t "$SECONDS_OF_SPEECH" \
		-f s16le "$WORK/pcm.raw"
	ATT=$WORK/att.$codec
	"$FRAME_ENC" "$codec" ${2:+-m "$2"} "$WORK/pcm.raw" "$ATT"
	ORIG_ES_0=$ATT
	if [ "$codec" = g729 ]; then
		REF_IN_0=(-f g729 -i "$ATT")
	else
		REF_IN_0=(-i "$ATT")
	fi
}

# gen_mpa mp3|mp3-id3|mp2 RATE: MPEG audio frames with no Xing frame;
# mp3-id3 starts with an ID3v2 tag, which is not audio.
gen_mpa()
{
	local kind=$1 rate=$2 src=$WORK/src48k.wav

	[ "$rate" = 44100 ] && src=$WORK/src44k.wav
	ATT=$WORK/att.$kind
	case $kind in
	mp3) ffdo -i "$src" -c:a libmp3lame -b:a 64k -write_xing 0 \
		-id3v2_version 0 -f mp3 "$ATT" ;;
	mp3-id3) ffdo -i "$src" -c:a libmp3lame -b:a 64k -write_xing 0 \
		-id3v2_version 3 -metadata title=Voicemail -f mp3 "$ATT" ;;
	mp2) ffdo -i "$src" -c:a mp2 -b:a 128k -f mp2 "$ATT" ;;
	esac
	# the frames alone, tags and all else left out
	ORIG_ES_0=$WORK/orig.0.es
	if [ "$kind" = mp2 ]; then
		ffdo -i "$ATT" -c copy -f mp2 "$ORIG_ES_0"
	else
		ffdo -i "$ATT" -c copy -write_xing 0 -id3v2_version 0 -f mp3 \
			"$ORIG_ES_0"
	fi
	REF_IN_0=(-i "$ATT")
}

# gen_video m1v|m2v|ps: 2 s of ffmpeg's test picture at 25 frames/s, no
# B-frames (transmission order is display order), I-frames larger than
# one packet; ps: an MPEG-1 program stream with MPEG-1 video and MP2.
gen_video()
{
	local v=(-f lavfi -i "testsrc=size=352x288:rate=25:duration=2")

	case $1 in
	m1v|m2v)
		ATT=$WORK/att.$1
		ffdo "${v[@]}" -c:v "mpeg${1:1:1}video" -bf 0 -g 12 -b:v 800k \
			-f "mpeg${1:1:1}video" "$ATT"
		ORIG_ES_0=$ATT
		REF_IN_0=(-i "$ATT")
		;;
	ps)
		ATT=$WORK/att.mpg
		ffdo "${v[@]}" -i "$WORK/src48k.wav" -map 0:v -map 1:a \
			-c:v mpeg1video -bf 0 -g 12 -b:v 800k -c:a mp2 -b:a 128k \
			-t 2 -f mpeg "$ATT"
		ORIG_ES_0=$WORK/orig.0.es
		ORIG_ES_1=$WORK/orig.1.es
		ffdo -i "$ATT" -map 0:a -c copy -f mp2 "$ORIG_ES_0"
		ffdo -i "$ATT" -map 0:v -c copy -f mpeg1video "$ORIG_ES_1"
		REF_IN_0=(-i "$ORIG_ES_0")
		REF_IN_1=(-f mpegvideo -i "$ORIG_ES_1")
		;;
	esac
}

# ---- the call --------------------------------------------------------------

# call_row CTYPE PTIME OFFER...: delivers $ATT, calls anncd with the
# offer (and $URI_PARAMS in the Request-URI) while tshark captures;
# RESULT is anncd-call's last line.
call_row()
{
	local ctype=$1 ptime=$2 url spec args=()

	shift 2
	mail_build_message "$ATT" "$ROWDIR/message.eml" "$ctype"
	mail_deliver "$MAIL_EML"
	url=$(stage_url)
	for spec in "$@"; do args+=(--offer "$spec"); done
	[ -z "$URI_PARAMS" ] || args+=(--uri-params "$URI_PARAMS")
	stage_capture "$ROWDIR/wire.pcapng" udp
	rig_ms timeout 60 "$CALL" --netns "$RIG_UA" --local "$RIG_UA_IP" \
		--server "$RIG_SIP_IP:$SIP_PORT" --rtp-port "$RTP_PORT" \
		--ptime "$ptime" --play-url "$url" --content-type "$ctype" \
		--cte base64 --timeout 30 "${args[@]}" </dev/null \
		>"$ROWDIR/call.txt" 2>&1 || true
	cleanup_kill_pid "$TSHARK_PID" 10
	RESULT=$(grep '^result=' "$ROWDIR/call.txt" | tail -n 1 || true)
	tsh -r "$ROWDIR/wire.pcapng" -Y "ip.src == $RIG_MEDIA_IP && udp" \
		-T fields -e udp.dstport -e udp.payload >"$ROWDIR/dump.txt"
}

# ---- the checks --------------------------------------------------------------

# The rtp_media.py payload format of an offer spec.
offer_fmt()
{
	local spec=$1 name

	name=${spec#*:}
	name=${name#*=}
	name=${name%%/*}
	case $name in
	0|8|PCMU|PCMA) echo g711 ;;
	9|G722) echo g722 ;;
	18|G729) echo g729 ;;
	14|MPA) echo mpa ;;
	32|MPV) echo mpv ;;
	L16) echo l16 ;;
	AMR|AMR-WB)
		local f=${name,,}
		[[ $spec == *octet-align=1* ]] || f+=-be
		echo "$f" ;;
	*) echo unknown ;;
	esac
}

# The rtpmap that the answer must carry for an offer spec: tshark reads
# the SDP, so this is its view of the payload type and clock rate.
offer_rtpmap()
{
	local spec=$1 pt rest

	pt=${spec#*:}
	rest=${pt#*=}
	pt=${pt%%=*}
	pt=${pt%%;*}
	if [ "$rest" != "${spec#*:}" ]; then
		rest=${rest%%;*}
		printf 'rtpmap:%s %s' "$pt" "$rest"
		# one channel may be said or left out (RFC 4566 section 6)
		[[ $rest == */*/* ]] || printf '(/1)?'
		echo
		return
	fi
	case $pt in
	0) echo "rtpmap:0 PCMU/8000" ;;
	8) echo "rtpmap:8 PCMA/8000" ;;
	9) echo "rtpmap:9 G722/8000" ;;
	14) echo "rtpmap:14 MPA/90000" ;;
	18) echo "rtpmap:18 G729/8000" ;;
	32) echo "rtpmap:32 MPV/90000" ;;
	esac
}

# tshark: the SDP answer, the stream's analysis and its timestamp steps
# within each play of PER_PLAY packets (0: one play).
check_wire()
{
	local i=$1 spec=$2 steps=$3 port=$((RTP_PORT + 2 * $1)) line answer got

	answer=$(tsh -r "$ROWDIR/wire.pcapng" \
		-Y 'sip.Status-Code == 200 && sdp' -T fields \
		-e sdp.media_attr | head -n 1 | tr ',' '\n')
	got=$(grep -cE "^$(offer_rtpmap "$spec")\$" <<<"$answer" || true)
	check "${ROW}[$i]: answer has $(offer_rtpmap "$spec") (tshark)" "$got" 1
	[ "$got" = 1 ] || tsh -r "$ROWDIR/wire.pcapng" -Y sip | sed 's/^/    /'

	tsh -r "$ROWDIR/wire.pcapng" -q -o rtp.heuristic_rtp:TRUE \
		-z rtp,streams >"$ROWDIR/streams.txt"
	line=$(grep -E " $RIG_UA_IP +$port " "$ROWDIR/streams.txt" || true)
	check "${ROW}[$i]: tshark RTP streams to port $port" \
		"$(grep -c . <<<"$line")" 1
	# ... Payload Pkts Lost (pct) MinDelta ... [X]
	check "${ROW}[$i]: tshark lost packets" "$(awk '{ for (i = 1; i <= NF; i++)
		if ($i ~ /^\(.*%\)$/) print $(i - 1) }' <<<"$line")" 0
	check "${ROW}[$i]: tshark sequence problems" \
		"$(awk '{ print ($NF == "X") }' <<<"$line")" 0
	[ "$steps" != - ] || return 0
	got=$(tsh -r "$ROWDIR/wire.pcapng" -d "udp.port==$port,rtp" \
		-Y "ip.src == $RIG_MEDIA_IP && udp.dstport == $port" \
		-T fields -e rtp.timestamp |
		awk -v n="$PER_PLAY" 'NR > 1 && (n == 0 || (NR - 1) % n != 0) {
			print ($1 - t + 4294967296) % 4294967296 }
		     { t = $1 }' | sort -nu | paste -sd,)
	check "${ROW}[$i]: timestamp steps (tshark)" "$got" "$steps"
}

# rtp_media.py's view: frames, timestamps per frame, one SSRC; the
# elementary stream rebuilt from the payloads goes to GOT_ES.
check_payloads()
{
	local i=$1 fmt=$2 expect=$3 port=$((RTP_PORT + 2 * $1)) a kv opts=()

	GOT_ES=$ROWDIR/got.$i.es
	case $fmt in
	l16) opts=(--channels "$(offer_channels "$4")") ;;
	esac
	a=$(python3 "$HERE/rtp_media.py" analyze "$fmt" "$ROWDIR/dump.txt" \
		"$port" --es "$GOT_ES" "${opts[@]}" || true)
	note "${ROW}[$i]: $a"
	check "${ROW}[$i]: payloads parse as $fmt" "$(field "$a" error)" ""
	check "${ROW}[$i]: one SSRC, sequence +1" \
		"$(field "$a" ssrcs) $(field "$a" seq_steps)" "1 1"
	check "${ROW}[$i]: each timestamp that of its first frame" \
		"$(field "$a" ts_bad)" 0
	case $fmt in
	mpa) ;;
	mpv)
		# RFC 2250 section 3.3: the marker ends a picture, nothing else
		check "${ROW}[$i]: markers, one per picture's last packet" \
			"$(field "$a" markers)" "$(field "$a" pictures)" ;;
	*) check "${ROW}[$i]: marker on the first packet" \
		"$(field "$a" marker_first)" 1 ;;
	esac
	for kv in $expect; do
		check "${ROW}[$i]: ${kv%%=*}" "$(field "$a" "${kv%%=*}")" "${kv#*=}"
	done
}

offer_channels()
{
	local r=${1%%;*}

	r=${r#*=}
	[[ $r == */*/* ]] && echo "${r##*/}" || echo 1
}

# ffmpeg decodes stream i of the call into GOT_DEC: the replay into its
# RTP receiver; for G.729 (no depacketizer in ffmpeg 5.1), AMR in
# bandwidth-efficient mode (unsupported there) and AMR of several frames
# a packet (ffmpeg 5.1 decodes only the first) the rebuilt frames.
decode_got()
{
	local i=$1 fmt=$2 video=$3 ptime=$4

	GOT_DEC=$ROWDIR/replay.$i.$([ "$video" = 1 ] && echo md5 || echo raw)
	[ "$ptime" -gt 20 ] && [[ $fmt == amr* ]] && fmt=amr-be
	case $fmt in
	g729) ffdo -f g729 -i "$ROWDIR/got.$i.es" -f s16le "$GOT_DEC" ;;
	amr-be|amr-wb-be) ffdo -i "$ROWDIR/got.$i.es" -f s16le "$GOT_DEC" ;;
	*) [ -s "$GOT_DEC" ] || check "${ROW}[$i]: ffmpeg decoded the replay" \
		"$(ls "$GOT_DEC" 2>/dev/null)" "$GOT_DEC" ;;
	esac
}

# ROWDIR/want.s16 companded as G.711 LAW, decoded by ffmpeg to WANT_DEC.
g711_want()
{
	python3 "$HERE/rtp_media.py" g711enc "$1" "$ROWDIR/want.s16" \
		"$ROWDIR/want.g711"
	ffdo -f "${1/ulaw/mulaw}" -ar 8000 -i "$ROWDIR/want.g711" -f s16le \
		"$WANT_DEC"
}

# What ffmpeg must have decoded, per the row's compare column.
decode_want()
{
	local i=$1 how=$2 video=$3 in="REF_IN_$1[@]"

	WANT_DEC=$ROWDIR/want.$i.$([ "$video" = 1 ] && echo md5 || echo raw)
	# G.711 as its reference code compands (rtp_media.py g711enc): the
	# encoders of ffmpeg and sox round some samples otherwise
	case $how in
	ulaw|alaw)
		ffdo -i "$SRC" -f s16le "$ROWDIR/want.s16"
		g711_want "$how" ;;
	resampled)
		ffdo -i "$SRC" -ar 8000 -f s16le "$ROWDIR/want.s16"
		g711_want ulaw ;;
	downmixed)
		sox -q "$ATT" -t raw "$ROWDIR/want.s16" remix 1v0.5,2v0.5
		g711_want ulaw ;;
	*)
		if [ "$video" = 1 ]; then
			ffdo "${!in}" -fps_mode passthrough -f framemd5 "$WANT_DEC"
		else
			ffdo "${!in}" -map 0:a:0 -f s16le "$WANT_DEC"
		fi ;;
	esac
}

# One MD5 per decoded picture, timestamps left out.
pictures()
{
	grep -v '^#' "$1" | awk -F, '{ gsub(/ /, ""); print $5, $6 }'
}

check_decoded()
{
	local i=$1 how=$2 video=$3 c es=ORIG_ES_$1

	if [ "$video" = 1 ]; then
		check "${ROW}[$i]: decoded pictures identical" \
			"$(pictures "$GOT_DEC" | md5sum) $(pictures "$GOT_DEC" | wc -l)" \
			"$(pictures "$WANT_DEC" | md5sum) $(pictures "$WANT_DEC" | wc -l)"
	else
		c=$(python3 "$HERE/rtp_media.py" cmppcm "$WANT_DEC" "$GOT_DEC" \
			--align "$([ "$how" = resampled ] && echo 64 || echo 0)" ||
			true)
		note "${ROW}[$i]: $c"
		if [ "$how" = resampled ] || [ "$how" = downmixed ]; then
			check "${ROW}[$i]: samples of the conversion" \
				"$(field "$c" got_samples)" "$(field "$c" want_samples)"
			check "${ROW}[$i]: within 25 dB of the expected conversion" \
				"$(awk -v s="$(field "$c" snr_db)" 'BEGIN { print (s >= 25) }')" 1
		else
			check "${ROW}[$i]: ffmpeg decodes identical samples" \
				"$(field "$c" samples)" same
		fi
	fi
	[ "$how" = frames ] || return 0
	c=$(python3 "$HERE/rtp_media.py" cmpframes "$GOT_FMT" "${!es}" \
		"$GOT_ES" || true)
	note "${ROW}[$i]: $c"
	check "${ROW}[$i]: the attachment's frames, in order" \
		"$(field "$c" frames) $(field "$c" error)" "same "
}

# The checker checked: ffmpeg's own RTP muxer packs an MP3, an MPEG-1
# video and an AMR file (several frames a packet, fragments), and
# rtp_media.py must take the same frames back out.  ffmpeg keeps the last
# packet of aggregated audio unsent, so a prefix of the frames will do.
check_checker()
{
	local fmt file pid c a

	ffdo -i "$WORK/src48k.wav" -c:a libmp3lame -b:a 64k -write_xing 0 \
		-id3v2_version 0 -f mp3 "$WORK/self.mpa"
	ffdo -f lavfi -i "testsrc=size=352x288:rate=25:duration=1" \
		-c:v mpeg1video -bf 0 -b:v 800k -f mpeg1video "$WORK/self.mpv"
	[ -z "$FRAME_ENC" ] || "$FRAME_ENC" amr -m 7,2 <(ffmpeg -nostdin \
		-loglevel error -i "$SRC" -f s16le -) "$WORK/self.amr"
	for fmt in mpa mpv amr; do
		file=$WORK/self.$fmt
		[ -s "$file" ] || continue
		rig_ua python3 "$HERE/rtp_media.py" record 50000 \
			"$WORK/self.$fmt.dump" >"$WORK/self.log" &
		pid=$!
		for ((c = 0; c < 50; c++)); do
			grep -qs listening "$WORK/self.log" && break
			sleep 0.1
		done
		rig_ua ffmpeg -nostdin -loglevel error -i "$file" -c copy \
			-f rtp rtp://127.0.0.1:50000 >/dev/null
		wait "$pid" || true
		a=$(python3 "$HERE/rtp_media.py" analyze "$fmt" \
			"$WORK/self.$fmt.dump" 50000 --es "$WORK/self.$fmt.es" || true)
		c=$(python3 "$HERE/rtp_media.py" cmpframes "$fmt" "$file" \
			"$WORK/self.$fmt.es" || true)
		a="$(field "$a" error)$(field "$c" error)"
		case $(field "$c" first_diff) in
		none|"$(field "$c" got_frames)") ;;
		*) a+="frame $(field "$c" first_diff) differs" ;;
		esac
		check "rtp_media.py takes ffmpeg's $fmt packets apart" "$a" ""
		check "rtp_media.py: ffmpeg's $fmt packets held frames" \
			"$(($(field "$c" got_frames) * 2 > $(field "$c" want_frames)))" 1
	done
}

# RFC 4240 section 3.4 on the first m= line: PLAYS plays of equal
# packets, DELAY ms apart.  The whole capture moves to dump.all.txt and
# dump.txt keeps the first play, on which the one-play checks then run.
check_plays()
{
	local fmt=$1 plays=$2 delay=$3 a

	mv "$ROWDIR/dump.txt" "$ROWDIR/dump.all.txt"
	a=$(python3 "$HERE/rtp_media.py" plays "$fmt" "$ROWDIR/dump.all.txt" \
		"$RTP_PORT" "$plays" "$delay" --first "$ROWDIR/dump.txt" || true)
	note "$ROW: $a"
	check "$ROW: $plays equal plays" "$(field "$a" error)" ""
	PER_PLAY=$(field "$a" per_play)
	check "$ROW: one SSRC, sequence +1 across the plays" \
		"$(field "$a" ssrcs) $(field "$a" seq_steps)" "1 1"
	check "$ROW: each play's timestamps those of its frames" \
		"$(field "$a" ts_bad)" 0
	check "$ROW: each play starts one span and ${delay} ms after the last" \
		"$(field "$a" gaps_bad)" 0
	if [ "$fmt" = mpv ]; then
		check "$ROW: markers where play 1 has them, none after a gap" \
			"$(field "$a" marks_bad)" 0
	else
		check "$ROW: a marker on each play's first packet, no other" \
			"$(field "$a" marks_bad)" 0
	fi
	check "$ROW: plays 2 on carry play 1's payloads" \
		"$(field "$a" plays_differ)" 0
}

# ---- one row -----------------------------------------------------------------

run_row()
{
	local name=$1 ctype=$2 make=$3 offer=$4 ptime=$5 steps=$6 how=$7
	local expect=$8
	local offers i spec video reason fails0=$FAILS kv plays=1 delay=0

	ROW=$name
	ROWDIR=$WORK/$name
	mkdir -p "$ROWDIR"
	SRC=$WORK/src8k.wav
	SKIP_WHY=
	unset ORIG_ES_0 ORIG_ES_1
	read -ra offers <<<"$offer"
	URI_PARAMS='' PER_PLAY=0
	for kv in $expect; do
		case $kv in
		repeat=*) plays=${kv#*=} ;;
		delay=*) delay=${kv#*=} ;;
		*) continue ;;
		esac
		URI_PARAMS+=";$kv"
		expect=${expect/"$kv"/}
	done
	# shellcheck disable=SC2086 # make is a function and its words
	if ! $make; then
		skip_row "${SKIP_WHY:-making the attachment failed}"
		return
	fi
	call_row "$ctype" "$ptime" "${offers[@]}"
	reason="$(field "$RESULT" result) $(field "$RESULT" reason)"
	case $(field "$RESULT" result) in
	415|488)
		skip_row "anncd answered $reason"
		return ;;
	esac
	check "$ROW: call answered, played, BYE" \
		"$(field "$RESULT" result) $(field "$RESULT" bye)" "200 yes"
	if [ "$(field "$RESULT" result)" != 200 ]; then
		sed 's/^/    /' "$ROWDIR/call.txt"
		ROWS_FAILED+=("$ROW")
		return
	fi
	[ -z "$URI_PARAMS" ] ||
		check_plays "$(offer_fmt "${offers[0]}")" "$plays" "$delay"
	rig_ua python3 "$HERE/rtp_media.py" replay "$ROWDIR/dump.txt" \
		"$RTP_PORT" "$REPLAY_PORT" "$ROWDIR" "${offers[@]}" >/dev/null
	for i in "${!offers[@]}"; do
		spec=${offers[i]}
		video=$([[ $spec == video:* ]] && echo 1 || echo 0)
		GOT_FMT=$(offer_fmt "$spec")
		check_wire "$i" "$spec" "$([ "$i" = 0 ] && echo "$steps" || echo -)"
		check_payloads "$i" "$GOT_FMT" "$([ "$i" = 0 ] && echo "$expect")" \
			"$spec"
		decode_got "$i" "$GOT_FMT" "$video" "$ptime"
		decode_want "$i" "$how" "$video"
		check_decoded "$i" "$how" "$video"
	done
	if [ "$FAILS" -eq "$fails0" ]; then
		ROWS_PASSED+=("$ROW")
	else
		ROWS_FAILED+=("$ROW")
	fi
}

skip_row()
{
	printf 'skip  %s: %s\n' "$ROW" "$1"
	ROWS_SKIPPED+=("$ROW ($1)")
}

wanted()
{
	local r

	[ "${#ONLY[@]}" -eq 0 ] && return 0
	for r in "${ONLY[@]}"; do [ "$r" = "$1" ] && return 0; done
	return 1
}

main()
{
	local name ctype make offer ptime steps how expect

	# FORMATS_KEEP=1 keeps the captures and decodes for a look afterwards
	STAGE_KEEP=${FORMATS_KEEP:-0}
	stage_begin
	for t in ffmpeg ffprobe sox espeak-ng tshark python3; do
		command -v "$t" >/dev/null || { note "$t missing: run scripts/deps"; exit 77; }
	done
	ANNCD_BIN=$ANNCD
	ANNCD_SIP_PORT=$SIP_PORT
	ROWS_PASSED=() ROWS_FAILED=() ROWS_SKIPPED=()

	stage_up cyrus
	make_sources
	check_checker
	stage_anncd

	while IFS='|' read -r name ctype make offer ptime steps how expect; do
		name=$(trim "$name")
		if [ -z "$name" ] || [ "${name:0:1}" = '#' ]; then
			continue
		fi
		wanted "$name" || continue
		run_row "$name" "$(trim "$ctype")" "$(trim "$make")" \
			"$(trim "$offer")" "$(trim "$ptime")" "$(trim "$steps")" \
			"$(trim "$how")" "$(trim "$expect")"
	done <<<"$ROWS"

	anncd_stop
	stage_sanitizer
	note "rows passed: ${ROWS_PASSED[*]:-none}"
	note "rows failed: ${ROWS_FAILED[*]:-none}"
	for name in "${ROWS_SKIPPED[@]}"; do note "row skipped: $name"; done
	if [ "$FAILS" -ne 0 ]; then
		note "anncd log:"
		tail -n 60 "$ANNCD_LOG"
		note "$FAILS checks failed"
		exit 1
	fi
	[ "${#ROWS_PASSED[@]}" -gt 0 ] || { note "no row ran"; exit 77; }
	note "all checks passed"
}

main "$@"
