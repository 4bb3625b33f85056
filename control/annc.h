/* The announcement service (RFC 4240) as profiled for streaming messaging
 * attachments (RFC 5616): SIP over UDP on the event loop, one call per
 * INVITE to sip:annc@..., its fetch, its SDP answer and its stream.
 */
#ifndef ANNCD_CONTROL_ANNC_H
#define ANNCD_CONTROL_ANNC_H

#include <stdint.h>

#include "control/config.h"

/* Binds the SIP socket and starts receiving.  Returns 0 or -errno. */
int
annc_init(const struct anncd_config *cfg);

/* Timers, dataplane events and released contents; call every few ms. */
void
annc_tick(uint64_t now_ms);

/* Stops every stream; returns the calls still open. */
unsigned int
annc_shutdown(void);

/* Calls now in progress. */
unsigned int
annc_active_calls(void);

/* Logs the content cache's counters and the IMAP connections opened, on
 * one line.
 */
void
annc_log_counters(void);

/* Releases the content cache; after the dataplane has stopped. */
void
annc_fini(void);

#endif
