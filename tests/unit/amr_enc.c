/* Test helper: encodes raw 16-bit mono PCM (8 kHz for AMR, 16 kHz for
 * AMR-WB) into an RFC 4867 storage file with the reference encoders of
 * opencore-amrnb and vo-amrwbenc, with or without discontinuous
 * transmission, so that the tests read frames a real encoder wrote,
 * SID and NO_DATA ones included.
 *
 *   amr_enc nb|wb MODE DTX IN.raw OUT.amr
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <opencore-amrnb/interf_enc.h>
#include <vo-amrwbenc/enc_if.h>

#define ENC_MAX_FRAME	64	/* a storage frame: header and 60 bytes */

int
main(int argc, char **argv)
{
	short pcm[320];
	unsigned char out[ENC_MAX_FRAME];
	int wb, mode, dtx, n, samples;
	void *st;
	FILE *in, *fo;

	if (argc != 6) {
		fprintf(stderr, "usage: amr_enc nb|wb MODE DTX IN OUT\n");
		return 2;
	}
	wb = strcmp(argv[1], "wb") == 0;
	mode = atoi(argv[2]);
	dtx = atoi(argv[3]);
	samples = wb ? 320 : 160;
	in = fopen(argv[4], "rb");
	fo = fopen(argv[5], "wb");
	if (in == NULL || fo == NULL) {
		perror("amr_enc");
		return 2;
	}
	st = wb ? E_IF_init() : Encoder_Interface_init(dtx);
	fputs(wb ? "#!AMR-WB\n" : "#!AMR\n", fo);
	while (fread(pcm, sizeof(short), (size_t)samples, in) ==
	       (size_t)samples) {
		n = wb ? E_IF_encode(st, mode, pcm, out, dtx) :
		    Encoder_Interface_Encode(st, (enum Mode)mode, pcm, out, 0);
		if (n > 0)
			fwrite(out, 1, (size_t)n, fo);
	}
	if (wb)
		E_IF_exit(st);
	else
		Encoder_Interface_exit(st);
	fclose(in);
	return fclose(fo) == 0 ? 0 : 1;
}
