#!/usr/bin/env bash
# The RFC 4475 torture messages as datagrams to a running anncd: each one
# answered as RFC 4475 expects of a user agent server (sip_torture.py
# holds the table), none of them harming anncd, which still answers an
# OPTIONS, exits cleanly and leaves no sanitizer report in its log.  The
# messages are the RFC's own, in tests/data/rfc4475.
#
#   test_rfc4475.sh ANNCD
set -euo pipefail

ANNCD=$1
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
HERE=$TOP/tests/integration
# shellcheck source=tests/lib/rig.sh
. "$TOP/tests/lib/rig.sh"
# shellcheck source=tests/lib/check.sh
. "$TOP/tests/lib/check.sh"
# shellcheck source=tests/lib/anncd.sh
. "$TOP/tests/lib/anncd.sh"

WORK=

note()
{
	printf 'test_rfc4475: %s\n' "$*"
}

main()
{
	local out

	[ "$(id -u)" -eq 0 ] || { note "needs root"; exit 77; }
	cleanup_trap
	WORK=$(mktemp -d /tmp/anncd-test.XXXXXX)
	cleanup_add_dir "$WORK"
	ANNCD_BIN=$ANNCD
	ANNCD_LOG=$WORK/anncd.log

	rig_up
	anncd_start --log-level info || exit 1
	out=$(rig_ua python3 "$HERE/sip_torture.py" \
		--to "$RIG_SIP_IP:$ANNCD_SIP_PORT" \
		--data "$TOP/tests/data/rfc4475") || true
	printf '%s\n' "$out"
	check "torture messages answered as RFC 4475 expects" \
		"$(printf '%s\n' "$out" | tail -n 1 | sed -n 's/.*failed=//p')" 0
	check "anncd alive after the torture messages" \
		"$(cleanup_alive "$ANNCD_PID" && echo yes)" yes
	anncd_stop
	check "sanitizer reports in anncd's log" \
		"$(grep -cE 'Sanitizer|runtime error' "$ANNCD_LOG")" 0
	check "contents released at exit" \
		"$(grep -c ' 0 contents still held' "$ANNCD_LOG")" 1
	if [ "$FAILS" -ne 0 ]; then
		note "anncd log:"
		cat "$ANNCD_LOG"
		note "$FAILS checks failed"
		exit 1
	fi
	note "all checks passed"
}

main "$@"
