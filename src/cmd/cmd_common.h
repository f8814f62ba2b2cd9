/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cmd_common: what several subcommands share: usage errors, opening the alert output, loading
 * the configuration.
 */
#ifndef KEYHOLE_CMD_COMMON_H
#define KEYHOLE_CMD_COMMON_H

#include <stdio.h>

struct kh_config;

/* print "keyhole: error: <msg>" and a pointer to --help; returns 2 (usage error) */
int cmd__usage_error(const char *usage, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* NULL or "-": stdout; "syslog:[FACILITY]": syslog; else FILE, appended, reopened on SIGHUP */
int cmd__open_output(const char *path, FILE **out);

/* NULL path: *cfg = NULL (every default). Errors are reported here; returns nonzero on error. */
int cmd__load_config(const char *path, const struct kh_config **cfg);
void cmd__free_config(const struct kh_config *cfg);

/* order @files oldest first by modification time (ties: as given), as a rotated set is */
void cmd_sort_by_mtime(char **files, int n);

#endif /* KEYHOLE_CMD_COMMON_H */
