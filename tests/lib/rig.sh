# shellcheck shell=bash
# shellcheck disable=SC2034 # the RIG_ variables are for the sourcing script
# The network rig of the demo and the integration tests: two network
# namespaces joined by one veth pair, addresses in 198.18.0.0/15 only.
#
#   MS (the server host)  lo up (Cyrus on 127.0.0.1), veth RIG_MSVETH with
#                         198.18.0.1/24 owned by the kernel: SIP on ordinary
#                         sockets. anncd's dataplane runs net_af_packet on
#                         the same veth and answers ARP itself for the media
#                         address 198.18.0.10, which the kernel does not own.
#   UA (the caller)       veth RIG_UAVETH with 198.18.0.2/24, transmit
#                         checksum offload off (af_packet on the far side
#                         would see partial checksums otherwise).
#
# IPv6 is off on both veths: no router solicitations or DAD in captures.
# Names carry RIG_ID (default: this shell's PID), so runs never collide.
#
#   rig_up      -> RIG_MS RIG_UA RIG_MSVETH RIG_UAVETH RIG_MS_EXEC RIG_UA_EXEC
#                  RIG_SIP_IP RIG_MEDIA_IP RIG_UA_IP RIG_PLEN
#                  RIG_MSMAC RIG_UAMAC
#   rig_ms CMD, rig_ua CMD   run CMD in that namespace
#   rig_ping    true when UA reaches the SIP address
#   rig_down    deletes the namespaces (and with them the veths)
#   rig_arping  true when someone answers ARP for the media address
#
# Uses cleanup.sh: the namespaces are registered for the exit trap.

RIG_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/lib/cleanup.sh
. "$RIG_LIB_DIR/cleanup.sh"

RIG_ID=${RIG_ID:-$$}
RIG_MS=anncd-ms-$RIG_ID
RIG_UA=anncd-ua-$RIG_ID
RIG_MSVETH=ms$RIG_ID
RIG_UAVETH=ua$RIG_ID
RIG_MS_EXEC="ip netns exec $RIG_MS"
RIG_UA_EXEC="ip netns exec $RIG_UA"
RIG_SIP_IP=198.18.0.1
RIG_MEDIA_IP=198.18.0.10
RIG_UA_IP=198.18.0.2
RIG_PLEN=24
RIG_MSMAC=
RIG_UAMAC=
RIG_MADE=()

# Run a command in the server host MS, or in the caller UA.
rig_ms()
{
	ip netns exec "$RIG_MS" "$@"
}

rig_ua()
{
	ip netns exec "$RIG_UA" "$@"
}

rig_fail()
{
	printf 'rig: %s\n' "$*" >&2
	return 1
}

# Make one namespace, refusing one that exists: it would not be ours.
rig_add_netns()
{
	if [ -e "/run/netns/$1" ]; then
		rig_fail "namespace $1 exists already"
		return 1
	fi
	ip netns add "$1"
	RIG_MADE+=("$1")
	cleanup_add_netns "$1"
	ip -n "$1" link set lo up
	# Interfaces created from now on start with IPv6 off (a kernel
	# without IPv6 has no such setting, and no noise either).
	ip netns exec "$1" sysctl -qw net.ipv6.conf.default.disable_ipv6=1 \
		2>/dev/null || true
}

rig_up()
{
	local v

	for v in "$RIG_MSVETH" "$RIG_UAVETH"; do
		if [ "${#v}" -gt 15 ]; then
			rig_fail "interface name $v is over 15 characters"
			return 1
		fi
	done
	if [ "$(id -u)" -ne 0 ]; then
		rig_fail "namespaces need root"
		return 1
	fi

	rig_add_netns "$RIG_MS" || return 1
	rig_add_netns "$RIG_UA" || return 1
	ip -n "$RIG_MS" link add "$RIG_MSVETH" type veth \
		peer name "$RIG_UAVETH" netns "$RIG_UA"

	rig_ms sysctl -qw "net.ipv6.conf.$RIG_MSVETH.disable_ipv6=1" \
		2>/dev/null || true
	rig_ua sysctl -qw "net.ipv6.conf.$RIG_UAVETH.disable_ipv6=1" \
		2>/dev/null || true
	rig_ua ethtool -K "$RIG_UAVETH" tx off >/dev/null

	ip -n "$RIG_MS" addr add "$RIG_SIP_IP/$RIG_PLEN" dev "$RIG_MSVETH"
	ip -n "$RIG_UA" addr add "$RIG_UA_IP/$RIG_PLEN" dev "$RIG_UAVETH"
	ip -n "$RIG_MS" link set "$RIG_MSVETH" up
	ip -n "$RIG_UA" link set "$RIG_UAVETH" up

	rig_wait_up || return 1

	RIG_MSMAC=$(rig_ms cat "/sys/class/net/$RIG_MSVETH/address")
	RIG_UAMAC=$(rig_ua cat "/sys/class/net/$RIG_UAVETH/address")
}

# Both ends report carrier within 5 s (a veth comes up asynchronously).
rig_wait_up()
{
	local i ms ua

	for ((i = 0; i < 50; i++)); do
		ms=$(rig_ms cat "/sys/class/net/$RIG_MSVETH/operstate")
		ua=$(rig_ua cat "/sys/class/net/$RIG_UAVETH/operstate")
		[ "$ms" = up ] && [ "$ua" = up ] && return 0
		sleep 0.1
	done
	rig_fail "veth $RIG_MSVETH/$RIG_UAVETH did not come up"
}

# Reachability of the kernel side: UA pings the SIP address (bounded).
rig_ping()
{
	rig_ua ping -q -c 1 -W 2 "$RIG_SIP_IP" >/dev/null
}

# Does anything answer ARP for the media address (anncd's dataplane)?
rig_arping()
{
	rig_ua arping -q -c 1 -w 2 -I "$RIG_UAVETH" "$RIG_MEDIA_IP"
}

rig_down()
{
	local i

	for ((i = ${#RIG_MADE[@]} - 1; i >= 0; i--)); do
		ip netns delete "${RIG_MADE[i]}" 2>/dev/null || true
	done
	RIG_MADE=()
}
