/* TLS over memory BIOs: client sessions for the IMAP client and for SIP
 * connections anncd opens, server sessions for SIP over TLS.  OpenSSL never touches
 * a socket: received ciphertext is written into the read BIO, and what
 * OpenSSL writes into the write BIO is taken out and sent by the loop.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "control/tls.h"
#include "core/log.h"

struct tls_conn {
	SSL *ssl;
	BIO *rbio;	/* ciphertext from the peer */
	BIO *wbio;	/* ciphertext for the peer */
};

static SSL_CTX *tls_ctx;
static SSL_CTX *tls_srv_ctx;
static SSL_CTX *tls_sip_ctx;

int
tls_init(const char *ca_file)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	int ok;

	if (ctx == NULL)
		return -ENOMEM;
	/* RFC 8996: nothing older than TLS 1.2. */
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	ok = ca_file != NULL ?
	     SSL_CTX_load_verify_locations(ctx, ca_file, NULL) :
	     SSL_CTX_set_default_verify_paths(ctx);
	if (!ok) {
		LOG_AT(LOGL_ERR, "tls", "loading CA certificates from %s "
		       "failed: %s", ca_file ? ca_file : "the system store",
		       ERR_reason_error_string(ERR_peek_last_error()));
		ERR_clear_error();
		SSL_CTX_free(ctx);
		return -EINVAL;
	}
	tls_ctx = ctx;
	return 0;
}

void
tls_fini(void)
{
	SSL_CTX_free(tls_ctx);
	tls_ctx = NULL;
}

/* RFC 6125: the reference identity is the host as the URL names it; an
 * IP address is matched against iPAddress entries and gets no SNI (RFC
 * 6066 section 3 allows host names only).
 */
static int
tls_set_peer(SSL *ssl, const char *host)
{
	unsigned char addr[16];

	if (inet_pton(AF_INET, host, addr) == 1 ||
	    inet_pton(AF_INET6, host, addr) == 1)
		return X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host);
	SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
	return SSL_set_tlsext_host_name(ssl, host) && SSL_set1_host(ssl, host);
}

int
tls_server_init(const char *cert_file, const char *key_file)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
	const char *bad = NULL;

	if (ctx == NULL)
		return -ENOMEM;
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	/* A TLS 1.2 peer could make the control lcore sign a handshake
	 * again and again on one connection: renegotiation is refused with
	 * an alert (RFC 5746 does not oblige a server to take it). */
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION);
	if (SSL_CTX_use_certificate_chain_file(ctx, cert_file) != 1)
		bad = cert_file;
	else if (SSL_CTX_use_PrivateKey_file(ctx, key_file,
					     SSL_FILETYPE_PEM) != 1 ||
		 SSL_CTX_check_private_key(ctx) != 1)
		bad = key_file;
	if (bad != NULL) {
		LOG_AT(LOGL_ERR, "tls", "loading %s failed: %s", bad,
		       ERR_reason_error_string(ERR_peek_last_error()));
		ERR_clear_error();
		SSL_CTX_free(ctx);
		return -EINVAL;
	}
	tls_srv_ctx = ctx;
	return 0;
}

void
tls_server_fini(void)
{
	SSL_CTX_free(tls_srv_ctx);
	tls_srv_ctx = NULL;
}

/* A session on ctx over two fresh memory BIOs; host names the server a
 * client session checks, NULL for a server session. */
static struct tls_conn *
tls_conn_make(SSL_CTX *ctx, const char *host)
{
	struct tls_conn *t;

	if (ctx == NULL || (t = calloc(1, sizeof(*t))) == NULL)
		return NULL;
	t->ssl = SSL_new(ctx);
	t->rbio = BIO_new(BIO_s_mem());
	t->wbio = BIO_new(BIO_s_mem());
	if (t->ssl == NULL || t->rbio == NULL || t->wbio == NULL ||
	    (host != NULL && !tls_set_peer(t->ssl, host))) {
		BIO_free(t->rbio);
		BIO_free(t->wbio);
		SSL_free(t->ssl);
		free(t);
		ERR_clear_error();
		return NULL;
	}
	/* An empty read BIO means "wait for more", not end of stream. */
	BIO_set_mem_eof_return(t->rbio, -1);
	SSL_set_bio(t->ssl, t->rbio, t->wbio);
	if (host != NULL)
		SSL_set_connect_state(t->ssl);
	else
		SSL_set_accept_state(t->ssl);
	return t;
}

struct tls_conn *
tls_conn_new(const char *host)
{
	return tls_conn_make(tls_ctx, host);
}

int
tls_sip_client_init(const char *verify)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	int ok = 1;

	if (ctx == NULL)
		return -ENOMEM;
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_verify(ctx, verify ? SSL_VERIFY_PEER : SSL_VERIFY_NONE,
			   NULL);
	if (verify != NULL)
		ok = strcmp(verify, "system") == 0 ?
		     SSL_CTX_set_default_verify_paths(ctx) :
		     SSL_CTX_load_verify_locations(ctx, verify, NULL);
	if (!ok) {
		LOG_AT(LOGL_ERR, "tls", "loading CA certificates from %s "
		       "failed: %s", verify,
		       ERR_reason_error_string(ERR_peek_last_error()));
		ERR_clear_error();
		SSL_CTX_free(ctx);
		return -EINVAL;
	}
	tls_sip_ctx = ctx;
	return 0;
}

void
tls_sip_client_fini(void)
{
	SSL_CTX_free(tls_sip_ctx);
	tls_sip_ctx = NULL;
}

struct tls_conn *
tls_conn_new_sip(const char *ip)
{
	return tls_conn_make(tls_sip_ctx, ip);
}

struct tls_conn *
tls_conn_new_server(void)
{
	return tls_conn_make(tls_srv_ctx, NULL);
}

void
tls_conn_free(struct tls_conn *t)
{
	if (t == NULL)
		return;
	SSL_free(t->ssl);	/* frees both BIOs */
	free(t);
}

int
tls_feed(struct tls_conn *t, const void *buf, size_t n)
{
	return BIO_write(t->rbio, buf, (int)n) == (int)n ? 0 : -ENOMEM;
}

int
tls_handshake(struct tls_conn *t, char *why, size_t cap)
{
	long vr;
	int rc = SSL_do_handshake(t->ssl), err;

	if (rc == 1)
		return 1;
	err = SSL_get_error(t->ssl, rc);
	if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE)
		return 0;
	vr = SSL_get_verify_result(t->ssl);
	if (vr != X509_V_OK)
		snprintf(why, cap, "certificate verify failed: %s",
			 X509_verify_cert_error_string(vr));
	else if (ERR_peek_last_error() != 0)
		snprintf(why, cap, "%s", ERR_reason_error_string(
			 ERR_peek_last_error()));
	else
		snprintf(why, cap, "handshake failed");
	ERR_clear_error();
	return -1;
}

ssize_t
tls_read(struct tls_conn *t, void *buf, size_t cap)
{
	int rc = SSL_read(t->ssl, buf, (int)(cap > INT32_MAX ? INT32_MAX : cap));

	if (rc > 0)
		return rc;
	rc = SSL_get_error(t->ssl, rc);
	ERR_clear_error();
	return rc == SSL_ERROR_WANT_READ ? 0 : -1;
}

int
tls_record_pending(struct tls_conn *t)
{
	/* SSL_has_pending counts a partial record OpenSSL has taken from
	 * the read BIO into its own buffer, as well as decrypted bytes. */
	return SSL_has_pending(t->ssl) || BIO_ctrl_pending(t->rbio) > 0;
}

int
tls_output_pending(struct tls_conn *t)
{
	return BIO_ctrl_pending(t->wbio) > 0;
}

int
tls_write(struct tls_conn *t, const void *buf, size_t n)
{
	/* Memory BIOs grow: a write is whole or fails. */
	if (n == 0)
		return 0;
	if (SSL_write(t->ssl, buf, (int)n) != (int)n) {
		ERR_clear_error();
		return -1;
	}
	return 0;
}

size_t
tls_take(struct tls_conn *t, void *buf, size_t cap)
{
	int rc = BIO_read(t->wbio, buf, (int)(cap > INT32_MAX ? INT32_MAX : cap));

	return rc > 0 ? (size_t)rc : 0;
}
