/* The TSC calibrated against CLOCK_MONOTONIC_RAW, and the conversions the
 * pacer uses on every packet: fixed-point multipliers, so that a conversion
 * is one 64x64->128 multiply and a shift, never a division.  CLOCK_REALTIME
 * is read once beside the TSC, for the NTP timestamps of RTCP reports.
 */
#include <errno.h>
#include <time.h>

#include <rte_cycles.h>

#include "core/clock.h"

#define CLOCK_NS_PER_S	1000000000ull
/* RFC 5905 section 6: from the NTP era 0 epoch (1900) to the Unix one. */
#define CLOCK_NTP_UNIX	2208988800ull

/* With 2^40 both multipliers of a 1 to 4 GHz TSC keep 12 significant
 * digits (a few ticks of error per hour), a rate up to 8 PHz fits in
 * 64 bits, and the 128-bit product cannot overflow for centuries.
 */
#define CLOCK_SHIFT	40

static uint64_t clock_hz;
static uint64_t clock_ns2tsc_mult;	/* ticks per ns, << CLOCK_SHIFT */
static uint64_t clock_tsc2ns_mult;	/* ns per tick, << CLOCK_SHIFT */
static uint64_t clock_real_ns;		/* CLOCK_REALTIME at clock_real_tsc */
static uint64_t clock_real_tsc;

static uint64_t
clock_raw_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_RAW, &ts);
	return (uint64_t)ts.tv_sec * CLOCK_NS_PER_S + (uint64_t)ts.tv_nsec;
}

/* Reads CLOCK_MONOTONIC_RAW and the TSC at the same instant, as nearly as
 * can be: the TSC is read on both sides of clock_gettime() and the midpoint
 * taken, which halves the error of the 30 ns call.
 */
static void
clock_sample(uint64_t *ns, uint64_t *tsc)
{
	uint64_t t0, t1;

	t0 = rte_rdtsc_precise();
	*ns = clock_raw_ns();
	t1 = rte_rdtsc_precise();
	*tsc = t0 + (t1 - t0) / 2;
}

/* The same for CLOCK_REALTIME: the anchor of the NTP timestamps. */
static void
clock_anchor_realtime(void)
{
	struct timespec ts;
	uint64_t t0, t1;

	t0 = rte_rdtsc_precise();
	clock_gettime(CLOCK_REALTIME, &ts);
	t1 = rte_rdtsc_precise();
	clock_real_tsc = t0 + (t1 - t0) / 2;
	clock_real_ns = (uint64_t)ts.tv_sec * CLOCK_NS_PER_S +
			(uint64_t)ts.tv_nsec;
}

static void
clock_sleep_ms(unsigned int ms)
{
	struct timespec ts = {
		.tv_sec = ms / 1000,
		.tv_nsec = (long)(ms % 1000) * 1000000,
	};

	/* EINTR only shortens the interval; the rate is measured, not assumed. */
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

uint64_t
clock_calibrate(unsigned int ms)
{
	uint64_t ns0, tsc0, ns1, tsc1, dns, dtsc;

	if (ms == 0)
		ms = 1;
	clock_sample(&ns0, &tsc0);
	clock_sleep_ms(ms);
	clock_sample(&ns1, &tsc1);

	dns = ns1 - ns0;
	dtsc = tsc1 - tsc0;
	if (dns == 0 || dtsc == 0)
		return 0;

	clock_hz = (uint64_t)((unsigned __int128)dtsc * CLOCK_NS_PER_S / dns);
	clock_ns2tsc_mult = (uint64_t)(((unsigned __int128)dtsc << CLOCK_SHIFT)
				       / dns);
	clock_tsc2ns_mult = (uint64_t)(((unsigned __int128)dns << CLOCK_SHIFT)
				       / dtsc);
	clock_anchor_realtime();
	return clock_hz;
}

uint64_t
clock_tsc_hz(void)
{
	return clock_hz;
}

uint64_t
clock_ns_to_tsc(uint64_t ns)
{
	return (uint64_t)(((unsigned __int128)ns * clock_ns2tsc_mult)
			  >> CLOCK_SHIFT);
}

uint64_t
clock_tsc_to_ns(uint64_t tsc)
{
	return (uint64_t)(((unsigned __int128)tsc * clock_tsc2ns_mult)
			  >> CLOCK_SHIFT);
}

uint64_t
clock_tsc_to_ntp(uint64_t tsc)
{
	uint64_t ns, sec, frac;

	if (tsc >= clock_real_tsc)
		ns = clock_real_ns + clock_tsc_to_ns(tsc - clock_real_tsc);
	else
		ns = clock_real_ns - clock_tsc_to_ns(clock_real_tsc - tsc);
	sec = ns / CLOCK_NS_PER_S + CLOCK_NTP_UNIX;
	frac = ((ns % CLOCK_NS_PER_S) << 32) / CLOCK_NS_PER_S;
	return sec << 32 | frac;
}
