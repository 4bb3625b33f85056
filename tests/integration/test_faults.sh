#!/usr/bin/env bash
# The fetch side of anncd under load and under faults, on the rig of
# test_call.sh (a private Cyrus IMAP and anncd in one namespace, the
# callers in another):
#
#  - a burst of calls for one URL from one socket (sip_burst.py) costs
#    one URLFETCH over one IMAP connection, and every call is answered
#    and hung up;
#  - Cyrus killed while it sends a large literal: the call gets 404 with
#    the lost connection as its cause, and the next fetch works;
#  - faults no real server can be made to produce, from a scripted one
#    (imap_script_server.py): a 4 GiB literal, a literal length beyond
#    64 bits, a BYE inside a literal, binary junk and an endless line, a
#    tagged NO, silence; each a 404 with its cause and anncd unharmed.
#
# Every run of anncd must end holding no content, with no sanitizer
# report in its log.  Times in here are bounds, never assertions.
#
#   test_faults.sh ANNCD ANNCD_CALL
set -euo pipefail

ANNCD_BIN=$1
CALL=$2
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
HERE=$TOP/tests/integration
# shellcheck source=tests/lib/stage.sh
. "$TOP/tests/lib/stage.sh"
# shellcheck source=tests/lib/syn.sh
. "$TOP/tests/lib/syn.sh"

BURST=1000		# calls for one URL at once
DISTINCT=100		# distinct URLs fetched at once
BURST_SIP_PORT=5070	# sip_burst.py's, in the caller namespace
RTP_PORT=30000		# the callers'
RESULT=
SMALL_UID=		# the spoken voice mail
SMALL_AU=
SCRIPT_PORT=		# imap_script_server.py's
SCRIPT_PID=
ANNCD_RUNS=0		# anncd start-ups, each ending with its "stopped" line

field()
{
	kv_field "$RESULT" "$1"
}

start_anncd()
{
	anncd_start "$@" || exit 1
	ANNCD_RUNS=$((ANNCD_RUNS + 1))
}

# A port nothing listens on in the server namespace, for the scripted
# server.
pick_script_port()
{
	local i port

	for ((i = 0; i < 50; i++)); do
		port=$((20000 + RANDOM % 10000))
		[ "$port" != "$CYRUS_PORT" ] || continue
		if [ -z "$(rig_ms ss -Hltn "sport = :$port")" ]; then
			SCRIPT_PORT=$port
			return 0
		fi
	done
	note "no free port for the scripted server"
	exit 1
}

# call NAME ARGS...: anncd-call from the server namespace (IMAP on its
# loopback), SIP and RTP from the caller's; its result line in RESULT.
call()
{
	local name=$1

	shift
	rig_ms timeout 120 "$CALL" --netns "$RIG_UA" --local "$RIG_UA_IP" \
		--server "$RIG_SIP_IP:$ANNCD_SIP_PORT" --rtp-port "$RTP_PORT" \
		"$@" </dev/null >"$WORK/$name.txt" 2>&1 || true
	RESULT=$(grep '^result=' "$WORK/$name.txt" | tail -n 1 || true)
	[ -n "$RESULT" ] || cat "$WORK/$name.txt" >&2
}

# The spoken voice mail through anncd, checked byte for byte by the
# caller, who makes its own pawn ticket.
call_small()
{
	call "$1" --imap "$CYRUS_HOST:$CYRUS_PORT" --user alice \
		--pass-file "$CYRUS_PASSDIR/alice.pass" --mailbox INBOX \
		--uid "$SMALL_UID"
	check "$2" "$(field result) $(field identical) $(field bye)" \
		"200 yes yes"
}

check_alive()
{
	check "$1: anncd still running" \
		"$(cleanup_alive "$ANNCD_PID" && echo yes)" yes
}

# ---- 1. many calls for one URL ----

check_burst()
{
	local url before line

	ANNCD_RTP_PORTS=40000-$((40000 + 2 * BURST + 999))
	start_anncd --imap-allow "$CYRUS_HOST:$CYRUS_PORT" \
		--max-calls $((BURST + 24))
	url=$(stage_url anonymous "$SMALL_UID")
	before=$(syn_count cyrus)
	rig_ua timeout 200 python3 "$HERE/sip_burst.py" --local "$RIG_UA_IP" \
		--sip-port "$BURST_SIP_PORT" --rtp-port "$RTP_PORT" \
		--server "$RIG_SIP_IP:$ANNCD_SIP_PORT" --count "$BURST" \
		--play-url "$url" --content-type audio/basic --cte base64 \
		--timeout 150 </dev/null >"$WORK/burst.txt" 2>&1 || true
	line=$(grep '^sent=' "$WORK/burst.txt" | tail -n 1 || true)
	note "$(grep '^sip-burst:' "$WORK/burst.txt" || true)"
	[ -n "$line" ] || cat "$WORK/burst.txt" >&2
	RESULT=$line
	check "burst: INVITEs sent" "$(field sent)" "$BURST"
	check "burst: answered 200" "$(field ok)" "$BURST"
	check "burst: refused or unanswered" \
		"$(field refused) $(field no_answer)" "0 0"
	check "burst: BYEs answered 200" "$(field bye_ok)" "$BURST"
	check "burst: IMAP connections to Cyrus" \
		"$(($(syn_count cyrus) - before))" 1
	anncd_counters_now || true
	note "$(grep -o 'counters lookups=.*' "$ANNCD_LOG" | tail -n 1)"
	check "burst: cache lookups" "$(anncd_counter lookups)" "$BURST"
	check "burst: URLFETCHes (misses)" "$(anncd_counter misses)" 1
	check "burst: IMAP connections counted by anncd" \
		"$(anncd_counter imap_connections)" 1
	anncd_stop
	ANNCD_RTP_PORTS=40000-40999
}

# N distinct pawn tickets for the small voice mail, one a line: each
# rump differs in its ;EXPIRE= (RFC 4467: the token covers the rump), and
# one GENURLAUTH command makes them all.
genurlauth_many()
{
	local n=$1 i exp cmd=GENURLAUTH

	for ((i = 0; i < n; i++)); do
		exp=$(date -u -d "@$(($(date +%s) + 3600 + i))" +%Y-%m-%dT%H:%M:%SZ)
		cmd+=" \"imap://alice@$CYRUS_HOST:$CYRUS_PORT/INBOX/;UID=$SMALL_UID/"
		cmd+=";SECTION=$MAIL_SECTION;EXPIRE=$exp;URLAUTH=anonymous\" INTERNAL"
	done
	cyrus_imap alice "$cmd" INBOX | grep -o '"imap://[^"]*"' | tr -d '"'
}

# 100 distinct URLs at once: 100 fetches, carried by the pool's
# connections (--imap-max-conns, pipelined) rather than one each.
check_distinct_urls()
{
	local before line

	genurlauth_many "$DISTINCT" >"$WORK/urls.txt"
	check "distinct: pawn tickets made" "$(sort -u "$WORK/urls.txt" | wc -l)" \
		"$DISTINCT"
	start_anncd --imap-allow "$CYRUS_HOST:$CYRUS_PORT" --imap-max-conns 4
	before=$(syn_count cyrus)
	rig_ua timeout 200 python3 "$HERE/sip_burst.py" --local "$RIG_UA_IP" \
		--sip-port "$BURST_SIP_PORT" --rtp-port "$RTP_PORT" \
		--server "$RIG_SIP_IP:$ANNCD_SIP_PORT" --count "$DISTINCT" \
		--urls "$WORK/urls.txt" --content-type audio/basic --cte base64 \
		--timeout 150 </dev/null >"$WORK/distinct.txt" 2>&1 || true
	line=$(grep '^sent=' "$WORK/distinct.txt" | tail -n 1 || true)
	[ -n "$line" ] || cat "$WORK/distinct.txt" >&2
	RESULT=$line
	check "distinct: answered 200" "$(field ok) $(field bye_ok)" \
		"$DISTINCT $DISTINCT"
	anncd_counters_now || true
	check "distinct: one URLFETCH per URL" "$(anncd_counter misses)" \
		"$DISTINCT"
	check "distinct: over at most --imap-max-conns connections" \
		"$(($(syn_count cyrus) - before <= 4 ? 1 : 0)) $(anncd_counter imap_connections)" \
		"1 $(($(syn_count cyrus) - before))"
	anncd_stop
}

# ---- 2. the IMAP server killed in the middle of a literal ----

# Bytes the server namespace's loopback has acknowledged to Cyrus on its
# connections (0 when there is none).
cyrus_bytes_acked()
{
	rig_ms ss -Htni state established "sport = :$CYRUS_PORT" |
		sed -n 's/.*bytes_acked:\([0-9]*\).*/\1/p' |
		awk '{ s += $1 } END { print s + 0 }'
}

kill_imapd_children()
{
	local pid

	for pid in $(ps -o pid= --ppid "$CYRUS_PID"); do
		kill -KILL "$pid" 2>/dev/null || true
	done
}

check_killed_mid_literal()
{
	local big_uid url caller i

	sox -n -r 8000 -c 1 -e mu-law "$WORK/big.au" synth 300 whitenoise
	mail_build_message "$WORK/big.au" "$WORK/big.eml"
	mail_deliver "$MAIL_EML"
	big_uid=$MAIL_UID
	url=$(stage_url anonymous "$big_uid")

	start_anncd --imap-allow "$CYRUS_HOST:$CYRUS_PORT"
	# The literal (3.3 MB) at 1 MB/s, and at most 64 KB of it in the
	# server's socket: killed, Cyrus leaves most of it unsent.  tbf
	# drops what exceeds its bucket: the loopback's packets must fit.
	rig_ms sysctl -qw net.ipv4.tcp_wmem="4096 16384 65536"
	rig_ms ip link set lo mtu 1500
	rig_ms tc qdisc add dev lo root tbf rate 8mbit burst 32kbit \
		latency 400ms
	rig_ms timeout 120 "$CALL" --netns "$RIG_UA" --local "$RIG_UA_IP" \
		--server "$RIG_SIP_IP:$ANNCD_SIP_PORT" --sip-port 5064 \
		--rtp-port $((RTP_PORT + 10)) --play-url "$url" \
		--content-type audio/basic --cte base64 --timeout 60 \
		</dev/null >"$WORK/killed.txt" 2>&1 &
	caller=$!
	cleanup_add_pid "$caller"
	# Part of the literal has gone: Cyrus is in the middle of it.
	for ((i = 0; i < 200; i++)); do
		[ "$(cyrus_bytes_acked)" -ge 262144 ] && break
		sleep 0.05
	done
	note "Cyrus had sent $(cyrus_bytes_acked) bytes when killed"
	kill_imapd_children
	wait "$caller" || true
	cleanup_kill_pid "$caller" 1
	RESULT=$(grep '^result=' "$WORK/killed.txt" | tail -n 1 || true)
	[ -n "$RESULT" ] || cat "$WORK/killed.txt" >&2
	check "Cyrus killed in a literal: refused with the cause" \
		"$(field result) $(field reason)" \
		"404 IMAP server closed the connection mid-literal"
	rig_ms tc qdisc del dev lo root
	rig_ms ip link set lo mtu 65536
	rig_ms sysctl -qw net.ipv4.tcp_wmem="4096 16384 4194304"
	check_alive "Cyrus killed in a literal"

	call_small after-kill "the next fetch after the kill: played"
	anncd_counters_now || true
	check "Cyrus killed in a literal: one fetch each" \
		"$(anncd_counter misses) $(anncd_counter imap_connections)" "2 2"
	anncd_stop
}

# ---- 3. a scripted IMAP server ----

script_start()
{
	local i

	: >"$WORK/script-$1.log"
	ip netns exec "$RIG_MS" python3 "$HERE/imap_script_server.py" \
		"$SCRIPT_PORT" "$1" </dev/null >"$WORK/script-$1.log" 2>&1 &
	SCRIPT_PID=$!
	cleanup_add_pid "$SCRIPT_PID"
	for ((i = 0; i < 100; i++)); do
		grep -q '^listening' "$WORK/script-$1.log" && return 0
		cleanup_alive "$SCRIPT_PID" || break
		sleep 0.1
	done
	cat "$WORK/script-$1.log" >&2
	note "scripted IMAP server did not start"
	exit 1
}

# scripted NAME SCENARIO CTE REASON: one call for the attachment on the
# scripted server, which answers its URLFETCH per SCENARIO.
scripted()
{
	local name=$1 scenario=$2 cte=$3 want=$4 before

	script_start "$scenario"
	before=$(syn_count script)
	call "script-$name" --play-url "$SCRIPT_URL" \
		--content-type audio/basic --cte "$cte"
	check "scripted $name: refused with the cause" \
		"$(field result) $(field reason)" "404 $want"
	check "scripted $name: one connection" \
		"$(($(syn_count script) - before))" 1
	check_alive "scripted $name"
	cleanup_kill_pid "$SCRIPT_PID" 5
}

# A pooled connection the server has just closed: the fetch sent on it
# goes once more on a new connection, and the call plays.
check_stale_pooled()
{
	local before

	script_start stale
	before=$(syn_count script)
	call stale-1 --play-url "${SCRIPT_URL}1" --content-type audio/PCMU \
		--cte base64
	check "stale pool: first call" "$(field result) $(field packets)" "200 10"
	call stale-2 --play-url "${SCRIPT_URL}2" --content-type audio/PCMU \
		--cte base64
	check "stale pool: second call, sent again on a new connection" \
		"$(field result) $(field packets)" "200 10"
	check "stale pool: two connections" "$(($(syn_count script) - before))" 2
	cleanup_kill_pid "$SCRIPT_PID" 5
}

check_scripted_faults()
{
	local url token

	url=$(stage_url anonymous "$SMALL_UID")
	SCRIPT_URL=${url/$CYRUS_HOST:$CYRUS_PORT/$CYRUS_HOST:$SCRIPT_PORT}
	token=${url##*:}
	# Failures are not remembered: each call below makes its own fetch.
	# The smallest decode slice: a byte of base64 per worker round.
	start_anncd --imap-allow "$CYRUS_HOST:$CYRUS_PORT,$CYRUS_HOST:$SCRIPT_PORT" \
		--imap-timeout-ms 2000 --cache-negative-ms 0 \
		--decode-slice-bytes 1

	scripted huge huge base64 \
		"bad URLFETCH response: literal of 4294967296 bytes over limit 16777216"
	check "scripted huge: no allocation tried" \
		"$(grep -c 'out of memory' "$ANNCD_LOG")" 0
	scripted overflow overflow base64 \
		"bad URLFETCH response: URLFETCH: literal length overflows"
	# Bytes inside a literal are data, the literal is cut short: base64
	# is decoded only once the literal is whole, so that comes first.
	scripted byemid-binary byemid binary \
		"IMAP server closed the connection mid-literal"
	scripted byemid-base64 byemid base64 \
		"IMAP server closed the connection mid-literal"
	# Whole literals the dataplane's decoder refuses.
	scripted badb64 badb64 base64 \
		"attachment is not base64: byte 0x2a at offset 30000"
	scripted cutb64 cutb64 base64 "attachment base64 is truncated"
	scripted junk junk base64 "IMAP response line too long"
	scripted no no base64 "URLFETCH refused"
	scripted silent silent base64 "IMAP server timed out"

	check_stale_pooled
	call_small after-script "after the scripted faults: played"
	check "the pawn-ticket token is not in anncd's log" \
		"$(grep -c "$token" "$ANNCD_LOG")" 0
	anncd_stop
}

# With failures remembered (the default): a part that cannot be played as
# the content-type one caller named is fetched anew for a caller naming
# another; and SIGTERM while a call waits on a fetch that never ends
# sends that call its 503 (RFC 3261 section 17.2.1: a final response).
check_types_and_shutdown()
{
	local caller i

	# The largest decode slice: a whole literal in one worker round.
	start_anncd --imap-allow "$CYRUS_HOST:$CYRUS_PORT,$CYRUS_HOST:$SCRIPT_PORT" \
		--decode-slice-bytes 1048576
	script_start stale
	call types-1 --play-url "${SCRIPT_URL}t" --content-type audio/basic \
		--cte base64
	check "raw mu-law asked as audio/basic" "$(field result)" 415
	call types-2 --play-url "${SCRIPT_URL}t" --content-type audio/PCMU \
		--cte base64
	check "the same URL asked as audio/PCMU: fetched anew, played" \
		"$(field result) $(field packets)" "200 10"
	cleanup_kill_pid "$SCRIPT_PID" 5

	script_start silent
	rig_ms timeout 60 "$CALL" --netns "$RIG_UA" --local "$RIG_UA_IP" \
		--server "$RIG_SIP_IP:$ANNCD_SIP_PORT" --rtp-port "$RTP_PORT" \
		--play-url "${SCRIPT_URL}s" --content-type audio/PCMU \
		--cte base64 --timeout 20 </dev/null >"$WORK/shutdown.txt" 2>&1 &
	caller=$!
	for ((i = 0; i < 100; i++)); do
		grep -q '^connection from' "$WORK/script-silent.log" && break
		sleep 0.1
	done
	anncd_stop
	wait "$caller" || true
	RESULT=$(grep '^result=' "$WORK/shutdown.txt" | tail -n 1 || true)
	check "SIGTERM during a fetch: the caller's final response" \
		"$(field result) $(field reason)" "503 Server shutting down"
	check "SIGTERM during a fetch: its outcome line" \
		"$(grep -c 'result=503 Server shutting down' "$ANNCD_LOG")" 1
	cleanup_kill_pid "$SCRIPT_PID" 5
}

# One past each edge of the decode slice stops anncd at start-up, with
# the option and the value named.
check_slice_limits()
{
	local v rc out

	cleanup_add_dir "/var/run/dpdk/anncd-test-cfg-$$"
	for v in 0 1048577; do
		rc=0
		out=$("$ANNCD_BIN" --no-huge -m 64 --no-shconf --no-pci -l 0,1 \
			"--file-prefix=anncd-test-cfg-$$" -- \
			--media-ip 198.18.0.10 --decode-slice-bytes "$v" \
			</dev/null 2>&1) || rc=$?
		check "--decode-slice-bytes $v refused" "$rc $(grep -c \
			"decode-slice-bytes: '$v' is not a number in 1..1048576" \
			<<<"$out")" "2 1"
	done
}

main()
{
	stage_begin
	stage_up
	pick_script_port
	SMALL_UID=$MAIL_UID
	SMALL_AU=$MAIL_AU
	syn_setup anncdfaults "cyrus=$CYRUS_PORT" "script=$SCRIPT_PORT"
	note "voice mail $(wc -c <"$SMALL_AU") bytes, UID $SMALL_UID"

	check_slice_limits
	check_burst
	check_distinct_urls
	check_killed_mid_literal
	check_scripted_faults
	check_types_and_shutdown

	stage_sanitizer
	check "contents released at every exit" \
		"$(grep -c 'stopped: 0 contents still held' "$ANNCD_LOG")" \
		"$ANNCD_RUNS"
	stage_verdict 200
}

main "$@"
