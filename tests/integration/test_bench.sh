#!/usr/bin/env bash
# anncd-bench against anncd on real parts, a few dozen calls: every call
# answered, every stream received whole (each packet of the attachment,
# sequence and timestamp steps, the marker first) and ended by anncd's BYE;
# then calls that hang up themselves, which anncd must log as such.  Counts
# only, no timings.
#
#   test_bench.sh ANNCD ANNCD_BENCH
set -euo pipefail

ANNCD=$1
BENCH=$2
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=tests/lib/bench_rig.sh
. "$TOP/tests/lib/bench_rig.sh"

WHOLE_CALLS=40		# played to the end, each stream checked
HANGUP_CALLS=20		# our BYE 300 ms after the 200

# log_count PATTERN WANT: the lines of anncd's log with PATTERN, once
# there are WANT of them or 5 s have passed (the bench may exit before
# anncd has read its last answer).
log_count()
{
	local i n=0

	for ((i = 0; i < 50; i++)); do
		n=$(grep -c "$1" "$ANNCD_LOG" || true)
		[ "$n" -lt "$2" ] || break
		sleep 0.1
	done
	printf '%s' "$n"
}

# bench NAME ARGS...: the last line of anncd-bench goes to RESULT.
bench()
{
	local name=$1

	shift
	bench_run --json "$WORK/$name.json" "$@" >"$WORK/$name.txt" \
		2>"$WORK/$name.err" || true
	RESULT=$(tail -n 1 "$WORK/$name.txt")
	cat "$WORK/$name.txt"
}

check_whole()
{
	local f

	bench whole --cps 20 --calls "$WHOLE_CALLS" --full-every 1 \
		--rtp-sockets 2 --call-ms-max "$((BENCH_AUDIO_MS + 20000))" \
		--plot "$WORK"
	for f in calls answered streams_checked streams_complete; do
		check "whole calls: $f" "$(kv_field "$RESULT" "$f")" "$WHOLE_CALLS"
	done
	for f in failed lost seq_errors ts_errors stray_rtp; do
		check "whole calls: $f" "$(kv_field "$RESULT" "$f")" 0
	done
	check "whole calls: RTP packets" "$(kv_field "$RESULT" rtp_packets)" \
		"$((WHOLE_CALLS * BENCH_PACKETS))"
	check "whole calls: the rate held" "$(kv_field "$RESULT" cps)" 20
	check "whole calls: played, as anncd logged" \
		"$(log_count "packets=$BENCH_PACKETS result=played" \
			"$WHOLE_CALLS")" "$WHOLE_CALLS"
	check "whole calls: JSON" "$(python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
print(d["steps"][0]["streams"]["complete"], d["steps"][0]["setup_ms"]["n"])' \
		"$WORK/whole.json")" "$WHOLE_CALLS $WHOLE_CALLS"
	# every packet but a stream's first has its gap counted, the ones
	# over the histogram's range apart
	check "whole calls: inter-arrival gaps" \
		"$(($(awk '{ n += $2 } END { print n }' "$WORK/interarrival.dat") +
		$(python3 -c 'import json, sys
print(json.load(open(sys.argv[1]))["interarrival"]["over"])' \
			"$WORK/whole.json")))" "$((WHOLE_CALLS * (BENCH_PACKETS - 1)))"
	if command -v gnuplot >/dev/null; then
		check "plots drawn" "$(find "$WORK" -maxdepth 1 -name "*.png" | wc -l)" 3
	fi
}

check_hangup()
{
	local cpu=/proc/$ANNCD_PID/task/$ANNCD_PID/schedstat us

	bench hangup --cps 20 --calls "$HANGUP_CALLS" --full-every 0 \
		--hold-ms 300 --sip-port 5072 --rtp-port 31000 \
		--server-cpu "$cpu"
	check "hang-ups: answered" "$(kv_field "$RESULT" answered)" \
		"$HANGUP_CALLS"
	check "hang-ups: failed" "$(kv_field "$RESULT" failed)" 0
	check "hang-ups: RTP came before our BYE" \
		"$(($(kv_field "$RESULT" rtp_packets) >= HANGUP_CALLS))" 1
	# the control thread ran for each call set up, and not a second
	us=$(kv_field "$RESULT" ctl_us_per_setup)
	check "hang-ups: control CPU per setup measured" \
		"$(awk -v u="$us" 'BEGIN { print (u > 0 && u < 1e6) }')" 1
	check "hang-ups: a schedstat that is not there is refused" \
		"$(bench_run --cps 1 --calls 1 --server-cpu /proc/0/schedstat \
			>/dev/null 2>&1; echo $?)" 2
	check "hang-ups: logged by anncd" \
		"$(log_count 'result=caller hung up' "$HANGUP_CALLS")" \
		"$HANGUP_CALLS"
}

main()
{
	stage_begin
	ANNCD_BIN=$ANNCD
	BENCH_BIN=$BENCH

	bench_rig_up "$WORK"
	stage_anncd
	check_whole
	check_hangup
	anncd_stop
	stage_sanitizer
	stage_verdict 50
}

main "$@"
