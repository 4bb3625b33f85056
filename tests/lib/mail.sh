# shellcheck shell=bash
# shellcheck disable=SC2034 # the MAIL_ variables are for the sourcing script
# A voice-mail message for the demo and the integration tests: real speech
# from espeak-ng as a Sun .au file (mu-law, 8 kHz, mono: what a PCMU stream
# carries unchanged), attached base64-encoded to a multipart/mixed message
# and appended to alice's INBOX on the Cyrus of cyrus.sh.
#
#   mail_make_voice DIR          -> MAIL_WAV, MAIL_AU (DIR/voicemail.au)
#   mail_build_message AU EML [TYPE]
#                                -> EML; the attachment is section 2, of
#                                   content-type TYPE (default audio/basic)
#   mail_deliver EML             -> MAIL_UID (the APPENDUID of the message)
#   mail_voicemail DIR           all three: DIR/voicemail.au, DIR/message.eml
#   mail_au_audio AU             the audio of AU (the file less its header)
#   mail_au_bytes AU             how many bytes of audio AU holds
#
# MAIL_TEXT may be set to change what is spoken.

MAIL_TEXT=${MAIL_TEXT:-"You have one new voice message, from extension two \
zero four. Hello Alice, this is Bob. Please call me back."}
MAIL_SECTION=2
MAIL_WAV=
MAIL_AU=
MAIL_EML=
MAIL_UID=

mail_make_voice()
{
	local dir=$1

	MAIL_WAV=$dir/voicemail.wav
	MAIL_AU=$dir/voicemail.au
	espeak-ng -v en -s 150 -w "$MAIL_WAV" "$MAIL_TEXT"
	sox -q "$MAIL_WAV" -r 8000 -c 1 -e mu-law "$MAIL_AU"
}

# Print stdin with CRLF line ends.
mail_crlf()
{
	sed 's/$/\r/'
}

# mail_build_message FILE EML [CONTENT-TYPE]: a voice mail with FILE as
# its attachment, audio/basic unless said otherwise.
mail_build_message()
{
	local au=$1 eml=$2 ctype=${3:-audio/basic} boundary name

	boundary="=_anncd_$(date +%s)_$$"
	name=$(basename "$au")
	MAIL_EML=$eml
	{
		mail_crlf <<EOF
From: Bob <bob@example.org>
To: Alice <alice@example.org>
Subject: Voice message from extension 204
Date: $(LC_ALL=C date -R)
Message-ID: <voicemail.$(date +%s).$$@example.org>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="$boundary"

This is a multi-part message in MIME format.

--$boundary
Content-Type: text/plain; charset=us-ascii
Content-Transfer-Encoding: 7bit

You have a new voice message (attached).

--$boundary
Content-Type: $ctype; name="$name"
Content-Transfer-Encoding: base64
Content-Disposition: attachment; filename="$name"

EOF
		# RFC 2045: base64 in lines of at most 76 characters.
		base64 -w 76 "$au" | mail_crlf
		printf '\r\n--%s--\r\n' "$boundary"
	} >"$eml"
}

# APPEND EML to alice's INBOX; MAIL_UID from the server's APPENDUID.
mail_deliver()
{
	local eml=$1 out uid

	out=$(cyrus_exec curl -sS -v --max-time 20 -T "$eml" \
		"imap://$CYRUS_HOST:$CYRUS_PORT/INBOX" \
		-u "alice:$(cyrus_pass alice)" 2>&1) || {
		printf 'mail: APPEND failed:\n%s\n' "$out" >&2
		return 1
	}
	uid=$(printf '%s\n' "$out" | sed -n 's/.*\[APPENDUID [0-9]* \([0-9]*\)\].*/\1/p')
	if [ -z "$uid" ]; then
		printf 'mail: no APPENDUID in the answer:\n%s\n' "$out" >&2
		return 1
	fi
	MAIL_UID=$uid
}

mail_voicemail()
{
	local dir=$1

	mail_make_voice "$dir"
	mail_build_message "$MAIL_AU" "$dir/message.eml"
	mail_deliver "$MAIL_EML"
}

# A Sun .au header gives its own length in its second big-endian 32-bit
# word; the audio follows it.
mail_au_audio()
{
	local off

	off=$(od -An -tu4 --endian=big -j 4 -N 4 "$1" | tr -d ' ')
	tail -c +"$((off + 1))" "$1"
}

mail_au_bytes()
{
	local off

	off=$(od -An -tu4 --endian=big -j 4 -N 4 "$1" | tr -d ' ')
	echo $(($(stat -c %s "$1") - off))
}
