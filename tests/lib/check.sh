# shellcheck shell=bash
# The verdicts of the integration scripts: one line per check, "ok" or
# "FAIL" with what was got and wanted; FAILS counts the failures for the
# script's exit status.
#
#   check DESCRIPTION GOT WANT

FAILS=0

check()
{
	if [ "$2" = "$3" ]; then
		printf 'ok    %s\n' "$1"
	else
		printf 'FAIL  %s: got "%s", want "%s"\n' "$1" "$2" "$3"
		FAILS=$((FAILS + 1))
	fi
}
