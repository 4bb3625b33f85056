# shellcheck shell=bash
# A private Cyrus IMAP server with URLAUTH for the demo and the integration
# tests: its own configuration, spool and SASL users in a short temporary
# folder, listening on 127.0.0.1:CYRUS_PORT only, optionally inside a
# network namespace. Needs root (the master drops to the cyrus user).
#
# Set before cyrus_start (all optional):
#   CYRUS_EXEC   command prefix to run inside, e.g. "ip netns exec NS"
#   CYRUS_PORT   port; default: a free one in 20000-29999
# Set by cyrus_start:
#   CYRUS_HOST CYRUS_PORT CYRUS_DIR CYRUS_PID CYRUS_PASSDIR CYRUS_LOG
# Users and their test-only passwords, also in CYRUS_PASSDIR/USER.pass:
#   alice/alicepw (owns user.alice), mediaserver/mediapw, cyrus/cyruspw
#   (the admin). Anonymous login is allowed.
#
# TLS, when CYRUS_TLS=yes before cyrus_start: a test CA and a server
# certificate for IP 127.0.0.1 made with openssl in CYRUS_DIR/tls, STARTTLS
# on CYRUS_PORT, and an imaps service (implicit TLS) on CYRUS_IMAPS_PORT
# with its own servername 127.0.0.1:CYRUS_IMAPS_PORT, so that its URLs name
# that port. Set by cyrus_start then:
#   CYRUS_CA         the CA that signed the server's certificate
#   CYRUS_OTHER_CA   a CA that signed nothing of this server
#   CYRUS_IMAPS_PORT (default CYRUS_PORT + 2)
#
# Uses cleanup.sh: the server and its folder are registered for the trap.

CYRUS_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/lib/cleanup.sh
. "$CYRUS_LIB_DIR/cleanup.sh"

CYRUS_BIN=/usr/lib/cyrus/bin
CYRUS_HOST=127.0.0.1
CYRUS_EXEC=${CYRUS_EXEC:-}
CYRUS_PORT=${CYRUS_PORT:-}
CYRUS_DIR=
CYRUS_PID=
CYRUS_PASSDIR=
CYRUS_LOG=
CYRUS_TLS=${CYRUS_TLS:-}
CYRUS_IMAPS_PORT=${CYRUS_IMAPS_PORT:-}
CYRUS_CA=
CYRUS_OTHER_CA=

# Run a command under CYRUS_EXEC (inside the namespace, if one is set).
cyrus_exec()
{
	local -a pre=()

	read -ra pre <<<"$CYRUS_EXEC"
	"${pre[@]}" "$@"
}

cyrus_pick_port()
{
	local i port

	for ((i = 0; i < 50; i++)); do
		port=$((20000 + RANDOM % 10000))
		if [ -z "$(cyrus_exec ss -Hltn "sport = :$port")" ]; then
			CYRUS_PORT=$port
			return 0
		fi
	done
	echo "cyrus: no free port found" >&2
	return 1
}

cyrus_write_config()
{
	local c=$CYRUS_DIR

	mkdir -p "$c/conf" "$c/spool" "$c/run/proc" "$c/run/lock" \
		"$c/run/socket"
	# servername is the host:port text of every URL: Cyrus compares it
	# as a string, and the SASL realm of the users must equal it.
	cat >"$c/imapd.conf" <<EOF
configdirectory: $c/conf
partition-default: $c/spool
defaultpartition: default
proc_path: $c/run/proc
mboxname_lockpath: $c/run/lock
lmtpsocket: $c/run/socket/lmtp
idlesocket: $c/run/socket/idle
notifysocket: $c/run/socket/notify
servername: $CYRUS_HOST:$CYRUS_PORT
admins: cyrus
altnamespace: no
unixhierarchysep: no
allowplaintext: yes
allowanonymouslogin: yes
sasl_mech_list: PLAIN LOGIN ANONYMOUS
sasl_pwcheck_method: auxprop
sasl_auxprop_plugin: sasldb
sasl_sasldb_path: $c/sasldb2
submitservers: mediaserver
EOF
	cat >"$c/cyrus.conf" <<EOF
START {
  recover cmd="$CYRUS_BIN/ctl_cyrusdb -C $c/imapd.conf -r"
}
SERVICES {
  imap cmd="$CYRUS_BIN/imapd -C $c/imapd.conf" listen="$CYRUS_HOST:$CYRUS_PORT" prefork=0 maxchild=20
}
EVENTS {
}
EOF
	[ "$CYRUS_TLS" != yes ] || cyrus_tls_config
}

cyrus_add_user()
{
	local user=$1 pass=$2

	printf '%s' "$pass" | saslpasswd2 -p -c -f "$CYRUS_DIR/sasldb2" \
		-u "$CYRUS_HOST:$CYRUS_PORT" "$user"
	# The imaps service has its own servername, hence its own realm.
	[ "$CYRUS_TLS" != yes ] ||
		printf '%s' "$pass" | saslpasswd2 -p -c -f "$CYRUS_DIR/sasldb2" \
			-u "$CYRUS_HOST:$CYRUS_IMAPS_PORT" "$user"
	printf '%s' "$pass" >"$CYRUS_PASSDIR/$user.pass"
}

# The password of USER, as written by cyrus_start.
cyrus_pass()
{
	cat "$CYRUS_PASSDIR/$1.pass"
}

# Read the server greeting once; true when it is "* OK".
cyrus_greets()
{
	local line

	# shellcheck disable=SC2016 # expanded by the inner shell
	line=$(cyrus_exec timeout 2 bash -c \
		'exec 3<>"/dev/tcp/$0/$1" && IFS= read -r l <&3 && printf "%s" "$l"' \
		"$CYRUS_HOST" "$CYRUS_PORT" 2>/dev/null) || return 1
	[[ $line == "* OK"* ]]
}

# Run one IMAP command as USER through curl and print the server's untagged
# answer. PATH selects a mailbox ("INBOX"); curl fails on NO or BAD.
#   cyrus_imap USER COMMAND [PATH] [extra curl options...]
cyrus_imap()
{
	local user=$1 cmd=$2 path=${3:-}

	shift $(($# < 3 ? $# : 3))
	cyrus_exec curl -sS --max-time 20 \
		"imap://$CYRUS_HOST:$CYRUS_PORT/$path" \
		-u "$user:$(cyrus_pass "$user")" -X "$cmd" "$@"
}

# URLFETCH one URL as anonymous and print the raw session (untagged answer,
# literal included). curl cannot do this: it offers no SASL ANONYMOUS and,
# while the server lists PLAIN, never falls back to the LOGIN command.
cyrus_anon_urlfetch()
{
	# shellcheck disable=SC2016 # expanded by the inner shell
	cyrus_exec timeout 20 bash -c '
		exec 3<>"/dev/tcp/$0/$1" || exit 1
		printf "a LOGIN anonymous anonymous\r\nb URLFETCH \"%s\"\r\nc LOGOUT\r\n" "$2" >&3
		cat <&3' "$CYRUS_HOST" "$CYRUS_PORT" "$1"
}

# cyrus_tls_cert DIR NAME CA [SAN]: a P-256 key and certificate NAME.pem
# in DIR, self-signed as a CA when CA is empty, else signed by DIR/CA.pem.
cyrus_tls_cert()
{
	local dir=$1 name=$2 ca=$3 san=${4:-}

	if [ -z "$ca" ]; then
		openssl req -x509 -config /dev/null -newkey ec \
			-pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
			-subj "/CN=anncd test $name" \
			-addext "basicConstraints=critical,CA:TRUE" \
			-addext "keyUsage=critical,keyCertSign,cRLSign" \
			-keyout "$dir/$name.key" -out "$dir/$name.pem" 2>/dev/null
		return
	fi
	openssl req -new -config /dev/null -newkey ec \
		-pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$name" \
		-keyout "$dir/$name.key" -out "$dir/$name.csr" 2>/dev/null &&
	printf 'subjectAltName=%s\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' \
		"$san" >"$dir/$name.ext" &&
	openssl x509 -req -in "$dir/$name.csr" -CA "$dir/$ca.pem" \
		-CAkey "$dir/$ca.key" -CAcreateserial -days 2 \
		-extfile "$dir/$name.ext" -out "$dir/$name.pem" 2>/dev/null
}

# Certificates, the TLS options and the imaps service (see the top).
cyrus_tls_config()
{
	local c=$CYRUS_DIR t=$CYRUS_DIR/tls

	mkdir -p "$t"
	if ! { cyrus_tls_cert "$t" ca "" &&
		cyrus_tls_cert "$t" otherca "" &&
		cyrus_tls_cert "$t" server ca "IP:$CYRUS_HOST"; }; then
		echo "cyrus: making the test certificates failed" >&2
		return 1
	fi
	CYRUS_CA=$t/ca.pem
	# shellcheck disable=SC2034 # for the sourcing script
	CYRUS_OTHER_CA=$t/otherca.pem
	chown -R cyrus:mail "$t"
	cat >>"$c/imapd.conf" <<EOF
tls_server_cert: $t/server.pem
tls_server_key: $t/server.key
EOF
	sed "s/^servername: .*/servername: $CYRUS_HOST:$CYRUS_IMAPS_PORT/" \
		"$c/imapd.conf" >"$c/imapd-s.conf"
	sed -i "/^  imap cmd=/a\\
  imaps cmd=\"$CYRUS_BIN/imapd -s -C $c/imapd-s.conf\" listen=\"$CYRUS_HOST:$CYRUS_IMAPS_PORT\" prefork=0 maxchild=20" \
		"$c/cyrus.conf"
}

# Like cyrus_imap, over implicit TLS to the imaps service, checking its
# certificate against CYRUS_CA.
cyrus_imaps()
{
	local user=$1 cmd=$2 path=${3:-}

	shift $(($# < 3 ? $# : 3))
	cyrus_exec curl -sS --max-time 20 --cacert "$CYRUS_CA" \
		"imaps://$CYRUS_HOST:$CYRUS_IMAPS_PORT/$path" \
		-u "$user:$(cyrus_pass "$user")" -X "$cmd" "$@"
}

# Start the server, wait up to 10 s for its greeting, create user.alice.
cyrus_start()
{
	local i
	local -a pre=()

	[ -x "$CYRUS_BIN/master" ] || {
		echo "cyrus: $CYRUS_BIN/master missing: run scripts/deps" >&2
		return 1
	}
	[ -n "$CYRUS_PORT" ] || cyrus_pick_port || return 1
	[ "$CYRUS_TLS" != yes ] || [ -n "$CYRUS_IMAPS_PORT" ] ||
		CYRUS_IMAPS_PORT=$((CYRUS_PORT + 2))

	# Short: Cyrus puts unix sockets in it (108-byte path limit).
	CYRUS_DIR=$(mktemp -d /tmp/cy.XXXXXX)
	cleanup_add_dir "$CYRUS_DIR"
	chmod 755 "$CYRUS_DIR"
	CYRUS_PASSDIR=$CYRUS_DIR/pass
	mkdir -m 700 "$CYRUS_PASSDIR"
	CYRUS_LOG=$CYRUS_DIR/master.log

	cyrus_write_config
	cyrus_add_user alice alicepw
	cyrus_add_user mediaserver mediapw
	cyrus_add_user cyrus cyruspw
	chmod 640 "$CYRUS_DIR/sasldb2"
	chown -R cyrus:mail "$CYRUS_DIR/conf" "$CYRUS_DIR/spool" \
		"$CYRUS_DIR/run" "$CYRUS_DIR/sasldb2" "$CYRUS_DIR/imapd.conf" \
		"$CYRUS_DIR/cyrus.conf"
	[ "$CYRUS_TLS" != yes ] || chown -R cyrus:mail "$CYRUS_DIR/tls" \
		"$CYRUS_DIR/imapd-s.conf"

	# The master in the foreground of a background job: its PID is ours
	# to stop. A plain command, not a function, so that the job's PID is
	# the master itself (ip netns exec and env exec in place). TZ=UTC
	# because URLAUTH expire= is compared in UTC.
	read -ra pre <<<"$CYRUS_EXEC"
	"${pre[@]}" env TZ=UTC "$CYRUS_BIN/master" -C "$CYRUS_DIR/imapd.conf" \
		-M "$CYRUS_DIR/cyrus.conf" -p "$CYRUS_DIR/run/master.pid" -D \
		-L "$CYRUS_LOG" </dev/null >"$CYRUS_DIR/master.out" 2>&1 &
	CYRUS_PID=$!
	cleanup_add_pid "$CYRUS_PID"

	for ((i = 0; i < 100; i++)); do
		cyrus_greets && break
		if ! cleanup_alive "$CYRUS_PID"; then
			echo "cyrus: master exited; log $CYRUS_LOG:" >&2
			cat "$CYRUS_LOG" "$CYRUS_DIR/master.out" >&2
			return 1
		fi
		sleep 0.1
	done
	cyrus_greets || {
		echo "cyrus: no greeting on $CYRUS_HOST:$CYRUS_PORT in 10 s" >&2
		return 1
	}

	cyrus_imap cyrus 'CREATE user.alice' >/dev/null || {
		echo "cyrus: CREATE user.alice failed" >&2
		return 1
	}
}

# Stop the master by its PID; it stops its imapd children.
cyrus_stop()
{
	[ -n "$CYRUS_PID" ] || return 0
	cleanup_kill_pid "$CYRUS_PID" 10
	CYRUS_PID=
}
