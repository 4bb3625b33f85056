#!/usr/bin/env bash
# Requests within a call end to end, on the rig of test_call.sh (real
# Cyrus, anncd on net_af_packet): hold and resume by re-INVITE with the
# RTP timestamp run on over the hold, the answer's o= version one up, a
# redirect to a new port, 491 for a re-INVITE before the last one's ACK,
# a re-INVITE without SDP, a call begun inactive and resumed, UPDATE and
# INFO, session timers (422 with Min-SE, refresher=uac, the BYE of an
# unrefreshed session), where anncd's requests go (Contact, target
# refresh, loose and strict Record-Route) and anncd as refresher (UPDATE
# or re-INVITE, answered 200, 481 or not at all).  The caller is
# sip_dialog.py; tshark checks the hold on the wire too.
#
#   test_dialog.sh ANNCD
set -euo pipefail

ANNCD=$1
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
HERE=$TOP/tests/integration
# shellcheck source=tests/lib/stage.sh
. "$TOP/tests/lib/stage.sh"

SIP_PORT=5060
BASE_PORT=40000
OUT=
PCAP=

field()
{
	kv_field "$OUT" "$1"
}

# The hold call's RTP on the wire: the largest gap between two packets
# in ms, and the timestamp step across it in ms of an 8 kHz clock.
check_wire()
{
	local gap

	sleep 1
	cleanup_kill_pid "$TSHARK_PID" 10
	gap=$(tshark -r "$PCAP" -o rtp.heuristic_rtp:TRUE \
		-Y "rtp && ip.src == $RIG_MEDIA_IP && udp.dstport == $BASE_PORT" \
		-T fields -e frame.time_epoch -e rtp.timestamp |
		awk 'NR > 1 { g = ($1 - t) * 1000;
			      s = (($2 - ts + 4294967296) % 4294967296) / 8;
			      if (g > best) { best = g; step = s } }
		     { t = $1; ts = $2 }
		     END { d = best - step; if (d < 0) d = -d;
			   print (best > 1000 && d < 150) ? "yes" : "no " best " " step }')
	check "wire: RTP stops on hold, its timestamp runs on" "$gap" yes
	check "wire: the re-INVITE's 200 says inactive" \
		"$(tshark -r "$PCAP" -Y 'sip.Status-Code == 200 &&
			sip.CSeq.seq == 2 && sip.CSeq.method == "INVITE" &&
			sdp.media_attr == "inactive"' | wc -l | tr -d ' ' |
			sed 's/^[1-9][0-9]*$/yes/')" yes
}

check_results()
{
	check "hold: 200" "$(field hold.status)" 200
	check "hold: o= version one up" "$(field hold.version)" 2
	check "hold: answered inactive" "$(field hold.dir)" inactive
	check "hold: no RTP" "$(field hold.rtp_on_hold)" 0
	check "resume: 200, version 3, sending" \
		"$(field resume.status) $(field resume.version) $(field resume.dir)" \
		"200 3 sendonly"
	check "resume: RTP again" "$(field resume.rtp)" yes
	check "resume: timestamp on by the held time" \
		"$(field resume.ts_step_matches_gap)" yes
	check "resume: marker on the first packet" "$(field resume.marker)" 1
	check "re-INVITE before the last one's ACK: 491" \
		"$(field glare.status)" 491
	check "hold call hung up" "$(field hold.bye)" 200
	check "redirect: 200" "$(field redirect.status)" 200
	check "redirect: nothing more to the old port" \
		"$(field redirect.old_port_after)" 0
	check "redirect: RTP on the new port" "$(field redirect.new_port)" yes
	check "offer without the stream's format: 488, Warning 305" \
		"$(field refused.status) $(field refused.warning)" "488 305"
	check "after the 488 the stream goes on" \
		"$(field refused.rtp_goes_on)" yes
	check "session timer: answered refresher=uac" \
		"$(field refresh.status) $(field refresh.se) $(field refresh.require)" \
		"200 90;refresher=uac timer"
	check "Supported: timer in the 2xx" "$(field refresh.supported)" timer
	check "Allow lists UPDATE and INFO" "$(field refresh.allow)" \
		"INVITE,ACK,BYE,CANCEL,OPTIONS,UPDATE,INFO"
	check "UPDATE refresh: 200 with Session-Expires" \
		"$(field update.status) $(field update.se)" "200 90;refresher=uac"
	check "INFO: 200" "$(field info.status)" 200
	check "UPDATE with an inactive offer: answered inactive, version 2" \
		"$(field update_offer.status) $(field update_offer.dir) $(field update_offer.version)" \
		"200 inactive 2"
	check "UPDATE for no dialog: 481" "$(field update_nodialog.status)" 481
	check "re-INVITE without SDP: our offer, version 2" \
		"$(field late.status) $(field late.version) $(field late.offer_dir)" \
		"200 2 sendonly"
	check "re-INVITE without SDP: inactive answer in the ACK holds" \
		"$(field late.rtp_after_inactive_answer)" 0
	check "begun inactive: answered inactive, no RTP" \
		"$(field inactive.dir) $(field inactive.rtp)" "inactive 0"
	check "begun inactive: resumed by a sendrecv re-INVITE" \
		"$(field inactive.resume_status) $(field inactive.resume_dir) $(field inactive.resumed_rtp)" \
		"200 sendonly yes"
	check "Session-Expires under Min-SE: 422 with Min-SE" \
		"$(field small.status) $(field small.min_se)" "422 90"
	check "unrefreshed session: BYE from anncd" "$(field expiry.bye)" yes
	# RFC 4028 section 10: 30 s before the 90 s end; the loop's tick
	# and the scheduling of two namespaces allow a second either way.
	check "unrefreshed session: BYE after 60 s" \
		"$(( $(field expiry.bye_after_s) >= 59 && $(field expiry.bye_after_s) <= 61 ))" 1
	# Two: this one and uas_500's, whose refresh failed.
	check "expired sessions' outcome" \
		"$(grep -c 'result=session expired' "$ANNCD_LOG")" 2
	check "every refusal acknowledged" \
		"$(kill -USR1 "$ANNCD_PID"; sleep 1; grep 'counters transactions=' \
		"$ANNCD_LOG" | tail -n 1 | sed -n 's/.* timed_out=\([0-9]*\).*/\1/p')" 0
}

# Where anncd's requests go (RFC 3261 section 12.2.1.1).  Scenario n of
# sip_dialog.py calls from port 5300+n; its second socket is 5400+n.
check_routes()
{
	local ua=$RIG_UA_IP

	check "BYE to the Contact's port" "$(field contact.bye_ruri)" \
		"sip:dialog@$ua:5407"
	check "no BYE to the INVITE's source" "$(field contact.bye_at_source)" 0
	check "BYE's Via: our UDP address" "$(field contact.bye_via)" \
		"SIP/2.0/UDP_$RIG_SIP_IP:$SIP_PORT"
	check "target refresh: re-INVITE 200" "$(field target.reinvite)" 200
	check "target refresh: BYE to the new Contact" \
		"$(field target.bye_ruri)" "sip:dialog@$ua:5408"
	check "target refresh: no BYE to the old one" \
		"$(field target.bye_at_old)" 0
	check "loose route: BYE at the proxy, Request-URI the Contact" \
		"$(field loose.bye_ruri) $(field loose.bye_route)" \
		"sip:dialog@$ua:5309 <sip:$ua:5409;lr>"
	check "loose route: the 200 carries the Record-Route" \
		"$(field loose.rr_in_200)" "<sip:$ua:5409;lr>"
	check "8 kB of Record-Route: 200 with all three, BYE with each" \
		"$(field rr_big)" "200,3,3"
	check "loose route: nothing to the Contact" \
		"$(field loose.bye_at_contact)" 0
	check "strict route: proxy as Request-URI, Contact as Route" \
		"$(field strict.bye_ruri) $(field strict.bye_route)" \
		"sip:$ua:5410 <sip:dialog@$ua:5310>"
	check "Contact transport=tcp: BYE over TCP" \
		"$(field tcp.bye_over_tcp)" "sip:dialog@$ua:5319;transport=tcp"
	# No TCP listener: the Via names the host alone.
	check "Contact transport=tcp: the BYE's Via" \
		"$(field tcp.bye_via)" "SIP/2.0/TCP_$RIG_MEDIA_IP"
	check "Contact transport=tcp: no BYE over UDP" \
		"$(field tcp.bye_over_udp)" 0
	# Nothing listens at 5520: the connection for the BYE is refused,
	# and the call ends on that, not on the BYE's timer F.
	check "422 to every refresh: asked 1 + 8 times, then left" \
		"$(field uas_422.updates) $(field uas_422.caller_bye)" "9 200"
	check "BYE to a closed TCP port: the call answered" \
		"$(field tcp_lost.status)" 200
	check "BYE to a closed TCP port: not delivered, the call ended" \
		"$(grep -c 'BYE not delivered: Connection refused' "$ANNCD_LOG")" 1
	check "BYE to a closed TCP port: nothing over UDP" \
		"$(field tcp_lost.bye_over_udp)" 0
	check "Contact host name: BYE to the INVITE's source" \
		"$(field named.bye_ruri)" "sip:dialog@ua.invalid:5315"
	local hop='next hop sip:dialog@ua.invalid:5315: host name, requests'
	check "Contact host name: logged once, named" \
		"$(grep -c "$hop go to the INVITE.s source" "$ANNCD_LOG")" 1
}

# anncd as refresher (RFC 4028 section 10): the refresh at half of 90 s,
# within a second either way as for the expiry above.
check_refresher()
{
	local ua=$RIG_UA_IP s

	for s in uas_ok uas_481 uas_mute uas_inv uas_retry uas_500; do
		check "$s: answered refresher=uas" "$(field $s.se)" \
			"90;refresher=uas"
		check "$s: refresh after 45 s" \
			"$(( $(field $s.refresh_after_s) >= 44 && $(field $s.refresh_after_s) <= 46 ))" 1
		check "$s: refresh names anncd refresher" \
			"$(field $s.refresh_se)" "90;refresher=uac"
	done
	check "UPDATE to the Contact, no body, our Contact" \
		"$(field uas_ok.refresh_ruri) $(field uas_ok.update_body) $(field uas_ok.update_contact)" \
		"sip:dialog@$ua:5311 0 <sip:annc@$RIG_SIP_IP:$SIP_PORT>"
	check "UPDATE answered 200: the call goes on" \
		"$(field uas_ok.bye_after_200) $(field uas_ok.caller_bye)" "no 200"
	check "UPDATE answered 481: BYE, CSeq one up" \
		"$(field uas_481.cseqs)" "1,2"
	check "UPDATE unanswered: resent by timer E over 32 s" \
		"$(( $(field uas_mute.copies) >= 9 && $(field uas_mute.copies) <= 10 ))" 1
	check "UPDATE unanswered: BYE at timer F" \
		"$(( $(field uas_mute.bye_after_s) >= 31 && $(field uas_mute.bye_after_s) <= 34 ))" 1
	check "no UPDATE in Allow: re-INVITE with the same SDP" \
		"$(field uas_inv.same_sdp)" yes
	check "our re-INVITE meanwhile: 491" "$(field uas_inv.glare)" 491
	check "anncd's ACK of the 2xx: the INVITE's CSeq" \
		"$(field uas_inv.cseqs)" "1-INVITE,1-ACK"
	check "the call goes on after the re-INVITE" \
		"$(field uas_inv.caller_bye)" 200
	check "491: a new UPDATE 2.1 to 4 s later" \
		"$(( $(field uas_retry.after_491_ms) >= 2000 && $(field uas_retry.after_491_ms) <= 4500 ))" 1
	check "422: a new UPDATE with its Min-SE; CSeq one up each time" \
		"$(field uas_retry.cseqs) $(field uas_retry.se_after_422)" \
		"1,2,3 120;refresher=uac"
	check "then 200: the call goes on" \
		"$(field uas_retry.bye_after_200) $(field uas_retry.caller_bye)" \
		"no 200"
	check "500: the session runs to its expiry, then BYE" \
		"$(( $(field uas_500.bye_after_s) >= 44 && $(field uas_500.bye_after_s) <= 47 ))" 1
	check "outcome: refresh answered 481" \
		"$(grep -c 'result=session refresh answered 481' "$ANNCD_LOG")" 1
	check "outcome: refresh unanswered" \
		"$(grep -c 'result=session refresh unanswered' "$ANNCD_LOG")" 1
}

# --min-se-s just outside its range (RFC 4028 section 5 sets 90 as the
# floor): refused at start-up with the option named.
check_option_edges()
{
	local v out

	cleanup_add_dir "/var/run/dpdk/anncd-dlgopt-$$"
	for v in 89 86401; do
		out=$(timeout 30 "$ANNCD" --no-huge -m 64 --no-shconf --no-pci \
			--no-telemetry -l 0 "--file-prefix=anncd-dlgopt-$$" -- \
			--media-ip "$RIG_MEDIA_IP" --min-se-s "$v" 2>&1 || true)
		check "--min-se-s $v refused" "$(grep -c -- \
			"--min-se-s: '$v' is not a number in 90..86400" <<<"$out")" 1
	done
}

main()
{
	stage_begin
	PCAP=$WORK/wire.pcapng
	ANNCD_BIN=$ANNCD
	ANNCD_SIP_PORT=$SIP_PORT

	stage_up
	stage_anncd --max-repeat 100 --log-level debug
	stage_capture "$PCAP" udp
	OUT=$(rig_ua timeout 170 python3 "$HERE/sip_dialog.py" \
		--to "$RIG_SIP_IP:$SIP_PORT" --local "$RIG_UA_IP" \
		--url "$(stage_url)" --base-port "$BASE_PORT") || true
	printf '%s\n' "$OUT"
	check_wire
	check_results
	check_routes
	check_refresher
	anncd_stop
	check_option_edges
	check "no sanitizer report" \
		"$(grep -cE 'Sanitizer|runtime error' "$ANNCD_LOG")" 0
	if [ "$FAILS" -ne 0 ]; then
		note "anncd log:"
		cat "$ANNCD_LOG"
		note "$FAILS checks failed"
		exit 1
	fi
	note "all checks passed"
}

main "$@"
