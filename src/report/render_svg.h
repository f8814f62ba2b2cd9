/* SPDX-License-Identifier: Apache-2.0 */
/*
 * render_svg: the report's two pictures, as inline SVG: an incident's timeline (one lane per
 * kind of step) and the alerts-over-time plot (stacked by severity). The colours are fixed and
 * used nowhere else on the page (tests find the pictures by them).
 */
#ifndef KEYHOLE_REPORT_RENDER_SVG_H
#define KEYHOLE_REPORT_RENDER_SVG_H

#include <stdio.h>

#include "report/jdom.h"
#include "report/model.h"

#define COL_GRANT "#6a3d9a"
#define COL_SECRET "#e31a1c"
#define COL_EXEC "#ff7f00"
#define COL_NODE "#1f78b4"
#define COL_OTHER "#33a02c"

#define COL_CRITICAL "#8e0152"
#define COL_HIGH "#d7301f"
#define COL_MEDIUM "#fc8d59"
#define COL_LOW "#4575b4"

/* @inc: the keyhole.incident object of the incident's latest alert */
void svg_timeline(FILE *f, const struct jdoc *d, const struct jnode *inc);
void svg_alert_plot(FILE *f, const struct kh_report *r);
/* the same time buckets, one strip per rule and severity, shaded by count */
void svg_rule_strips(FILE *f, const struct kh_report *r);

#endif /* KEYHOLE_REPORT_RENDER_SVG_H */
