// SPDX-License-Identifier: Apache-2.0
/*
 * cmd_pending: `run` and `probe` before the audit tap lands. They say plainly that live capture
 * is not in this build instead of pretending. DELETE THIS FILE when src/cmd/cmd_run.c and
 * src/cmd/cmd_probe.c land.
 */
#include "cmd/commands.h"
#include "keyhole/log.h"

int cmd_run(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	kh_log(KH_LOG_ERROR, "live capture is not in this build yet; use `keyhole replay`");
	return 1;
}

int cmd_probe(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	kh_log(KH_LOG_ERROR, "kernel probing is not in this build yet");
	return 1;
}
