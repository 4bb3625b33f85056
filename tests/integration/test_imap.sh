#!/usr/bin/env bash
# The IMAP client against a real Cyrus with TLS: IMAPS and STARTTLS, the
# certificate checks (wrong name, untrusted CA), credentials only over TLS
# unless allowed, connection reuse and --imap-max-conns, every URLAUTH
# access kind, and the refusals a server gives (revoked key, no such
# message or section) or anncd gives itself (expired).  nftables counts
# the SYNs anncd sends to each Cyrus port.
#
#   test_imap.sh ANNCD ANNCD_CALL
set -euo pipefail

ANNCD=$1
CALL=$2
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=tests/lib/stage.sh
. "$TOP/tests/lib/stage.sh"
# shellcheck source=tests/lib/syn.sh
. "$TOP/tests/lib/syn.sh"

SIP_PORT=5060
RESULT=

field()
{
	kv_field "$1" "$2"
}

outcome()
{
	printf '%s %s' "$(field "$RESULT" result)" "$(field "$RESULT" reason)"
}

# Every start adds these: a fixed next hop, and the debug log lines.
start_anncd()
{
	anncd_start --nexthop-mac "$RIG_UAMAC" --log-level debug "$@" || exit 1
}

stop_anncd()
{
	cleanup_kill_pid "$ANNCD_PID" 10
}

# call NAME URL [anncd-call options...]: plays URL; result line in RESULT.
call()
{
	local name=$1 url=$2

	shift 2
	rig_ms timeout 120 "$CALL" --netns "$RIG_UA" --local "$RIG_UA_IP" \
		--server "$RIG_SIP_IP:$SIP_PORT" --play-url "$url" \
		--content-type audio/basic --cte base64 \
		--out "$WORK/$name.au" "$@" </dev/null >"$WORK/$name.txt" 2>&1 || true
	RESULT=$(grep '^result=' "$WORK/$name.txt" | tail -n 1 || true)
	[ -n "$RESULT" ] || cat "$WORK/$name.txt" >&2
}

# The audio of a .au file as hex.
au_hex()
{
	[ -s "$1" ] || return 0
	mail_au_audio "$1" | od -An -v -tx1 | tr -d ' \n'
}

heard_identical()
{
	[ "$(au_hex "$WORK/$1.au" | sha256sum)" = "$(au_hex "$MAIL_AU" | sha256sum)" ] &&
		echo yes || echo no
}

# genurl PORT ACCESS [EXTRA [UID [SECTION]]]: a pawn-ticket URL made by
# alice over the service on PORT (the imaps one has its own servername).
genurl()
{
	local port=$1 access=$2 extra=${3:-} uid=${4:-$MAIL_UID}
	local section=${5:-$MAIL_SECTION} rump fn=cyrus_imap

	[ "$port" = "$CYRUS_PORT" ] || fn=cyrus_imaps
	rump="imap://alice@$CYRUS_HOST:$port/INBOX/;UID=$uid/"
	rump+=";SECTION=$section$extra;URLAUTH=$access"
	"$fn" alice "GENURLAUTH \"$rump\" INTERNAL" INBOX |
		sed -n 's/^\* GENURLAUTH "\([^"]*\)".*/\1/p'
}

check_tls()
{
	local url s0 p0

	url=$(genurl "$CYRUS_PORT" anonymous)
	p0=$(syn_count plain)
	call starttls "$url"
	check "STARTTLS: answered" "$(outcome)" "200 OK"
	check "STARTTLS: what was heard is the attachment" \
		"$(heard_identical starttls)" yes
	call starttls2 "$url"
	check "STARTTLS again: answered" "$(field "$RESULT" result)" 200
	check "two calls, one connection" "$(($(syn_count plain) - p0))" 1
	check "URLFETCH with BINARY (RFC 5524)" \
		"$(grep -c 'ready, TLS, URLAUTH=BINARY' "$WORK/anncd.log")" 1

	url=$(genurl "$CYRUS_IMAPS_PORT" anonymous)
	s0=$(syn_count imaps)
	call imaps "$url"
	check "IMAPS: answered" "$(outcome)" "200 OK"
	check "IMAPS: what was heard is the attachment" \
		"$(heard_identical imaps)" yes
	check "IMAPS: one connection" "$(($(syn_count imaps) - s0))" 1

	call wrongname "${url/$CYRUS_HOST:/localhost:}"
	check "certificate for another name" "$(outcome)" \
		"404 IMAP TLS failed: certificate verify failed: hostname mismatch"
}

check_identities()
{
	local url

	url=$(genurl "$CYRUS_PORT" authuser)
	call authuser "$url"
	check "authuser with credentials over STARTTLS" "$(outcome)" "200 OK"
	url=$(genurl "$CYRUS_PORT" user+mediaserver)
	call userplus "$url"
	check "user+mediaserver" "$(outcome)" "200 OK"
	url=$(genurl "$CYRUS_PORT" submit+mediaserver)
	call submitplus "$url"
	check "submit+mediaserver (submitservers)" "$(outcome)" "200 OK"
	check "one connection per server and identity" \
		"$(grep -c 'ready, TLS' "$WORK/anncd.log")" 3

	url=$(genurl "$CYRUS_PORT" anonymous "/;PARTIAL=0.8192")
	# The first 8192 bytes of the decoded part, played as raw mu-law
	# (a cut .au file would be refused as unplayable).
	call partial "$url" --content-type audio/PCMU
	check "PARTIAL: exactly the range played" \
		"$(field "$RESULT" result) $(field "$RESULT" bytes)" "200 8192"

	url=$(genurl "$CYRUS_PORT" anonymous "" 999)
	call nouid "${url:-imap://alice@$CYRUS_HOST:$CYRUS_PORT/INBOX/;UID=999/;SECTION=2;URLAUTH=anonymous:internal:00}"
	check "no such UID" "$(field "$RESULT" result)" 404
	url=$(genurl "$CYRUS_PORT" anonymous "" "$MAIL_UID" 7)
	call nosection "${url:-imap://alice@$CYRUS_HOST:$CYRUS_PORT/INBOX/;UID=$MAIL_UID/;SECTION=7;URLAUTH=anonymous:internal:00}"
	check "no such section" "$(field "$RESULT" result)" 404
}

# Expired URLs are refused without a connection; RESETKEY revokes the
# URLs made before it.
check_expire_revoke()
{
	local url exp p0

	exp=$(date -u -d '+2 seconds' +%Y-%m-%dT%H:%M:%SZ)
	url=$(genurl "$CYRUS_PORT" anonymous ";EXPIRE=$exp")
	sleep 3
	p0=$(syn_count plain)
	call expired "$url"
	check "expired URL" "$(outcome)" "404 URL expired"
	check "expired URL: no connection" "$(syn_count plain)" "$p0"

	# A URL never fetched before: the content cache cannot answer it.
	exp=$(date -u -d '+1 hour' +%Y-%m-%dT%H:%M:%SZ)
	url=$(genurl "$CYRUS_PORT" anonymous ";EXPIRE=$exp")
	cyrus_imap alice "RESETKEY" INBOX >/dev/null
	call revoked "$url"
	check "URL revoked by RESETKEY" "$(outcome)" "404 URLFETCH returned NIL"
}

check_untrusted_ca()
{
	local url

	start_anncd --imap-allow "$CYRUS_HOST:$CYRUS_IMAPS_PORT/imaps" \
		--imap-ca "$CYRUS_OTHER_CA"
	url=$(genurl "$CYRUS_IMAPS_PORT" anonymous)
	call untrusted "$url"
	check "server certificate from an untrusted CA" "$(outcome)" \
		"404 IMAP TLS failed: certificate verify failed: unable to get local issuer certificate"
	stop_anncd
}

check_plaintext()
{
	local url p0

	url=$(genurl "$CYRUS_PORT" authuser)
	start_anncd --imap-allow "$CYRUS_HOST:$CYRUS_PORT" \
		--imap-credentials "$WORK/creds"
	p0=$(syn_count plain)
	call clear "$url"
	check "credentials over plaintext" "$(outcome)" \
		"404 IMAP server not on TLS: credentials withheld"
	check "credentials over plaintext: no connection" "$(syn_count plain)" "$p0"
	stop_anncd

	start_anncd --imap-allow "$CYRUS_HOST:$CYRUS_PORT/plain" \
		--imap-credentials "$WORK/creds" \
		--imap-plaintext-ok "$CYRUS_HOST:$CYRUS_PORT"
	call clearok "$url"
	check "credentials over plaintext with --imap-plaintext-ok" \
		"$(outcome)" "200 OK"
	stop_anncd
}

# Two calls at once with --imap-max-conns 1: the second waits, pipelined
# on the one connection.
check_max_conns()
{
	local url first p0

	url=$(genurl "$CYRUS_PORT" anonymous)
	start_anncd --imap-allow "$CYRUS_HOST:$CYRUS_PORT/starttls" \
		--imap-ca "$CYRUS_CA" --imap-max-conns 1
	p0=$(syn_count plain)
	rig_ms timeout 120 "$CALL" --netns "$RIG_UA" --local "$RIG_UA_IP" \
		--server "$RIG_SIP_IP:$SIP_PORT" --sip-port 5064 \
		--rtp-port 30010 --play-url "$url" --content-type audio/basic \
		--cte base64 </dev/null >"$WORK/first.txt" 2>&1 &
	first=$!
	call second "$url"
	wait "$first" || true
	check "second of two concurrent calls" "$(field "$RESULT" result)" 200
	RESULT=$(grep '^result=' "$WORK/first.txt" | tail -n 1)
	check "first of two concurrent calls" "$(field "$RESULT" result)" 200
	check "--imap-max-conns 1: one connection" "$(($(syn_count plain) - p0))" 1
	stop_anncd
}

main()
{
	stage_begin
	ANNCD_BIN=$ANNCD
	ANNCD_SIP_PORT=$SIP_PORT

	CYRUS_TLS=yes
	stage_up
	syn_setup anncdimap "plain=$CYRUS_PORT" "imaps=$CYRUS_IMAPS_PORT"
	printf '%s:%s mediaserver %s\n' "$CYRUS_HOST" "$CYRUS_PORT" \
		"$(cyrus_pass mediaserver)" >"$WORK/creds"
	chmod 600 "$WORK/creds"

	start_anncd --imap-allow "$CYRUS_HOST:$CYRUS_PORT/starttls,$CYRUS_HOST:$CYRUS_IMAPS_PORT/imaps,localhost:$CYRUS_IMAPS_PORT/imaps" \
		--imap-ca "$CYRUS_CA" --imap-credentials "$WORK/creds"
	check_tls
	check_identities
	check_expire_revoke
	stop_anncd
	check_untrusted_ca
	check_plaintext
	check_max_conns
	stage_sanitizer
	stage_verdict
}

main "$@"
