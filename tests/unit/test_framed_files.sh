#!/usr/bin/env bash
# The framed-format parsers against files real tools make now: MP3 (lame)
# and MP2 at MPEG-1, MPEG-2 and MPEG-2.5 rates, MPEG-1 and MPEG-2 video
# with B pictures, elementary and in program streams with audio (ffmpeg),
# AMR from sox and AMR/AMR-WB with DTX from the reference encoders.  What
# framed_dump rebuilds from the RTP payloads is compared with what ffprobe
# reads from the same file.  Exit 77 when ffmpeg is not installed.
#
#   test_framed_files.sh FRAMED_DUMP AMR_ENC
set -euo pipefail

DUMP=$1
AMR_ENC=$2
command -v ffmpeg >/dev/null && command -v ffprobe >/dev/null || exit 77
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"
fails=0
passes=0

check()
{
	local what=$1 got=$2 want=$3

	if [ "$got" = "$want" ]; then
		passes=$((passes + 1))
	else
		printf 'FAIL %s: got %s, want %s\n' "$what" "$got" "$want"
		fails=$((fails + 1))
	fi
}

ff()
{
	ffmpeg -hide_banner -loglevel error -y "$@"
}

# Packet sizes ffprobe reads, one a line, in file order.
probe_sizes()
{
	ffprobe -v error -show_packets -of csv=p=0 \
		-show_entries packet=size "$@" | cut -d, -f1 | grep -E '^[0-9]+$'
}

# MPEG audio: every frame of ffprobe's, in order and of the same size,
# rebuilt from the packets (a fragment continues the frame before it);
# no payload over 1460 bytes.
check_mpa()
{
	local f=$1

	"$DUMP" audio/mpeg 0 "$f" >dump.txt
	awk '/^pkt/ { if ($10 == 0 && n++) print s; if ($10 == 0) s = 0;
		s += $4 - 4 } END { print s }' dump.txt >me.txt
	probe_sizes "$f" >ff.txt
	check "$f frames" "$(cmp -s me.txt ff.txt && echo same)" same
	check "$f largest payload <= 1460" \
		"$(awk '/^pkt/ && $4 > 1460' dump.txt | wc -l)" 0
}

audio_src=(-f lavfi -i "sine=frequency=440:duration=3")
ff "${audio_src[@]}" -ar 44100 -ac 2 -c:a libmp3lame -b:a 128k s44.mp3
ff "${audio_src[@]}" -ar 48000 -ac 1 -c:a libmp3lame -b:a 320k m48.mp3
ff "${audio_src[@]}" -ar 22050 -ac 1 -c:a libmp3lame -b:a 32k m22.mp3
ff "${audio_src[@]}" -ar 16000 -ac 2 -c:a libmp3lame -b:a 64k s16.mp3
ff "${audio_src[@]}" -ar 8000 -ac 1 -c:a libmp3lame -b:a 16k m8.mp3
ff "${audio_src[@]}" -ar 48000 -ac 2 -c:a mp2 -b:a 192k s48.mp2
ff "${audio_src[@]}" -ar 32000 -ac 2 -c:a mp2 -b:a 384k s32.mp2
for f in s44.mp3 m48.mp3 m22.mp3 s16.mp3 m8.mp3 s48.mp2 s32.mp2; do
	check_mpa "$f"
done
# 384 kbit/s at 32 kHz: 1728-byte frames, each sent in two fragments
"$DUMP" audio/mpeg 0 s32.mp2 >dump.txt
check "s32.mp2 second fragment offset" \
	"$(awk '/^pkt 1 /{print $10}' dump.txt)" 1456

# AMR: the frames with data, in order and of the size ffprobe reads
# (octet-aligned at 20 ms: CMR and TOC bytes before the storage frame's
# speech bytes, where the storage frame had one header byte).
check_amr()
{
	local type=$1 f=$2

	"$DUMP" "$type" 1 "$f" >dump.txt
	awk '/^pkt/ { print $4 - 1 }' dump.txt >me.txt
	probe_sizes "$f" | awk '$1 > 1' >ff.txt
	check "$f frames" "$(cmp -s me.txt ff.txt && echo same)" same
	"$DUMP" "$type" 0 "$f" >dump.txt
	check "$f bandwidth-efficient packets" \
		"$(grep -c '^pkt' dump.txt)" "$(wc -l <ff.txt)"
}

sox -n -r 8000 -c 1 -b 16 -e signed nb.raw synth 1 sine 300 : \
	synth 1 sine 0 : synth 0.5 sine 500
sox -n -r 16000 -c 1 -b 16 -e signed wb.raw synth 1 sine 300 : \
	synth 1 sine 0 : synth 0.5 sine 500
sox -r 8000 -c 1 -b 16 -e signed nb.raw sox.amr-nb
"$AMR_ENC" nb 7 1 nb.raw nb_dtx.amr
"$AMR_ENC" wb 8 1 wb.raw wb_dtx.amr
"$AMR_ENC" wb 2 0 wb.raw wb.amr
check_amr audio/amr sox.amr-nb
check_amr audio/amr nb_dtx.amr
check_amr audio/amr-wb wb_dtx.amr
check_amr audio/amr-wb wb.amr
check "nb_dtx.amr has NO_DATA frames" \
	"$(probe_sizes nb_dtx.amr | awk '$1 == 1' | wc -l | awk '$1 > 0')" \
	"$(probe_sizes nb_dtx.amr | awk '$1 == 1' | wc -l)"

# MPEG video: a picture per marker, as many of each type as ffprobe
# decodes, a sequence header (S) in the first packet of every I picture.
check_mpv()
{
	local f=$1

	"$DUMP" video/mpeg 0 "$f" >dump.txt
	ffprobe -v error -select_streams v -show_frames -of csv=p=0 \
		-show_entries frame=pict_type "$f" | cut -d, -f1 | grep -E '^[IPB]$' |
		sort | uniq -c | awk '{print $2 $1}' | tr '\n' ' ' >ff.txt
	awk '/ m 1 / { print substr("IPBD", $12, 1) }' dump.txt |
		sort | uniq -c | awk '{print $2 $1}' | tr '\n' ' ' >me.txt
	check "$f picture types" "$(cat me.txt)" "$(cat ff.txt)"
	check "$f I pictures without S" "$(awk '(NR == 1 || p ~ / m 1 /) &&
		/ type 1 sbe 0/ { n++ } { p = $0 } END { print n + 0 }' \
		dump.txt)" 0
	check "$f largest payload <= 1460" \
		"$(awk '/^pkt/ && $4 > 1460' dump.txt | wc -l)" 0
}

video_src=(-f lavfi -i "testsrc=size=352x288:rate=25:duration=2")
ff "${video_src[@]}" -c:v mpeg1video -bf 2 -g 12 -f mpeg1video v1.m1v
ff "${video_src[@]}" -c:v mpeg2video -bf 2 -g 12 -b:v 3M -f mpeg2video v2.m2v
ff "${video_src[@]}" -c:v mpeg2video -bf 0 -g 25 -sc_threshold 1000000000 \
	-f mpeg2video v2_ip.m2v
for f in v1.m1v v2.m2v v2_ip.m2v; do
	check_mpv "$f"
done

# Program streams: the video and the audio demultiplexed, each packet's
# timestamp one that ffprobe gives a frame of that stream (audio within
# a tick: both round 1152 samples at 44.1 kHz to 90 kHz), counted from
# the earliest of either stream.
check_ps()
{
	local f=$1 min

	check_mpv "$f"
	ffprobe -v error -show_frames -of csv=p=0 \
		-show_entries frame=stream_index,pts "$f" |
		awk -F, '$2 ~ /^[0-9]+$/ { print $1, $2 }' >ff.txt
	min=$(awk '{print $2}' ff.txt | sort -n | head -1)
	awk -v m="$min" '$1 == 0 { print $2 - m }' ff.txt | sort >ffv.txt
	awk '/ m 1 / { print $6 }' dump.txt | sort >mev.txt
	check "$f video timestamps" \
		"$(comm -23 ffv.txt mev.txt | wc -l)" 0
	check "$f video pictures" "$(wc -l <mev.txt)" \
		"$(ffprobe -v error -select_streams v -count_frames \
		   -show_entries stream=nb_read_frames -of csv=p=0 "$f" |
		   cut -d, -f1)"
	"$DUMP" video/mpeg 1 "$f" >dump.txt
	awk -v m="$min" '$1 == 1 { print $2 - m }' ff.txt >ffa.txt
	awk '/^pkt/ { print $6 }' dump.txt >mea.txt
	check "$f audio frames" "$(wc -l <mea.txt)" "$(wc -l <ffa.txt)"
	check "$f audio timestamps" "$(paste mea.txt ffa.txt |
		awk '{ d = $1 - $2; if (d > 1 || d < -1) n++ } END {print n+0}')" 0
}

av_src=("${video_src[@]}" -f lavfi -i "sine=frequency=440:duration=2")
ff "${av_src[@]}" -c:v mpeg2video -bf 2 -c:a mp2 -ar 48000 -f vob av.vob
ff "${av_src[@]}" -c:v mpeg1video -bf 2 -c:a mp2 -ar 44100 -f mpeg av.mpg
check_ps av.vob
check_ps av.mpg

printf '%d passed, %d failed\n' "$passes" "$fails"
[ "$fails" -eq 0 ]
