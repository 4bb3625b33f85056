/* The TSC as a clock.  rte_get_tsc_hz() is rounded by the EAL (to 10 MHz
 * on some hosts, 0.19 % off), which would make RTP timestamps drift
 * against real time; anncd measures the TSC against CLOCK_MONOTONIC_RAW
 * once at start-up and converts with that figure everywhere.
 */
#ifndef ANNCD_CORE_CLOCK_H
#define ANNCD_CORE_CLOCK_H

#include <stdint.h>

/* Measures the TSC rate over about ms milliseconds of CLOCK_MONOTONIC_RAW.
 * Returns the rate in Hz, also kept for the conversions below.
 */
uint64_t
clock_calibrate(unsigned int ms);

/* The calibrated rate (0 before clock_calibrate). */
uint64_t
clock_tsc_hz(void);

/* Nanoseconds to TSC ticks and back, with the calibrated rate. */
uint64_t
clock_ns_to_tsc(uint64_t ns);
uint64_t
clock_tsc_to_ns(uint64_t tsc);

/* The wall-clock time at TSC value tsc as a 64-bit NTP timestamp (RFC 5905
 * section 6: seconds since 1900 in the high word, the fraction in the low
 * one), from CLOCK_REALTIME read once by clock_calibrate() and the
 * calibrated rate since: no system call, and no step when the system
 * clock is set later.
 */
uint64_t
clock_tsc_to_ntp(uint64_t tsc);

#endif
