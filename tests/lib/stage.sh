# shellcheck shell=bash
# shellcheck disable=SC2034 # WORK and TSHARK_PID are for the sourcing script
# The stage every integration script sets up before its checks: a work
# folder removed at exit, the rig's namespaces, a private Cyrus in the
# server namespace holding alice's voice mail, pawn-ticket URLs of it, anncd
# started against that Cyrus, and a capture of the caller's wire; and the
# verdict that ends the script.
#
#   stage_begin             root, or exit 77; the exit trap; WORK (under
#                           /tmp, removed at exit unless STAGE_KEEP=1);
#                           ANNCD_LOG (WORK/anncd.log, empty)
#   stage_up [LEVEL [DIR]]  LEVEL rig: rig_up only; cyrus: and Cyrus in the
#                           server namespace; mail (the default): and
#                           mail_voicemail DIR (default WORK) -> MAIL_UID
#                           MAIL_AU
#   stage_url [ACCESS [UID]]
#                           an RFC 4467 URLAUTH URL of section MAIL_SECTION
#                           of alice's message UID (default MAIL_UID), for
#                           ACCESS (default anonymous), made by alice
#   stage_anncd [options]   anncd_start with --imap-allow of that Cyrus and
#                           the options; exit 1 when it does not start
#   stage_capture PCAP [FILTER]
#                           tshark on the caller's veth into PCAP (its log
#                           beside it, tshark.log) -> TSHARK_PID
#   stage_sanitizer         the check that anncd's log holds no sanitizer
#                           report
#   stage_verdict [LINES]   on failed checks, anncd's log (its last LINES
#                           lines, or all) and exit 1; else "all checks
#                           passed"
#   note TEXT               TEXT on stdout after STAGE_NAME (default: the
#                           script's name)
#
# Uses rig.sh, check.sh, cyrus.sh, mail.sh and anncd.sh (ANNCD_BIN is the
# script's to set).

STAGE_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/lib/rig.sh
. "$STAGE_LIB_DIR/rig.sh"
# shellcheck source=tests/lib/check.sh
. "$STAGE_LIB_DIR/check.sh"
# shellcheck source=tests/lib/cyrus.sh
. "$STAGE_LIB_DIR/cyrus.sh"
# shellcheck source=tests/lib/mail.sh
. "$STAGE_LIB_DIR/mail.sh"
# shellcheck source=tests/lib/anncd.sh
. "$STAGE_LIB_DIR/anncd.sh"

STAGE_NAME=${STAGE_NAME:-$(basename "$0" .sh)}
STAGE_KEEP=${STAGE_KEEP:-0}
STAGE_CAPTURE_TRIES=300	# tenths of a second for tshark to start
WORK=
TSHARK_PID=

note()
{
	printf '%s: %s\n' "$STAGE_NAME" "$*"
}

stage_begin()
{
	[ "$(id -u)" -eq 0 ] || { note "needs root"; exit 77; }
	cleanup_trap
	WORK=$(mktemp -d "/tmp/anncd-${STAGE_NAME#test_}.XXXXXX")
	if [ "$STAGE_KEEP" = 1 ]; then
		note "keeping $WORK"
	else
		cleanup_add_dir "$WORK"
	fi
	ANNCD_LOG=$WORK/anncd.log
	: >"$ANNCD_LOG"
}

# shellcheck disable=SC2120 # every argument is optional
stage_up()
{
	local level=${1:-mail} dir=${2:-$WORK}

	case $level in
	rig | cyrus | mail) ;;
	*)
		note "stage_up: level '$level' is not rig, cyrus or mail"
		exit 1
		;;
	esac
	rig_up || exit 1
	[ "$level" != rig ] || return 0
	CYRUS_EXEC=$RIG_MS_EXEC
	cyrus_start || exit 1
	[ "$level" != cyrus ] || return 0
	mail_voicemail "$dir" || exit 1
}

# shellcheck disable=SC2120 # every argument is optional
stage_url()
{
	local access=${1:-anonymous} uid=${2:-$MAIL_UID} rump

	rump="imap://alice@$CYRUS_HOST:$CYRUS_PORT/INBOX/;UID=$uid/"
	rump+=";SECTION=$MAIL_SECTION;URLAUTH=$access"
	cyrus_imap alice "GENURLAUTH \"$rump\" INTERNAL" INBOX |
		sed -n 's/^\* GENURLAUTH "\([^"]*\)".*/\1/p'
}

# shellcheck disable=SC2120 # every argument is optional
stage_anncd()
{
	anncd_start --imap-allow "$CYRUS_HOST:$CYRUS_PORT" "$@" || exit 1
}

stage_capture()
{
	local pcap=$1 log i

	log=$(dirname "$pcap")/tshark.log
	shift
	# ip netns exec, not rig_ua: $! must be tshark itself, to stop it.
	ip netns exec "$RIG_UA" tshark -q -i "$RIG_UAVETH" ${1:+-f "$1"} \
		-w "$pcap" >"$log" 2>&1 &
	TSHARK_PID=$!
	cleanup_add_pid "$TSHARK_PID"
	for ((i = 0; i < STAGE_CAPTURE_TRIES; i++)); do
		if grep -qs 'Capturing on' "$log"; then
			# the note comes as the capture starts, not once it runs
			sleep 0.3
			return 0
		fi
		sleep 0.1
	done
	cat "$log" >&2
	note "tshark did not start"
	exit 1
}

stage_sanitizer()
{
	check "sanitizer reports in anncd's log" \
		"$(grep -cE 'Sanitizer|runtime error' "$ANNCD_LOG")" 0
}

# shellcheck disable=SC2120 # every argument is optional
stage_verdict()
{
	local lines=${1:-}

	if [ "$FAILS" -ne 0 ]; then
		if [ -n "$lines" ]; then
			note "anncd log (last $lines lines):"
			tail -n "$lines" "$ANNCD_LOG"
		else
			note "anncd log:"
			cat "$ANNCD_LOG"
		fi
		note "$FAILS checks failed"
		exit 1
	fi
	note "all checks passed"
}
