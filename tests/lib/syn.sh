# shellcheck shell=bash
# TCP SYNs leaving the server namespace, counted per destination port by
# nftables: a refusal that must not contact an IMAP server leaves its
# counter as it was, and a connection pool shows as few SYNs.
#
#   syn_setup TABLE NAME=PORT...   one counter per NAME, in table TABLE
#   syn_count NAME                 SYNs counted so far for NAME
#
# Uses rig.sh (rig_ms); the table goes with the namespace.

SYN_TABLE=

syn_setup()
{
	local rules="" kv

	SYN_TABLE=$1
	shift
	for kv in "$@"; do
		rules+="tcp dport ${kv#*=} tcp flags syn counter"
		rules+=" comment \"${kv%%=*}\"; "
	done
	rig_ms nft -f - <<EOF
table inet $SYN_TABLE {
	chain out {
		type filter hook output priority 0;
		$rules
	}
}
EOF
}

syn_count()
{
	rig_ms nft list chain inet "$SYN_TABLE" out |
		sed -n "s/.*packets \([0-9]*\) .*comment \"$1\".*/\1/p"
}
