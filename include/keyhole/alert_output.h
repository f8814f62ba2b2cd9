/* SPDX-License-Identifier: Apache-2.0 */
/*
 * alert_output: where alert JSON lines go. Every kind is a plain FILE * to the pipeline:
 *   "-" or NULL        stdout (fully buffered unless a terminal; the caller flushes)
 *   PATH               a file, appended, mode 0640, reopened after SIGHUP so logrotate's
 *                      `create` + `postrotate kill -HUP` works without copytruncate
 *   "syslog:" or       syslog(3), one message per alert line, ident "keyhole", at LOG_WARNING;
 *   "syslog:FACILITY"  FACILITY is user, daemon (default), auth, authpriv or local0..local7
 * Close with fclose() (stdout excepted), as with any FILE *.
 */
#ifndef KEYHOLE_ALERT_OUTPUT_H
#define KEYHOLE_ALERT_OUTPUT_H

#include <stdio.h>

/* Open @spec as above. Returns 0, or a negative errno reported here with the spec and a fix. */
int alert_output__open(const char *spec, FILE **out);

/*
 * Ask every file output to reopen its path before its next write. Async-signal-safe: call it
 * from a SIGHUP handler. Data still buffered at the time goes to the new file.
 */
void alert_output__request_reopen(void);

/* Install a SIGHUP handler that calls alert_output__request_reopen(). Returns 0 or -errno. */
int alert_output__install_sighup(void);

#endif /* KEYHOLE_ALERT_OUTPUT_H */
