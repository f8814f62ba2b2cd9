/* SPDX-License-Identifier: Apache-2.0 */
/*
 * probe_privileges: the part of `keyhole probe` that says what this process's privileges and
 * perf_event_paranoid mean for the tap, and which path `run --tap MODE` gives an apiserver
 * running at its start and one whose binary it first sees after its start-up privilege drop.
 */
#ifndef KEYHOLE_CMD_PROBE_PRIVILEGES_H
#define KEYHOLE_CMD_PROBE_PRIVILEGES_H

#include <stdbool.h>
#include <stdio.h>

#include "keyhole/tap_path.h"

struct probe_priv_opts {
	enum tap_mode mode;
	bool late_uprobes; /* explain `run --late-uprobes` */
	bool json;	   /* a ,"privileges":{...} member instead of text lines */
	FILE *f;
};

void probe_privileges__print(const struct probe_priv_opts *o);

#endif /* KEYHOLE_CMD_PROBE_PRIVILEGES_H */
