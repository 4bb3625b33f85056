/* Unit tests of the SIP message parser and response builder: hand-made
 * messages, RFC 4475 torture messages, and every input placed against a
 * guard page so that reading past the datagram crashes the test.
 */
#include <stdio.h>
#include <string.h>

#include "control/sip_msg.h"
#include "check.h"
#include "guard.h"

#define LIT(s)	(s), (sizeof(s) - 1)

/* RFC 4475 section 3.1.1.1, "A Short Tortuous INVITE" */
static const char wsinv[] =
	"INVITE sip:vivekg@chair-dnrc.example.com;unknownparam SIP/2.0\r\n"
	"TO :\r\n"
	" sip:vivekg@chair-dnrc.example.com ;   tag    = 1918181833n\r\n"
	"from   : \"J Rosenberg \\\\\\\"\"       <sip:jdrosen@example.com>\r\n"
	"  ;\r\n"
	"  tag = 98asjd8\r\n"
	"MaX-fOrWaRdS: 0068\r\n"
	"Call-ID: wsinv.ndaksdj@192.0.2.1\r\n"
	"Content-Length   : 150\r\n"
	"cseq: 0009\r\n"
	"  INVITE\r\n"
	"Via  : SIP  /   2.0\r\n"
	" /UDP\r\n"
	"    192.0.2.2;branch=390skdjuw\r\n"
	"s :\r\n"
	"NewFangledHeader:   newfangled value\r\n"
	" continued newfangled value\r\n"
	"UnknownHeaderWithUnusualValue: ;;,,;;,;\r\n"
	"Content-Type: application/sdp\r\n"
	"Route:\r\n"
	" <sip:services.example.com;lr;unknownwith=value;unknown-no-value>\r\n"
	"v:  SIP  / 2.0  / TCP     spindle.example.com   ;\r\n"
	"  branch  =   z9hG4bK9ikj8  ,\r\n"
	" SIP  /    2.0   / UDP  192.168.255.111   ; branch=\r\n"
	" z9hG4bK30239\r\n"
	"m:\"Quoted string \\\"\\\"\" <sip:jdrosen@example.com> ; newparam =\r\n"
	"      newvalue ;\r\n"
	"  secondparam ; q = 0.33\r\n"
	"\r\n"
	"v=0\r\n"
	"o=mhandley 29739 7272939 IN IP4 192.0.2.3\r\n"
	"s=-\r\n"
	"c=IN IP4 192.0.2.4\r\n"
	"t=0 0\r\n"
	"m=audio 49217 RTP/AVP 0 12\r\n"
	"m=video 3227 RTP/AVP 31\r\n"
	"a=rtpmap:31 LPC\r\n"
	;
/* RFC 4475 section 3.1.1.3, "Valid Use of the % Escaping Mechanism" */
static const char esc01[] =
	"INVITE sip:sips%3Auser%40example.com@example.net SIP/2.0\r\n"
	"To: sip:%75se%72@example.com\r\n"
	"From: <sip:I%20have%20spaces@example.net>;tag=938\r\n"
	"Max-Forwards: 87\r\n"
	"i: esc01.239409asdfakjkn23onasd0-3234\r\n"
	"CSeq: 234234 INVITE\r\n"
	"Via: SIP/2.0/UDP host5.example.net;branch=z9hG4bKkdjuw\r\n"
	"C: application/sdp\r\n"
	"Contact:\r\n"
	"  <sip:cal%6Cer@host5.example.net;%6C%72;n%61me=v%61lue%25%34%31>\r\n"
	"Content-Length: 150\r\n"
	"\r\n"
	"v=0\r\n"
	"o=mhandley 29739 7272939 IN IP4 192.0.2.1\r\n"
	"s=-\r\n"
	"c=IN IP4 192.0.2.1\r\n"
	"t=0 0\r\n"
	"m=audio 49217 RTP/AVP 0 12\r\n"
	"m=video 3227 RTP/AVP 31\r\n"
	"a=rtpmap:31 LPC\r\n"
	;
/* RFC 4475 section 3.1.1.2, "Wide Range of Valid Characters" */
static const char intmeth[] =
	"!interesting-Method0123456789_*+`.%indeed'~ sip:1_unusual.URI~(to-be!s"
	"ure)&isn't+it$/crazy?,/;;*:&it+has=1,weird!*pas$wo~d_too.(doesn't-it)@"
	"example.com SIP/2.0\r\n"
	"Via: SIP/2.0/TCP host1.example.com;branch=z9hG4bK-.!%66*_+`'~\r\n"
	"To: \"BEL:\\\x07 NUL:\\\x00 DEL:\\\x7f\" <sip:1_unusual.URI~(to-be!sur"
	"e)&isn't+it$/crazy?,/;;*@example.com>\r\n"
	"From: token1~` token2'+_ token3*%!.- <sip:mundane@example.com>;fromPar"
	"am''~+*_!.-%=\"\xd1\x80\xd0\xb0\xd0\xb1\xd0\xbe\xd1\x82\xd0\xb0\xd1"
	"\x8e\xd1\x89\xd0\xb8\xd0\xb9\";tag=_token~1'+`*%!-.\r\n"
	"Call-ID: intmeth.word%ZK-!.*_+'@word`~)(><:\\/\"][?}{\r\n"
	"CSeq: 139122385 !interesting-Method0123456789_*+`.%indeed'~\r\n"
	"Max-Forwards: 255\r\n"
	"extensionHeader-!.%*+_`'~:\xef\xbb\xbf\xe5\xa4\xa7\xe5\x81\x9c\xe9\x9b\xbb\r\n"
	"Content-Length: 0\r\n"
	"\r\n"
	;
/* RFC 4475 section 3.1.1.5, "Use of % When It Is Not an Escape" */
static const char esc02[] =
	"RE%47IST%45R sip:registrar.example.com SIP/2.0\r\n"
	"To: \"%Z%45\" <sip:resource@example.com>\r\n"
	"From: \"%Z%45\" <sip:resource@example.com>;tag=f232jadfj23\r\n"
	"Call-ID: esc02.asdfnqwo34rq23i34jrjasdcnl23nrlknsdf\r\n"
	"Via: SIP/2.0/TCP host.example.com;branch=z9hG4bK209%fzsnel234\r\n"
	"CSeq: 29344 RE%47IST%45R\r\n"
	"Max-Forwards: 70\r\n"
	"Contact: <sip:alias1@host1.example.com>\r\n"
	"C%6Fntact: <sip:alias2@host2.example.com>\r\n"
	"Contact: <sip:alias3@host3.example.com>\r\n"
	"l: 0\r\n"
	"\r\n"
	;
/* RFC 4475 section 3.1.1.4, "Escaped Nulls in URIs" */
static const char escnull[] =
	"REGISTER sip:example.com SIP/2.0\r\n"
	"To: sip:null-%00-null@example.com\r\n"
	"From: sip:null-%00-null@example.com;tag=839923423\r\n"
	"Max-Forwards: 70\r\n"
	"Call-ID: escnull.39203ndfvkjdasfkq3w4otrq0adsfdfnavd\r\n"
	"CSeq: 14398234 REGISTER\r\n"
	"Via: SIP/2.0/UDP host5.example.com;branch=z9hG4bKkdjuw\r\n"
	"Contact: <sip:%00@host5.example.com>\r\n"
	"Contact: <sip:%00%00@host5.example.com>\r\n"
	"L:0\r\n"
	"\r\n"
	;
/* RFC 4475 section 3.1.1.6, "Message with No LWS between Display Name and <" */
static const char lwsdisp[] =
	"OPTIONS sip:user@example.com SIP/2.0\r\n"
	"To: sip:user@example.com\r\n"
	"From: caller<sip:caller@example.com>;tag=323\r\n"
	"Max-Forwards: 70\r\n"
	"Call-ID: lwsdisp.1234abcd@funky.example.com\r\n"
	"CSeq: 60 OPTIONS\r\n"
	"Via: SIP/2.0/UDP funky.example.com;branch=z9hG4bKkdjuw\r\n"
	"l: 0\r\n"
	"\r\n"
	;
/* RFC 4475 section 3.1.1.9, "Semicolon-Separated Parameters in URI User Part" */
static const char semiuri[] =
	"OPTIONS sip:user;par=u%40example.net@example.com SIP/2.0\r\n"
	"To: sip:j_user@example.com\r\n"
	"From: sip:caller@example.org;tag=33242\r\n"
	"Max-Forwards: 3\r\n"
	"Call-ID: semiuri.0ha0isndaksdj\r\n"
	"CSeq: 8 OPTIONS\r\n"
	"Accept: application/sdp, application/pkcs7-mime,\r\n"
	"        multipart/mixed, multipart/signed,\r\n"
	"        message/sip, message/sipfrag\r\n"
	"Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKkdjuw\r\n"
	"l: 0\r\n"
	"\r\n"
	;
/* RFC 4475 section 3.1.1.8, "Extra Trailing Octets in a UDP Datagram" */
static const char dblreq[] =
	"REGISTER sip:example.com SIP/2.0\r\n"
	"To: sip:j.user@example.com\r\n"
	"From: sip:j.user@example.com;tag=43251j3j324\r\n"
	"Max-Forwards: 8\r\n"
	"I: dblreq.0ha0isndaksdj99sdfafnl3lk233412\r\n"
	"Contact: sip:j.user@host.example.com\r\n"
	"CSeq: 8 REGISTER\r\n"
	"Via: SIP/2.0/UDP 192.0.2.125;branch=z9hG4bKkdjuw23492\r\n"
	"Content-Length: 0\r\n"
	"\r\n"
	"\r\n"
	"INVITE sip:joe@example.com SIP/2.0\r\n"
	"t: sip:joe@example.com\r\n"
	"From: sip:caller@example.net;tag=141334\r\n"
	"Max-Forwards: 8\r\n"
	"Call-ID: dblreq.0ha0isnda977644900765@192.0.2.15\r\n"
	"CSeq: 8 INVITE\r\n"
	"Via: SIP/2.0/UDP 192.0.2.15;branch=z9hG4bKkdjuw380234\r\n"
	"Content-Type: application/sdp\r\n"
	"Content-Length: 150\r\n"
	"\r\n"
	"v=0\r\n"
	"o=mhandley 29739 7272939 IN IP4 192.0.2.15\r\n"
	"s=-\r\n"
	"c=IN IP4 192.0.2.15\r\n"
	"t=0 0\r\n"
	"m=audio 49217 RTP/AVP 0 12\r\n"
	"m =video 3227 RTP/AVP 31\r\n"
	"a=rtpmap:31 LPC\r\n"
	"\r\n"
	;
/* RFC 4475 section 3.1.1.13, "Empty Reason Phrase" */
static const char noreason[] =
	"SIP/2.0 100 \r\n"
	"Via: SIP/2.0/UDP 192.0.2.105;branch=z9hG4bK2398ndaoe\r\n"
	"Call-ID: noreason.asndj203insdf99223ndf\r\n"
	"CSeq: 35 INVITE\r\n"
	"From: <sip:user@example.com>;tag=39ansfi3\r\n"
	"To: <sip:user@example.edu>;tag=902jndnke3\r\n"
	"Content-Length: 0\r\n"
	"Contact: <sip:user@host105.example.com>\r\n"
	"\r\n"
	;
/* RFC 4475 section 3.4.1, "INVITE with RFC 2543 Syntax" */
static const char inv2543[] =
	"INVITE sip:UserB@example.com SIP/2.0\r\n"
	"Via: SIP/2.0/UDP iftgw.example.com\r\n"
	"From: <sip:+13035551111@ift.client.example.net;user=phone>\r\n"
	"Record-Route: <sip:UserB@example.com;maddr=ss1.example.com>\r\n"
	"To: sip:+16505552222@ss1.example.net;user=phone\r\n"
	"Call-ID: inv2543.1717@ift.client.example.com\r\n"
	"CSeq: 56 INVITE\r\n"
	"Content-Type: application/sdp\r\n"
	"\r\n"
	"v=0\r\n"
	"o=mhandley 29739 7272939 IN IP4 192.0.2.5\r\n"
	"s=-\r\n"
	"c=IN IP4 192.0.2.5\r\n"
	"t=0 0\r\n"
	"m=audio 49217 RTP/AVP 0\r\n"
	;
/* RFC 4475 section 3.1.2.2, "Content Length Larger Than Message" */
static const char clerr[] =
	"INVITE sip:user@example.com SIP/2.0\r\n"
	"Max-Forwards: 80\r\n"
	"To: sip:j.user@example.com\r\n"
	"From: sip:caller@example.net;tag=93942939o2\r\n"
	"Contact: <sip:caller@hungry.example.net>\r\n"
	"Call-ID: clerr.0ha0isndaksdjweiafasdk3\r\n"
	"CSeq: 8 INVITE\r\n"
	"Via: SIP/2.0/UDP host5.example.com;branch=z9hG4bK-39234-23523\r\n"
	"Content-Type: application/sdp\r\n"
	"Content-Length: 9999\r\n"
	"\r\n"
	"v=0\r\n"
	"o=mhandley 29739 7272939 IN IP4 192.0.2.155\r\n"
	"s=-\r\n"
	"c=IN IP4 192.0.2.155\r\n"
	"t=0 0\r\n"
	"m=audio 49217 RTP/AVP 0 12\r\n"
	"m=video 3227 RTP/AVP 31\r\n"
	"a=rtpmap:31 LPC\r\n"
	;
/* RFC 4475 section 3.1.2.3, "Negative Content-Length" */
static const char ncl[] =
	"INVITE sip:user@example.com SIP/2.0\r\n"
	"Max-Forwards: 254\r\n"
	"To: sip:j.user@example.com\r\n"
	"From: sip:caller@example.net;tag=32394234\r\n"
	"Call-ID: ncl.0ha0isndaksdj2193423r542w35\r\n"
	"CSeq: 0 INVITE\r\n"
	"Via: SIP/2.0/UDP 192.0.2.53;branch=z9hG4bKkdjuw\r\n"
	"Contact: <sip:caller@example53.example.net>\r\n"
	"Content-Type: application/sdp\r\n"
	"Content-Length: -999\r\n"
	"\r\n"
	"v=0\r\n"
	"o=mhandley 29739 7272939 IN IP4 192.0.2.53\r\n"
	"s=-\r\n"
	"c=IN IP4 192.0.2.53\r\n"
	"t=0 0\r\n"
	"m=audio 49217 RTP/AVP 0 12\r\n"
	"m=video 3227 RTP/AVP 31\r\n"
	"a=rtpmap:31 LPC\r\n"
	;
/* RFC 4475 section 3.1.2.4, "Request Scalar Fields with Overlarge Values" */
static const char scalar02[] =
	"REGISTER sip:example.com SIP/2.0\r\n"
	"Via: SIP/2.0/TCP host129.example.com;branch=z9hG4bK342sdfoi3\r\n"
	"To: <sip:user@example.com>\r\n"
	"From: <sip:user@example.com>;tag=239232jh3\r\n"
	"CSeq: 36893488147419103232 REGISTER\r\n"
	"Call-ID: scalar02.23o0pd9vanlq3wnrlnewofjas9ui32\r\n"
	"Max-Forwards: 300\r\n"
	"Expires: 1000000000000000000000000000000000000000000000000000000000000"
	"0000000000000000000000000000000000000000\r\n"
	"Contact: <sip:user@host129.example.com>\r\n"
	"  ;expires=280297596632815\r\n"
	"Content-Length: 0\r\n"
	"\r\n"
	;
/* RFC 4475 section 3.1.2.6, "Unterminated Quoted String in Display Name" */
static const char quotbal[] =
	"INVITE sip:user@example.com SIP/2.0\r\n"
	"To: \"Mr. J. User <sip:j.user@example.com>\r\n"
	"From: sip:caller@example.net;tag=93334\r\n"
	"Max-Forwards: 10\r\n"
	"Call-ID: quotbal.aksdj\r\n"
	"Contact: <sip:caller@host59.example.net>\r\n"
	"CSeq: 8 INVITE\r\n"
	"Via: SIP/2.0/UDP 192.0.2.59:5050;branch=z9hG4bKkdjuw39234\r\n"
	"Content-Type: application/sdp\r\n"
	"Content-Length: 152\r\n"
	"\r\n"
	"v=0\r\n"
	"o=mhandley 29739 7272939 IN IP4 192.0.2.15\r\n"
	"s=-\r\n"
	"c=IN IP4 192.0.2.15\r\n"
	"t=0 0\r\n"
	"m=audio 49217 RTP/AVP 0 12\r\n"
	"m=video 3227 RTP/AVP 31\r\n"
	"a=rtpmap:31 LPC\r\n"
	;
/* RFC 4475 section 3.3.1, "Missing Required Header Fields" */
static const char insuf[] =
	"INVITE sip:user@example.com SIP/2.0\r\n"
	"CSeq: 193942 INVITE\r\n"
	"Via: SIP/2.0/UDP 192.0.2.95;branch=z9hG4bKkdj.insuf\r\n"
	"Content-Type: application/sdp\r\n"
	"l: 152\r\n"
	"\r\n"
	"v=0\r\n"
	"o=mhandley 29739 7272939 IN IP4 192.0.2.95\r\n"
	"s=-\r\n"
	"c=IN IP4 192.0.2.95\r\n"
	"t=0 0\r\n"
	"m=audio 49217 RTP/AVP 0 12\r\n"
	"m=video 3227 RTP/AVP 31\r\n"
	"a=rtpmap:31 LPC\r\n"
	;
/* RFC 4475 section 3.1.2.1, "Extraneous Header Field Separators" */
static const char badinv01[] =
	"INVITE sip:user@example.com SIP/2.0\r\n"
	"To: sip:j.user@example.com\r\n"
	"From: sip:caller@example.net;tag=134161461246\r\n"
	"Max-Forwards: 7\r\n"
	"Call-ID: badinv01.0ha0isndaksdjasdf3234nas\r\n"
	"CSeq: 8 INVITE\r\n"
	"Via: SIP/2.0/UDP 192.0.2.15;;,;,,\r\n"
	"Contact: \"Joe\" <sip:joe@example.org>;;;;\r\n"
	"Content-Length: 152\r\n"
	"Content-Type: application/sdp\r\n"
	"\r\n"
	"v=0\r\n"
	"o=mhandley 29739 7272939 IN IP4 192.0.2.15\r\n"
	"s=-\r\n"
	"c=IN IP4 192.0.2.15\r\n"
	"t=0 0\r\n"
	"m=audio 49217 RTP/AVP 0 12\r\n"
	"m=video 3227 RTP/AVP 31\r\n"
	"a=rtpmap:31 LPC\r\n"
	;
/* RFC 4475 section 3.1.2.17, "Start Line and CSeq Method Mismatch" */
static const char mismatch01[] =
	"OPTIONS sip:user@example.com SIP/2.0\r\n"
	"To: sip:j.user@example.com\r\n"
	"From: sip:caller@example.net;tag=34525\r\n"
	"Max-Forwards: 6\r\n"
	"Call-ID: mismatch01.dj0234sxdfl3\r\n"
	"CSeq: 8 INVITE\r\n"
	"Via: SIP/2.0/UDP host.example.com;branch=z9hG4bKkdjuw\r\n"
	"l: 0\r\n"
	"\r\n"
	;
/* RFC 4475 section 3.1.2.19, "Overlarge Response Code" */
static const char bigcode[] =
	"SIP/2.0 4294967301 better not break the receiver\r\n"
	"Via: SIP/2.0/UDP 192.0.2.105;branch=z9hG4bK2398ndaoe\r\n"
	"Call-ID: bigcode.asdof3uj203asdnf3429uasdhfas3ehjasdfas9i\r\n"
	"CSeq: 353494 INVITE\r\n"
	"From: <sip:user@example.com>;tag=39ansfi3\r\n"
	"To: <sip:user@example.edu>;tag=902jndnke3\r\n"
	"Content-Length: 0\r\n"
	"Contact: <sip:user@host105.example.com>\r\n"
	"\r\n"
	;
/* RFC 4475 section 3.1.2.16, "Unknown Protocol Version" */
static const char badvers[] =
	"OPTIONS sip:t.watson@example.org SIP/7.0\r\n"
	"Via:     SIP/7.0/UDP c.example.com;branch=z9hG4bKkdjuw\r\n"
	"Max-Forwards:     70\r\n"
	"From:    A. Bell <sip:a.g.bell@example.com>;tag=qweoiqpe\r\n"
	"To:      T. Watson <sip:t.watson@example.org>\r\n"
	"Call-ID: badvers.31417@c.example.com\r\n"
	"CSeq:    1 OPTIONS\r\n"
	"l: 0\r\n"
	"\r\n"
	;
/* RFC 4475 section 3.1.2.8, "Malformed SIP Request-URI (embedded LWS)" */
static const char lwsruri[] =
	"INVITE sip:user@example.com; lr SIP/2.0\r\n"
	"To: sip:user@example.com;tag=3xfe-9921883-z9f\r\n"
	"From: sip:caller@example.net;tag=231413434\r\n"
	"Max-Forwards: 5\r\n"
	"Call-ID: lwsruri.asdfasdoeoi2323-asdfwrn23-asd834rk423\r\n"
	"CSeq: 2130706432 INVITE\r\n"
	"Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKkdjuw2395\r\n"
	"Contact: <sip:caller@host1.example.net>\r\n"
	"Content-Type: application/sdp\r\n"
	"Content-Length: 159\r\n"
	"\r\n"
	"v=0\r\n"
	"o=mhandley 29739 7272939 IN IP4 192.0.2.1\r\n"
	"s=-\r\n"
	"c=IN IP4 192.0.2.1\r\n"
	"t=3149328700 0\r\n"
	"m=audio 49217 RTP/AVP 0 12\r\n"
	"m=video 3227 RTP/AVP 31\r\n"
	"a=rtpmap:31 LPC\r\n"
	;
/* RFC 4475 section 3.1.2.7, "<> Enclosing Request-URI" */
static const char ltgtruri[] =
	"INVITE <sip:user@example.com> SIP/2.0\r\n"
	"To: sip:user@example.com\r\n"
	"From: sip:caller@example.net;tag=39291\r\n"
	"Max-Forwards: 23\r\n"
	"Call-ID: ltgtruri.1@192.0.2.5\r\n"
	"CSeq: 1 INVITE\r\n"
	"Via: SIP/2.0/UDP 192.0.2.5\r\n"
	"Contact: <sip:caller@host5.example.net>\r\n"
	"Content-Type: application/sdp\r\n"
	"Content-Length: 159\r\n"
	"\r\n"
	"v=0\r\n"
	"o=mhandley 29739 7272939 IN IP4 192.0.2.5\r\n"
	"s=-\r\n"
	"c=IN IP4 192.0.2.5\r\n"
	"t=3149328700 0\r\n"
	"m=audio 49217 RTP/AVP 0 12\r\n"
	"m=video 3227 RTP/AVP 31\r\n"
	"a=rtpmap:31 LPC\r\n"
	;
/* RFC 4475 section 3.3.9, "Multiple Content-Length Values" */
static const char mcl01[] =
	"OPTIONS sip:user@example.com SIP/2.0\r\n"
	"Via: SIP/2.0/UDP host5.example.net;branch=z9hG4bK293423\r\n"
	"To: sip:user@example.com\r\n"
	"From: sip:other@example.net;tag=3923942\r\n"
	"Call-ID: mcl01.fhn2323orihawfdoa3o4r52o3irsdf\r\n"
	"CSeq: 15932 OPTIONS\r\n"
	"Content-Length: 13\r\n"
	"Max-Forwards: 60\r\n"
	"Content-Length: 5\r\n"
	"Content-Type: text/plain\r\n"
	"\r\n"
	"There's no way to know how many octets are supposed to be here.\r\n"
	"\r\n"
	;
/* RFC 4475 section 3.3.8, "Multiple Values in Single Value Required Fields" */
static const char multi01[] =
	"INVITE sip:user@company.com SIP/2.0\r\n"
	"Contact: <sip:caller@host25.example.net>\r\n"
	"Via: SIP/2.0/UDP 192.0.2.25;branch=z9hG4bKkdjuw\r\n"
	"Max-Forwards: 70\r\n"
	"CSeq: 5 INVITE\r\n"
	"Call-ID: multi01.98asdh@192.0.2.1\r\n"
	"CSeq: 59 INVITE\r\n"
	"Call-ID: multi01.98asdh@192.0.2.2\r\n"
	"From: sip:caller@example.com;tag=3413415\r\n"
	"To: sip:user@example.com\r\n"
	"To: sip:other@example.net\r\n"
	"From: sip:caller@example.net;tag=2923420123\r\n"
	"Content-Type: application/sdp\r\n"
	"l: 154\r\n"
	"Contact: <sip:caller@host36.example.net>\r\n"
	"Max-Forwards: 5\r\n"
	"\r\n"
	"v=0\r\n"
	"o=mhandley 29739 7272939 IN IP4 192.0.2.25\r\n"
	"s=-\r\n"
	"c=IN IP4 192.0.2.25\r\n"
	"t=0 0\r\n"
	"m=audio 49217 RTP/AVP 0 12\r\n"
	"m=video 3227 RTP/AVP 31\r\n"
	"a=rtpmap:31 LPC\r\n"
	"\r\n"
	;
/* RFC 4475 section 3.1.2.10, "SP Characters at End of Request-Line" */
static const char trws[] =
	"OPTIONS sip:remote-target@example.com SIP/2.0  \r\n"
	"Via: SIP/2.0/TCP host1.examle.com;branch=z9hG4bK299342093\r\n"
	"To: <sip:remote-target@example.com>\r\n"
	"From: <sip:local-resource@example.com>;tag=329429089\r\n"
	"Call-ID: trws.oicu34958239neffasdhr2345r\r\n"
	"Accept: application/sdp\r\n"
	"CSeq: 238923 OPTIONS\r\n"
	"Max-Forwards: 70\r\n"
	"Content-Length: 0\r\n"
	"\r\n"
	;
/* RFC 4475 section 3.1.2.9, "Multiple SP Separating Request-Line Elements" */
static const char lwsstart[] =
	"INVITE  sip:user@example.com  SIP/2.0\r\n"
	"Max-Forwards: 8\r\n"
	"To: sip:user@example.com\r\n"
	"From: sip:caller@example.net;tag=8814\r\n"
	"Call-ID: lwsstart.dfknq234oi243099adsdfnawe3@example.com\r\n"
	"CSeq: 1893884 INVITE\r\n"
	"Via: SIP/2.0/UDP host1.example.com;branch=z9hG4bKkdjuw3923\r\n"
	"Contact: <sip:caller@host1.example.net>\r\n"
	"Content-Type: application/sdp\r\n"
	"Content-Length: 150\r\n"
	"\r\n"
	"v=0\r\n"
	"o=mhandley 29739 7272939 IN IP4 192.0.2.1\r\n"
	"s=-\r\n"
	"c=IN IP4 192.0.2.1\r\n"
	"t=0 0\r\n"
	"m=audio 49217 RTP/AVP 0 12\r\n"
	"m=video 3227 RTP/AVP 31\r\n"
	"a=rtpmap:31 LPC\r\n"
	;

/* What a phone sends anncd: several Via values in one header and across
 * headers, Record-Route in two headers, a quoted display name holding
 * ';' and '<', and an SDP body.
 */
static const char invite[] =
	"INVITE sip:annc@ms.example.net;play=imap%3A%2F%2Fh%2Fx SIP/2.0\r\n"
	"Via: SIP/2.0/UDP 192.0.2.7:5062;rport;branch=z9hG4bK-top;"
	"received=198.51.100.1, SIP/2.0/TCP proxy.example.net\r\n"
	"Via: SIP/2.0/UDP [2001:db8::1]:5060;branch=z9hG4bK-3\r\n"
	"Record-Route: <sip:p1.example.net;lr>, \"a,b\" <sip:p2.example.net;lr>\r\n"
	"Record-Route: <sip:p3.example.net;lr>\r\n"
	"From: \"Alice; <not> tag=x\" <sip:alice@example.com>;tag=a1b2\r\n"
	"To: <sip:annc@ms.example.net>\r\n"
	"Call-ID: 42@192.0.2.7\r\n"
	"CSeq: 2147483647 INVITE\r\n"
	"Contact: \"Alice\" <sip:alice@192.0.2.7:5062;transport=udp>;expires=60\r\n"
	"Max-Forwards: 70\r\n"
	"Content-Type: application/sdp\r\n"
	"Content-Length: 4\r\n"
	"\r\n"
	"v=0\r\n";

static int
parse_guarded(struct guard_buf *g, const char *msg, size_t len,
	      struct sip_msg *m, const char **why)
{
	const char *p = guard_copy(g, msg, len);

	*why = "";
	return sip_parse(p, len, m, why);
}

static void
test_invite(void)
{
	struct guard_buf g;
	struct sip_msg m;
	const char *why;

	CHECK_INT(parse_guarded(&g, LIT(invite), &m, &why), 0);
	CHECK_INT(m.is_request, 1);
	CHECK_STRN(m.method.p, m.method.n, "INVITE");
	CHECK_STRN(m.ruri.p, m.ruri.n,
		   "sip:annc@ms.example.net;play=imap%3A%2F%2Fh%2Fx");
	CHECK_INT(m.n_via, 3);
	CHECK_STRN(m.via[0].p, m.via[0].n, "SIP/2.0/UDP 192.0.2.7:5062;rport;"
		   "branch=z9hG4bK-top;received=198.51.100.1");
	CHECK_STRN(m.via[1].p, m.via[1].n, "SIP/2.0/TCP proxy.example.net");
	CHECK_STRN(m.via[2].p, m.via[2].n,
		   "SIP/2.0/UDP [2001:db8::1]:5060;branch=z9hG4bK-3");
	CHECK_STRN(m.branch.p, m.branch.n, "z9hG4bK-top");
	CHECK_STRN(m.via_host.p, m.via_host.n, "192.0.2.7");
	CHECK_INT(m.via_port, 5062);
	CHECK_STRN(m.via_received.p, m.via_received.n, "198.51.100.1");
	CHECK_INT(m.via_rport, 0);
	CHECK_INT(m.n_rr, 3);
	CHECK_STRN(m.record_route[0].p, m.record_route[0].n,
		   "<sip:p1.example.net;lr>");
	CHECK_STRN(m.record_route[1].p, m.record_route[1].n,
		   "\"a,b\" <sip:p2.example.net;lr>");
	CHECK_STRN(m.record_route[2].p, m.record_route[2].n,
		   "<sip:p3.example.net;lr>");
	CHECK_STRN(m.from_tag.p, m.from_tag.n, "a1b2");
	CHECK_INT(m.to_tag.n, 0);
	CHECK_STRN(m.to.p, m.to.n, "<sip:annc@ms.example.net>");
	CHECK_STRN(m.call_id.p, m.call_id.n, "42@192.0.2.7");
	CHECK_INT(m.cseq, 2147483647);
	CHECK_STRN(m.cseq_method.p, m.cseq_method.n, "INVITE");
	CHECK_STRN(m.contact_uri.p, m.contact_uri.n,
		   "sip:alice@192.0.2.7:5062;transport=udp");
	CHECK_INT(m.max_forwards, 70);
	CHECK_STRN(m.content_type.p, m.content_type.n, "application/sdp");
	CHECK_INT(m.content_length, 4);
	CHECK_STRN(m.body.p, m.body.n, "v=0\r");
	guard_free(&g);
}

/* Top Via with an IPv6 sent-by and an rport value (RFC 3581). */
static void
test_via_forms(void)
{
	static const char msg[] =
		"OPTIONS sip:ms.example.net SIP/2.0\r\n"
		"v: SIP/2.0/UDP [2001:db8::9] : 5070 ; rport = 40000 ;"
		" branch = z9hG4bK.x\r\n"
		"f: <sip:a@example.com>;tag=1\r\n"
		"t: sip:ms.example.net\r\n"
		"i: v6\r\n"
		"CSeq: 1 OPTIONS\r\n"
		"l: 0\r\n"
		"\r\n";
	struct guard_buf g;
	struct sip_msg m;
	const char *why;

	CHECK_INT(parse_guarded(&g, LIT(msg), &m, &why), 0);
	CHECK_STRN(m.via_host.p, m.via_host.n, "2001:db8::9");
	CHECK_INT(m.via_port, 5070);
	CHECK_INT(m.via_rport, 40000);
	CHECK_STRN(m.branch.p, m.branch.n, "z9hG4bK.x");
	CHECK_INT(m.max_forwards, -1);
	CHECK_INT(m.body.n, 0);
	guard_free(&g);
}

/* Every compact form of RFC 3261 section 7.3.3, in either case. */
static void
test_compact_forms(void)
{
	static const char msg[] =
		"INVITE sip:annc@ms SIP/2.0\r\n"
		"V: SIP/2.0/UDP h1;branch=z9hG4bK1\r\n"
		"F: <sip:a@h1>;tag=f1\r\n"
		"T: <sip:annc@ms>;tag=t1\r\n"
		"I: cid1\r\n"
		"M: <sip:a@h1:5999>\r\n"
		"C: application/sdp\r\n"
		"K: timer\r\n"
		"S: hello\r\n"
		"E: gzip\r\n"
		"CSeq: 7 INVITE\r\n"
		"L: 2\r\n"
		"\r\n"
		"ab";
	struct guard_buf g;
	struct sip_msg m;
	const char *why;

	CHECK_INT(parse_guarded(&g, LIT(msg), &m, &why), 0);
	CHECK_STRN(m.from_tag.p, m.from_tag.n, "f1");
	CHECK_STRN(m.to_tag.p, m.to_tag.n, "t1");
	CHECK_STRN(m.call_id.p, m.call_id.n, "cid1");
	CHECK_STRN(m.contact_uri.p, m.contact_uri.n, "sip:a@h1:5999");
	CHECK_STRN(m.content_type.p, m.content_type.n, "application/sdp");
	CHECK_STRN(m.body.p, m.body.n, "ab");
	CHECK_STRN(m.branch.p, m.branch.n, "z9hG4bK1");
	guard_free(&g);
}

/* RFC 4475 section 3.1.1.1: folding, LWS around ':' and '/', compact
 * forms, leading zeros, three Via values in two headers.
 */
static void
test_wsinv(void)
{
	struct guard_buf g;
	struct sip_msg m;
	const char *why;

	CHECK_INT(sizeof(wsinv) - 1, 1001);
	CHECK_INT(parse_guarded(&g, LIT(wsinv), &m, &why), 0);
	CHECK_STRN(m.ruri.p, m.ruri.n,
		   "sip:vivekg@chair-dnrc.example.com;unknownparam");
	CHECK_STRN(m.to_tag.p, m.to_tag.n, "1918181833n");
	CHECK_STRN(m.from_tag.p, m.from_tag.n, "98asjd8");
	CHECK_INT(m.max_forwards, 68);
	CHECK_STRN(m.call_id.p, m.call_id.n, "wsinv.ndaksdj@192.0.2.1");
	CHECK_INT(m.cseq, 9);
	CHECK_STRN(m.cseq_method.p, m.cseq_method.n, "INVITE");
	CHECK_INT(m.n_via, 3);
	CHECK_STRN(m.via_host.p, m.via_host.n, "192.0.2.2");
	CHECK_INT(m.via_port, 0);
	CHECK_STRN(m.branch.p, m.branch.n, "390skdjuw");
	CHECK_STRN(m.via[2].p, m.via[2].n, "SIP  /    2.0   / UDP  "
		   "192.168.255.111   ; branch=\r\n z9hG4bK30239");
	CHECK_STRN(m.contact_uri.p, m.contact_uri.n, "sip:jdrosen@example.com");
	CHECK_STRN(m.content_type.p, m.content_type.n, "application/sdp");
	CHECK_INT(m.content_length, 150);
	CHECK_INT(m.body.n, 150);
	CHECK(m.body.n >= 4 && memcmp(m.body.p, "v=0\r\n", 5) == 0);
	guard_free(&g);
}

/* RFC 4475 sections 3.1.1.2 to 3.1.1.9: unusual but valid requests. */
static void
test_rfc4475_valid(void)
{
	struct guard_buf g;
	struct sip_msg m;
	const char *why;

	CHECK_INT(parse_guarded(&g, LIT(intmeth), &m, &why), 0);
	CHECK_STRN(m.method.p, m.method.n,
		   "!interesting-Method0123456789_*+`.%indeed'~");
	CHECK_STRN(m.from_tag.p, m.from_tag.n, "_token~1'+`*%!-.");
	CHECK_INT(m.to_tag.n, 0);
	CHECK_STRN(m.call_id.p, m.call_id.n,
		   "intmeth.word%ZK-!.*_+'@word`~)(><:\\/\"][?}{");
	CHECK_INT(m.max_forwards, 255);
	guard_free(&g);

	CHECK_INT(parse_guarded(&g, LIT(esc01), &m, &why), 0);
	CHECK_STRN(m.ruri.p, m.ruri.n,
		   "sip:sips%3Auser%40example.com@example.net");
	CHECK_STRN(m.contact_uri.p, m.contact_uri.n, "sip:cal%6Cer@host5."
		   "example.net;%6C%72;n%61me=v%61lue%25%34%31");
	CHECK_STRN(m.from_tag.p, m.from_tag.n, "938");
	guard_free(&g);

	CHECK_INT(parse_guarded(&g, LIT(esc02), &m, &why), 0);
	CHECK_STRN(m.method.p, m.method.n, "RE%47IST%45R");
	CHECK_STRN(m.contact_uri.p, m.contact_uri.n,
		   "sip:alias1@host1.example.com");
	guard_free(&g);

	CHECK_INT(parse_guarded(&g, LIT(escnull), &m, &why), 0);
	CHECK_STRN(m.contact_uri.p, m.contact_uri.n,
		   "sip:%00@host5.example.com");
	guard_free(&g);

	CHECK_INT(parse_guarded(&g, LIT(lwsdisp), &m, &why), 0);
	CHECK_STRN(m.from_tag.p, m.from_tag.n, "323");
	guard_free(&g);

	CHECK_INT(parse_guarded(&g, LIT(semiuri), &m, &why), 0);
	CHECK_STRN(m.ruri.p, m.ruri.n,
		   "sip:user;par=u%40example.net@example.com");
	guard_free(&g);
}

/* The body is framed by Content-Length only: NUL bytes inside it, bytes
 * after it (RFC 4475 section 3.1.1.8), no Content-Length (3.4.1).
 */
static void
test_framing(void)
{
	static const char nul_body[] =
		"MESSAGE sip:annc@ms SIP/2.0\r\n"
		"Via: SIP/2.0/UDP h;branch=z9hG4bKn\r\n"
		"From: <sip:a@h>;tag=1\r\nTo: <sip:annc@ms>\r\n"
		"Call-ID: n\r\nCSeq: 1 MESSAGE\r\nContent-Length: 5\r\n\r\n"
		"a\0b\0cTRAILING";
	struct guard_buf g;
	struct sip_msg m;
	const char *why;

	CHECK_INT(parse_guarded(&g, LIT(nul_body), &m, &why), 0);
	CHECK_INT(m.body.n, 5);
	CHECK(m.body.n == 5 && memcmp(m.body.p, "a\0b\0c", 5) == 0);
	guard_free(&g);

	CHECK_INT(parse_guarded(&g, LIT(dblreq), &m, &why), 0);
	CHECK_STRN(m.method.p, m.method.n, "REGISTER");
	CHECK_INT(m.content_length, 0);
	CHECK_INT(m.body.n, 0);
	guard_free(&g);

	CHECK_INT(parse_guarded(&g, LIT(inv2543), &m, &why), 0);
	CHECK_INT(m.content_length, -1);
	CHECK_INT(m.body.n, 105);
	CHECK_INT(m.branch.n, 0);
	CHECK_INT(m.from_tag.n, 0);
	CHECK_INT(m.n_rr, 1);
	guard_free(&g);
}

static void
test_responses(void)
{
	static const char ringing[] =
		"SIP/2.0 180 Ringing  now\r\n"
		"Via: SIP/2.0/UDP ms;branch=z9hG4bKr\r\n"
		"From: <sip:annc@ms>;tag=x\r\nTo: <sip:a@h>;tag=y\r\n"
		"Call-ID: r\r\nCSeq: 1 BYE\r\nContent-Length: 0\r\n\r\n";
	struct guard_buf g;
	struct sip_msg m;
	const char *why;

	CHECK_INT(parse_guarded(&g, LIT(noreason), &m, &why), 0);
	CHECK_INT(m.is_request, 0);
	CHECK_INT(m.status, 100);
	CHECK_INT(m.reason.n, 0);
	CHECK_STRN(m.to_tag.p, m.to_tag.n, "902jndnke3");
	guard_free(&g);

	/* A response's CSeq method need not match anything on its line. */
	CHECK_INT(parse_guarded(&g, LIT(ringing), &m, &why), 0);
	CHECK_INT(m.status, 180);
	CHECK_STRN(m.reason.p, m.reason.n, "Ringing  now");
	CHECK_STRN(m.cseq_method.p, m.cseq_method.n, "BYE");
	guard_free(&g);
}

struct bad_case {
	const char *name;
	const char *msg;
	size_t len;
	const char *why;
};

#define BAD(n, w)	{ #n, (n), sizeof(n) - 1, (w) }

/* Invalid messages of RFC 4475 sections 3.1.2 and 3.3, each refused for
 * the reason its section names.
 */
static const struct bad_case rfc4475_bad[] = {
	BAD(badinv01, "empty Via value"),
	BAD(clerr, "Content-Length 9999 larger than the 154 bytes of body"),
	BAD(ncl, "bad Content-Length: \"-999\""),
	BAD(scalar02, "bad CSeq"),
	BAD(quotbal, "bad To"),
	BAD(ltgtruri, "bad Request-URI"),
	BAD(lwsruri, "bad request line"),
	BAD(lwsstart, "bad request line"),
	BAD(trws, "bad request line"),
	BAD(badvers, "unsupported SIP version"),
	BAD(mismatch01, "CSeq method does not match request"),
	BAD(bigcode, "bad status code"),
	BAD(insuf, "missing From"),
	BAD(multi01, "duplicate CSeq"),
	BAD(mcl01, "duplicate Content-Length"),
};

/* Each case must fail, naming the rule it breaks. */
static void
check_bad_cases(const struct bad_case *cases, size_t n)
{
	struct guard_buf g;
	struct sip_msg m;
	const char *why;

	for (size_t i = 0; i < n; i++) {
		const struct bad_case *c = &cases[i];
		int rc = parse_guarded(&g, c->msg, c->len, &m, &why);

		if (rc != -1 || strcmp(why, c->why) != 0) {
			fprintf(stderr, "%s: rc %d why \"%s\", want \"%s\"\n",
				c->name, rc, why, c->why);
			check_failures++;
		}
		guard_free(&g);
	}
}

static void
test_rfc4475_invalid(void)
{
	check_bad_cases(rfc4475_bad, sizeof(rfc4475_bad) / sizeof(rfc4475_bad[0]));
}

#define HDRS_OK	"Via: SIP/2.0/UDP h;branch=z9hG4bKb\r\n" \
		"From: <sip:a@h>;tag=1\r\nTo: <sip:b@h>\r\n" \
		"Call-ID: c\r\nCSeq: 1 INVITE\r\n"

static const char neg_cl_word[] =
	"INVITE sip:b@h SIP/2.0\r\n" HDRS_OK "Content-Length: five\r\n\r\n";
static const char no_callid[] =
	"INVITE sip:b@h SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bKb\r\n"
	"From: <sip:a@h>;tag=1\r\nTo: <sip:b@h>\r\nCSeq: 1 INVITE\r\n\r\n";
static const char no_via[] =
	"INVITE sip:b@h SIP/2.0\r\nFrom: <sip:a@h>;tag=1\r\nTo: <sip:b@h>\r\n"
	"Call-ID: c\r\nCSeq: 1 INVITE\r\n\r\n";
static const char no_cseq[] =
	"INVITE sip:b@h SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bKb\r\n"
	"From: <sip:a@h>;tag=1\r\nTo: <sip:b@h>\r\nCall-ID: c\r\n\r\n";
static const char cseq_2_31[] =
	"INVITE sip:b@h SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bKb\r\n"
	"From: <sip:a@h>;tag=1\r\nTo: <sip:b@h>\r\nCall-ID: c\r\n"
	"CSeq: 2147483648 INVITE\r\n\r\n";
static const char no_end[] =
	"INVITE sip:b@h SIP/2.0\r\n" HDRS_OK "Content-Length: 0\r\n";
static const char no_colon[] =
	"INVITE sip:b@h SIP/2.0\r\n" HDRS_OK "Bogus header\r\n\r\n";
static const char bad_via[] =
	"INVITE sip:b@h SIP/2.0\r\nVia: SIP/2.0/UDP h:0;branch=z9hG4bKb\r\n"
	"From: <sip:a@h>;tag=1\r\nTo: <sip:b@h>\r\nCall-ID: c\r\n"
	"CSeq: 1 INVITE\r\n\r\n";
static const char via_v1[] =
	"INVITE sip:b@h SIP/2.0\r\nVia: SIP/1.0/UDP h;branch=z9hG4bKb\r\n"
	"From: <sip:a@h>;tag=1\r\nTo: <sip:b@h>\r\nCall-ID: c\r\n"
	"CSeq: 1 INVITE\r\n\r\n";
static const char unterminated_to[] =
	"INVITE sip:b@h SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bKb\r\n"
	"From: <sip:a@h>;tag=1\r\nTo: <sip:b@h\r\nCall-ID: c\r\n"
	"CSeq: 1 INVITE\r\n\r\n";
static const char fold_first[] =
	"INVITE sip:b@h SIP/2.0\r\n folded\r\n" HDRS_OK "\r\n";
static const char big_mf[] =
	"INVITE sip:b@h SIP/2.0\r\n" HDRS_OK "Max-Forwards: 256\r\n\r\n";
static const char only_line[] = "INVITE sip:b@h SIP/2.0";

static const struct bad_case own_bad[] = {
	BAD(neg_cl_word, "bad Content-Length: \"five\""),
	BAD(no_callid, "missing Call-ID"),
	BAD(no_via, "missing Via"),
	BAD(no_cseq, "missing CSeq"),
	BAD(cseq_2_31, "bad CSeq"),
	BAD(no_end, "header section not terminated"),
	BAD(no_colon, "bad header line"),
	BAD(bad_via, "bad Via"),
	BAD(via_v1, "bad Via"),
	BAD(unterminated_to, "bad To"),
	BAD(fold_first, "bad header line"),
	BAD(big_mf, "bad Max-Forwards"),
	BAD(only_line, "no start line"),
};

static void
test_own_invalid(void)
{
	struct sip_msg m;
	const char *why;

	check_bad_cases(own_bad, sizeof(own_bad) / sizeof(own_bad[0]));
	CHECK_INT(sip_parse("", 0, &m, &why), -1);
}

/* Every prefix of a message and every byte replaced by a delimiter must
 * give a clean answer, never a read past the end (the guard page).
 */
static void
test_prefixes_and_mutations(const char *msg, size_t len)
{
	static const char subst[] = ":;,\"<>\r\n \\%\0=/@[]";
	char *copy = malloc(len);
	struct guard_buf g;
	struct sip_msg m;
	const char *why;

	for (size_t n = 0; n <= len; n++) {
		if (parse_guarded(&g, msg, n, &m, &why) == 0)
			CHECK(m.body.p + m.body.n <= g.p + n);
		guard_free(&g);
	}
	for (size_t i = 0; copy != NULL && i < len; i++) {
		for (size_t k = 0; k < sizeof(subst) - 1; k++) {
			memcpy(copy, msg, len);
			copy[i] = subst[k];
			if (parse_guarded(&g, copy, len, &m, &why) == 0)
				CHECK(m.body.p + m.body.n <= g.p + len);
			guard_free(&g);
		}
	}
	free(copy);
}

static void
test_build_response(void)
{
	static const char want[] =
		"SIP/2.0 200 OK\r\n"
		"Via: SIP/2.0/UDP 192.0.2.7:5062;rport;branch=z9hG4bK-top;"
		"received=198.51.100.1\r\n"
		"Via: SIP/2.0/TCP proxy.example.net\r\n"
		"Via: SIP/2.0/UDP [2001:db8::1]:5060;branch=z9hG4bK-3\r\n"
		"From: \"Alice; <not> tag=x\" <sip:alice@example.com>;tag=a1b2\r\n"
		"To: <sip:annc@ms.example.net>;tag=ms1\r\n"
		"Call-ID: 42@192.0.2.7\r\n"
		"CSeq: 2147483647 INVITE\r\n"
		"Contact: <sip:annc@192.0.2.1>\r\n"
		"Content-Type: application/sdp\r\n"
		"Content-Length: 5\r\n"
		"\r\n"
		"v=0\r\n";
	struct guard_buf g;
	struct sip_msg m;
	const char *why;
	char out[1024];
	int n;

	CHECK_INT(parse_guarded(&g, LIT(invite), &m, &why), 0);
	n = sip_build_response(out, sizeof(out), &m, 200, "OK", "ms1",
			       "Contact: <sip:annc@192.0.2.1>\r\n",
			       "application/sdp", "v=0\r\n", 5);
	CHECK_STRN(out, n < 0 ? 0 : (size_t)n, want);
	for (size_t cap = 0; cap < sizeof(want); cap++) {
		CHECK_INT(sip_build_response(out, cap, &m, 200, "OK", "ms1",
			  "Contact: <sip:annc@192.0.2.1>\r\n",
			  "application/sdp", "v=0\r\n", 5), -1);
	}
	CHECK_INT(sip_build_response(out, sizeof(out), &m, 1000, "X", NULL,
				     NULL, NULL, NULL, 0), -1);
	guard_free(&g);
}

/* Folded values come back on one line; an existing To tag is kept. */
static void
test_build_folded(void)
{
	static const char want[] =
		"SIP/2.0 100 Trying\r\n"
		"Via: SIP  /   2.0 /UDP 192.0.2.2;branch=390skdjuw\r\n"
		"Via: SIP  / 2.0  / TCP     spindle.example.com   ; "
		"branch  =   z9hG4bK9ikj8\r\n"
		"Via: SIP  /    2.0   / UDP  192.168.255.111   ; branch= "
		"z9hG4bK30239\r\n"
		"From: \"J Rosenberg \\\\\\\"\"       <sip:jdrosen@example.com> ; "
		"tag = 98asjd8\r\n"
		"To: sip:vivekg@chair-dnrc.example.com ;   tag    = 1918181833n\r\n"
		"Call-ID: wsinv.ndaksdj@192.0.2.1\r\n"
		"CSeq: 9 INVITE\r\n"
		"Content-Length: 0\r\n"
		"\r\n";
	struct guard_buf g;
	struct sip_msg m;
	const char *why;
	char out[1024];
	int n;

	CHECK_INT(parse_guarded(&g, LIT(wsinv), &m, &why), 0);
	n = sip_build_response(out, sizeof(out), &m, 100, "Trying", "zz",
			       NULL, NULL, NULL, 0);
	CHECK_STRN(out, n < 0 ? 0 : (size_t)n, want);
	guard_free(&g);
}

/* A reason phrase that quotes the caller's words with a line break in
 * them (an escaped CRLF in a URI parameter) adds no header line. */
static void
test_build_reason_crlf(void)
{
	static const char want[] =
		"SIP/2.0 415 Unsupported audio/x X-Injected: yes\r\n"
		"Via: SIP  /   2.0 /UDP 192.0.2.2;branch=390skdjuw\r\n";
	struct guard_buf g;
	struct sip_msg m;
	const char *why;
	char out[1024];
	int n;

	CHECK_INT(parse_guarded(&g, LIT(wsinv), &m, &why), 0);
	n = sip_build_response(out, sizeof(out), &m, 415,
			       "Unsupported audio/x\r\nX-Injected: yes", "zz",
			       NULL, NULL, NULL, 0);
	CHECK_STRN(out, n < (int)sizeof(want) - 1 ? 0 : sizeof(want) - 1,
		   want);
	guard_free(&g);
}

#define ST_HEAD	"UPDATE sip:annc@192.0.2.1 SIP/2.0\r\n" \
		"Via: SIP/2.0/UDP 192.0.2.5;branch=z9hG4bKst\r\n" \
		"From: <sip:a@192.0.2.5>;tag=f1\r\n" \
		"To: <sip:annc@192.0.2.1>;tag=t1\r\n" \
		"Call-ID: st-1\r\nCSeq: 2 UPDATE\r\n"

/* Parses ST_HEAD plus the header lines hdrs; returns sip_parse's. */
static int
parse_st(const char *hdrs, struct sip_msg *m, const char **why)
{
	static char msg[1024];
	static struct guard_buf g;
	int n = snprintf(msg, sizeof(msg), ST_HEAD "%sContent-Length: 0"
			 "\r\n\r\n", hdrs);

	if (g.map != NULL)
		guard_free(&g);
	return parse_guarded(&g, msg, (size_t)n, m, why);
}

/* RFC 4028 sections 4 and 5, and the Supported list. */
static void
test_session_timer_headers(void)
{
	struct sip_msg m;
	const char *why;

	CHECK_INT(parse_st("Session-Expires: 1800;refresher=uac\r\n"
			   "Min-SE: 120\r\nSupported: 100rel, Timer\r\n",
			   &m, &why), 0);
	CHECK_INT(m.session_expires, 1800);
	CHECK_STRN(m.se_refresher.p, m.se_refresher.n, "uac");
	CHECK_INT(m.min_se, 120);
	CHECK(sip_list_has(m.supported, m.n_supported, "timer"));
	CHECK(!sip_list_has(m.supported, m.n_supported, "100"));
	CHECK(!sip_list_has(m.supported, m.n_supported, "replaces"));
	/* Allow, which says whether a session refresh may be an UPDATE
	 * (RFC 4028 section 7.1); the ninth header is refused. */
	CHECK_INT(parse_st("Allow: INVITE, ACK\r\nAllow: update\r\n", &m,
			   &why), 0);
	CHECK(sip_list_has(m.allow, m.n_allow, "UPDATE"));
	CHECK(!sip_list_has(m.allow, m.n_allow, "BYE"));
	CHECK_INT(parse_st("Allow: A\r\nAllow: A\r\nAllow: A\r\n"
			   "Allow: A\r\nAllow: A\r\nAllow: A\r\n"
			   "Allow: A\r\nAllow: A\r\nAllow: A\r\n", &m, &why),
		  -1);
	CHECK(strcmp(why, "too many Allow headers") == 0);
	/* The compact form x, no refresher, Min-SE with a parameter. */
	CHECK_INT(parse_st("x: 90\r\nMin-SE: 90;foo=1\r\n", &m, &why), 0);
	CHECK_INT(m.session_expires, 90);
	CHECK_INT(m.se_refresher.n, 0);
	CHECK_INT(m.min_se, 90);
	CHECK_INT(m.n_supported, 0);
	CHECK_INT(parse_st("", &m, &why), 0);
	CHECK_INT(m.session_expires, 0);
	CHECK_INT(m.min_se, 0);
	/* Each bad value is named. */
	CHECK_INT(m.has_session_expires, 0);
	/* 0 is well formed (the 422 is stimer's to send). */
	CHECK_INT(parse_st("Session-Expires: 0\r\n", &m, &why), 0);
	CHECK_INT(m.has_session_expires, 1);
	CHECK_INT(m.session_expires, 0);
	CHECK_INT(parse_st("Session-Expires: 0\r\nx: 0\r\n", &m, &why),
		  -1);
	CHECK(strcmp(why, "duplicate Session-Expires") == 0);
	CHECK_INT(parse_st("Session-Expires: abc\r\n", &m, &why), -1);
	CHECK_INT(parse_st("Session-Expires: 4294967296\r\n", &m, &why),
		  -1);
	CHECK_INT(parse_st("Session-Expires: 4294967295\r\n", &m, &why), 0);
	CHECK_INT(m.session_expires, 4294967295u);
	CHECK_INT(parse_st("Session-Expires: 90;refresher=me\r\n", &m,
			   &why), -1);
	CHECK(strcmp(why, "bad Session-Expires: \"90;refresher=me\"") == 0);
	CHECK_INT(parse_st("Session-Expires: 90\r\nx: 100\r\n", &m, &why),
		  -1);
	CHECK(strcmp(why, "duplicate Session-Expires") == 0);
	CHECK_INT(parse_st("Min-SE: 90 s\r\n", &m, &why), -1);
	CHECK(strcmp(why, "bad Min-SE: \"90 s\"") == 0);
}

static void
test_str_eq(void)
{
	struct sip_str s = { "INVITE", 6 };

	CHECK(sip_str_eq(s, "INVITE"));
	CHECK(!sip_str_eq(s, "invite"));
	CHECK(!sip_str_eq(s, "INVIT"));
	CHECK(sip_str_caseeq(s, "invite"));
	CHECK(!sip_str_caseeq(s, "invitee"));
}

/* A request that crossed n proxies carries n + 1 Via values; the most a
 * legal request can have (Max-Forwards from 70 down to 0) parses, one
 * more is refused by name.
 */
static int
parse_with_vias(unsigned int n, struct sip_msg *m, const char **why)
{
	static char msg[16384];
	struct guard_buf g;
	size_t len = 0;
	unsigned int i;
	int rc;

	len += (size_t)snprintf(msg + len, sizeof(msg) - len,
				"OPTIONS sip:annc@192.0.2.1 SIP/2.0\r\n");
	for (i = 0; i < n; i++)
		len += (size_t)snprintf(msg + len, sizeof(msg) - len,
					"Via: SIP/2.0/UDP 192.0.2.%u;branch="
					"z9hG4bKv%u\r\n", i % 250 + 1, i);
	len += (size_t)snprintf(msg + len, sizeof(msg) - len,
				"From: <sip:a@192.0.2.9>;tag=1\r\n"
				"To: <sip:annc@192.0.2.1>\r\nCall-ID: v@x\r\n"
				"CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n");
	rc = sip_parse(guard_copy(&g, msg, len), len, m, why);
	/* The views point into the guarded copy: check the top branch
	 * before it goes. */
	if (rc == 0)
		CHECK_STRN(m->branch.p, m->branch.n, "z9hG4bKv0");
	guard_free(&g);
	return rc;
}

static void
test_many_vias(void)
{
	struct sip_msg m;
	const char *why = NULL;

	CHECK_INT(parse_with_vias(28, &m, &why), 0);	/* RFC 4475 longreq */
	CHECK_INT(m.n_via, 28);
	CHECK_INT(parse_with_vias(SIP_MAX_VIA, &m, &why), 0);
	CHECK_INT(m.n_via, SIP_MAX_VIA);
	CHECK_INT(parse_with_vias(SIP_MAX_VIA + 1, &m, &why), -1);
	CHECK(why != NULL && strcmp(why, "too many Via values") == 0);
}

/* A request of nfields header fields in all, the first of them a Subject
 * of subj_len bytes (its CRLF not counted), and a fold in it when fold.
 */
static int
parse_with_fields(unsigned int nfields, size_t subj_len, int fold,
		  struct sip_msg *m, const char **why)
{
	static char msg[32768];
	static struct guard_buf g;
	size_t len = 0, head = strlen("Subject: ");
	unsigned int i;

	if (g.map != NULL)
		guard_free(&g);
	len += (size_t)snprintf(msg, sizeof(msg),
				"OPTIONS sip:annc@192.0.2.1 SIP/2.0\r\n"
				"Subject: ");
	memset(msg + len, 'a', subj_len - head);
	if (fold)	/* a continuation line counts in its field */
		memcpy(msg + len + 4, "\r\n ", 3);
	len += subj_len - head;
	len += (size_t)snprintf(msg + len, sizeof(msg) - len, "\r\n"
				"Via: SIP/2.0/UDP 192.0.2.9;branch=z9hG4bKf\r\n"
				"From: <sip:a@192.0.2.9>;tag=1\r\n"
				"To: <sip:annc@192.0.2.1>\r\nCall-ID: f@x\r\n"
				"CSeq: 1 OPTIONS\r\n");
	for (i = 6; i < nfields; i++)
		len += (size_t)snprintf(msg + len, sizeof(msg) - len,
					"X-Pad: %u\r\n", i);
	len += (size_t)snprintf(msg + len, sizeof(msg) - len, "\r\n");
	return parse_guarded(&g, msg, len, m, why);
}

/* --sip-max-headers and --sip-max-line-bytes: exactly the limit parses,
 * one more is refused naming the option, with the fields a 400 copies
 * still read.
 */
static void
test_header_limits(void)
{
	struct sip_limits small = { .max_headers = 10, .max_line = 100 };
	struct sip_limits dflt = {
		.max_headers = SIP_MAX_HEADERS_DEFAULT,
		.max_line = SIP_MAX_LINE_BYTES_DEFAULT,
	};
	struct sip_msg m;
	const char *why = NULL;

	CHECK_INT(parse_with_fields(SIP_MAX_HEADERS_DEFAULT, 20, 0, &m, &why),
		  0);
	CHECK_INT(parse_with_fields(SIP_MAX_HEADERS_DEFAULT + 1, 20, 0, &m,
				    &why), -1);
	CHECK(strcmp(why, "header fields over --sip-max-headers") == 0);
	CHECK_INT(m.fail_code, 400);
	CHECK_STRN(m.call_id.p, m.call_id.n, "f@x");
	CHECK_INT(parse_with_fields(8, SIP_MAX_LINE_BYTES_DEFAULT, 0, &m, &why),
		  0);
	CHECK_INT(m.call_id.n, 3);
	CHECK_INT(parse_with_fields(8, SIP_MAX_LINE_BYTES_DEFAULT + 1, 0, &m,
				    &why), -1);
	CHECK(strcmp(why, "header line over --sip-max-line-bytes") == 0);
	CHECK_INT(m.fail_code, 400);
	CHECK_STRN(m.call_id.p, m.call_id.n, "f@x");
	CHECK_INT(m.n_via, 1);

	sip_set_limits(&small);
	CHECK_INT(parse_with_fields(10, 100, 0, &m, &why), 0);
	CHECK_INT(parse_with_fields(11, 100, 0, &m, &why), -1);
	CHECK(strcmp(why, "header fields over --sip-max-headers") == 0);
	CHECK_INT(parse_with_fields(10, 100, 1, &m, &why), 0);
	CHECK_INT(parse_with_fields(10, 101, 1, &m, &why), -1);
	CHECK(strcmp(why, "header line over --sip-max-line-bytes") == 0);
	sip_set_limits(&dflt);
	CHECK_INT(parse_with_fields(11, 101, 1, &m, &why), 0);
}

int
main(void)
{
	test_invite();
	test_via_forms();
	test_compact_forms();
	test_wsinv();
	test_rfc4475_valid();
	test_framing();
	test_responses();
	test_rfc4475_invalid();
	test_own_invalid();
	test_prefixes_and_mutations(LIT(invite));
	test_prefixes_and_mutations(LIT(wsinv));
	test_build_response();
	test_build_folded();
	test_build_reason_crlf();
	test_str_eq();
	test_many_vias();
	test_session_timer_headers();
	test_header_limits();
	return CHECK_DONE();
}
