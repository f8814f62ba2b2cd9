/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sigma_impl: the compiled form of a Sigma rule set, shared by the files of src/sigma/ only.
 *
 * Load turns YAML into these structs once; the per-event path (sigma_set.c) reads them without
 * allocating. Strings the matchers compare against are stored lower-cased when the match is
 * case-insensitive (Sigma's default), so only the event side is folded, byte by byte, on the fly.
 */
#ifndef KEYHOLE_SIGMA_IMPL_H
#define KEYHOLE_SIGMA_IMPL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "keyhole/audit_event.h"
#include "keyhole/rule.h"
#include "keyhole/sigma.h"

/* ---- errors -----------------------------------------------------------------------------------
 */

/* where a rule went wrong: 1-based line and column in its file */
struct sg_err {
	const char *file;
	unsigned line, column;
	char msg[256];
};

int sg_fail(struct sg_err *e, unsigned line, unsigned column, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* ---- fields ------------------------------------------------------------------------------------
 */

/* the values a field can hold in one event */
enum sg_vtype { SG_V_STR, SG_V_NUM, SG_V_BOOL, SG_V_NULL, SG_V_OBJ };

struct sg_val {
	const char *p; /* decoded bytes (into the line, or the event's scratch) */
	uint32_t len;
	uint8_t type; /* enum sg_vtype */
};

/* a field is resolved at load to one of these: an audit_event member, or raw paths to walk */
enum sg_fast {
	SG_F_RAW = 0,
	SG_F_VERB,
	SG_F_RESOURCE,
	SG_F_SUBRESOURCE,
	SG_F_NAMESPACE,
	SG_F_NAME,
	SG_F_APIGROUP,
	SG_F_APIVERSION,
	SG_F_USERNAME,
	SG_F_UID,
	SG_F_GROUPS,
	SG_F_IMP_USERNAME,
	SG_F_IMP_GROUPS,
	SG_F_SOURCEIPS,
	SG_F_USERAGENT,
	SG_F_REQUESTURI,
	SG_F_STAGE,
	SG_F_LEVEL,
	SG_F_AUDITID,
	SG_F_DECISION,
	SG_F_REASON,
	SG_F_CODE,
	SG_F_REQ_TS,
	SG_F_STAGE_TS,
	SG_F_KIND,
	SG_F_EVENT_APIVERSION,
	SG_F_EXEC_COMMAND, /* keyhole.exec.command: requestURI's command= values, decoded */
	SG_F_COUNT,
};

/* at most this many raw paths per field (a mapped name can stand for several) */
#define SG_MAX_PATHS 3

struct sg_field {
	char *name; /* as the rule spells it */
	enum sg_fast fast;
	char *paths[SG_MAX_PATHS]; /* SG_F_RAW: dotted raw-Event paths, OR'ed */
	uint32_t n_paths;
};

/* values kept per field per event; more are ignored (a pod has a bounded number of containers) */
#define SG_MAX_VALUES 64

/* ---- value matchers ------------------------------------------------------------------------ */

enum sg_op {
	SG_EQ,
	SG_PREFIX,
	SG_SUFFIX,
	SG_CONTAINS,
	SG_GLOB,
	SG_ANY, /* '*' alone: any present, non-null value */
	SG_RE,	/* PCRE2, case-sensitive unless re|i */
	SG_CIDR,
	SG_EXISTS, /* exists: true/false */
	SG_NULL,   /* null: absent or JSON null */
	SG_GT,
	SG_GTE,
	SG_LT,
	SG_LTE,
	SG_FIELDREF, /* equal to another field of the same event */
};

/* glob pattern bytes: a literal byte, or one of these above 0xff */
#define SG_GLOB_STAR 0x100
#define SG_GLOB_ONE 0x101

struct sg_match {
	uint8_t op;  /* enum sg_op */
	bool cased;  /* exact bytes; otherwise ASCII case-insensitive (lit is lower-case) */
	bool negate; /* exists: false */
	char *lit;   /* EQ/PREFIX/SUFFIX/CONTAINS literal */
	uint32_t len;
	uint16_t *glob; /* SG_GLOB */
	uint32_t glob_len;
	void *re;	  /* pcre2_code * */
	void *re_md;	  /* pcre2_match_data * */
	uint8_t cidr[16]; /* network, v4 in the first 4 bytes */
	uint8_t cidr_bits;
	uint8_t cidr_family; /* 4 or 6 */
	double num;
	int ref_field; /* SG_FIELDREF: field slot */
};

/* one `field|modifiers: value(s)` of a selection */
struct sg_item {
	int field; /* slot in the set's field table; -1 for keywords (the whole line) */
	bool all;  /* |all: every matcher must match */
	struct sg_match *m;
	uint32_t n;
};

/* a selection is an OR of AND-groups of items (a map is one group, a list of maps several) */
struct sg_group {
	struct sg_item *items;
	uint32_t n;
};

struct sg_selection {
	char *name;
	struct sg_group *groups;
	uint32_t n;
};

/* ---- conditions ------------------------------------------------------------------------------ */

enum sg_cop { SG_C_SEL, SG_C_NOT, SG_C_AND, SG_C_OR, SG_C_TRUE, SG_C_FALSE };

struct sg_cond {
	uint8_t op; /* enum sg_cop */
	uint32_t sel;
	struct sg_cond **kids;
	uint32_t n;
};

/*
 * Parse @text (a Sigma condition) over @sels into *@out. Errors go to @e with the column of the
 * offending token added to @col (the condition's own position in the file).
 */
int sg_cond_parse(const char *text, const struct sg_selection *sels, size_t n_sels,
		  struct sg_cond **out, struct sg_err *e, unsigned line, unsigned col);
void sg_cond_free(struct sg_cond *c);

/* ---- rules ----------------------------------------------------------------------------------- */

enum sg_kind { SG_DETECTION, SG_EVENT_COUNT, SG_VALUE_COUNT, SG_TEMPORAL, SG_TEMPORAL_ORDERED };

enum sg_cmp { SG_CMP_GT, SG_CMP_GTE, SG_CMP_LT, SG_CMP_LTE, SG_CMP_EQ, SG_CMP_NEQ };

/* referenced rules per correlation */
#define SG_MAX_REFS 16
/* group-by fields per correlation */
#define SG_MAX_GROUP_BY 8

struct sg_corr_state;

struct sg_rule {
	struct kh_rule_info info; /* what the alert envelope writes */
	char *id, *name, *title, *file, *level, *source;
	char *techniques[KH_MAX_TECHNIQUES];
	char *tactics[KH_MAX_TECHNIQUES];
	enum sg_kind kind;
	bool silent; /* referenced by a correlation without generate: true */

	/* detection */
	struct sg_selection *sels;
	uint32_t n_sels;
	struct sg_cond *cond;

	/* correlation */
	char *refs_text[SG_MAX_REFS];
	uint32_t refs[SG_MAX_REFS]; /* rule indices, resolved after all files load */
	uint32_t n_refs;
	bool generate;
	int group_by[SG_MAX_REFS][SG_MAX_GROUP_BY]; /* per referenced rule (aliases) */
	char *group_by_names[SG_MAX_GROUP_BY];
	char *alias_text[SG_MAX_GROUP_BY][SG_MAX_REFS]; /* alias -> per-rule field names */
	uint32_t n_group_by;
	int64_t timespan_ns;
	enum sg_cmp cmp; /* the lower bound (or the one comparison): sizes the arrival window */
	uint64_t threshold;
	/* every comparison of the condition, AND'ed (a range is two) */
	struct {
		uint8_t cmp; /* enum sg_cmp */
		uint64_t v;
	} conds[SG_CMP_NEQ + 1];
	uint32_t n_conds;
	bool windowed;	       /* an upper bound (lt, lte, neq): decided when the window closes */
	int count_field;       /* value_count: field slot */
	unsigned line, column; /* of the rule in its file, for late errors */
	struct sg_corr_state *state;
	size_t count_index; /* the alerts_by_rule slot its alerts count in */

	/* the correlations fed by this rule's matches */
	uint32_t *feeds;
	uint32_t n_feeds;

	/* prefilter (sigma_gate.c): the objectRef.resource bits it can match, and the clauses */
	uint64_t res_mask;     /* ~0: any resource */
	struct sg_gate *gates; /* all must hold */
	struct sg_alt *alts;   /* the gates' alternatives, gate after gate */
	uint32_t n_gates;
};

/* ---- the prefilter (sigma_gate.c) ----------------------------------------------------------- */

/* values per field the prefilter tells apart (bits 2..63; bit 0 absent, bit 1 any other) */
#define SG_GATE_VALUES 62
/* longer values are never in the table: they are "any other" */
#define SG_GATE_MAX_LEN 255
/* resource buckets: one per bit, and the last for an event whose resource is not known */
#define SG_GATE_BUCKETS (SG_GATE_VALUES + 3)

/* open addressing over the values, at most half full */
#define SG_GATE_SLOTS 128

struct sg_vtab {
	char *v[SG_GATE_VALUES]; /* lower-cased */
	uint32_t len[SG_GATE_VALUES], hash[SG_GATE_VALUES];
	uint8_t slot[SG_GATE_SLOTS];		   /* value index + 1; 0 empty */
	uint64_t lens[(SG_GATE_MAX_LEN + 1) / 64]; /* bit n: some value is n bytes long */
	uint32_t n, max_len;
	bool used; /* some rule's gate tests this field */
};

/* one alternative of a gate: the event's bits of field @field meet @mask */
struct sg_alt {
	uint8_t field; /* enum sg_fast */
	uint64_t mask;
};

struct sg_gate {
	uint32_t first, n; /* in the rule's alts: any of them */
};

bool sg_gate_indexable(int f);
/* derive rule @r's gates (a detection); 0 or -1 (memory) */
int sg_gate_rule(struct kh_sigma *s, struct sg_rule *r);
/* after every rule's gates: the buckets; 0 or -1 */
int sg_gate_finish(struct kh_sigma *s);
void sg_gate_free(struct kh_sigma *s);
/* per event: the bits of every gated field, then per rule the test */
void sg_gate_event(struct kh_sigma *s);
bool sg_gate_pass(struct kh_sigma *s, const struct sg_rule *r);
uint32_t sg_gate_bucket(const struct kh_sigma *s);

/* ---- the set --------------------------------------------------------------------------------- */

struct sg_fieldvals {
	struct sg_val *v;
	uint32_t n;
	bool present; /* the field appeared in the event (even as null) */
};

struct kh_sigma {
	struct sg_rule **rules;
	size_t n, cap;
	struct sg_field *fields;
	size_t n_fields, cap_fields;
	bool need_raw; /* some field must be walked from the raw line */

	/* prefilter (sigma_gate.c): value tables, the event's bits, rules per resource bit */
	struct sg_vtab vtab[SG_F_COUNT];
	uint64_t ev_bits[SG_F_COUNT];
	uint64_t bits_gen[SG_F_COUNT]; /* ev_bits[f] is this event's when bits_gen[f] == gen */
	uint32_t *bucket[SG_GATE_BUCKETS];
	uint32_t bucket_n[SG_GATE_BUCKETS];

	struct kh_emit *emit;
	size_t count_index, key_base;
	int64_t now_ns;	    /* the newest event time seen */
	uint32_t *windowed; /* the correlations decided at their window's end */
	uint32_t n_windowed;
	uint64_t evictions;

	/* per-event scratch */
	uint64_t gen; /* event generation: a field's values are valid when its gen matches */
	uint64_t *field_gen;
	struct sg_fieldvals *vals;
	struct sg_val *field_vals; /* SG_MAX_VALUES per field */
	struct rpath *raw_paths;   /* every raw path of every field, walked together */
	size_t n_raw_paths;
	size_t raw_first[4];  /* raw_paths of group g: raw_first[g] .. raw_first[g + 1] - 1 */
	uint8_t *field_group; /* per field: 0 inside requestObject, 1 responseObject, 2 the line */
	uint32_t *field_first, *field_npaths; /* per raw field: its paths in raw_paths */
	uint64_t *needle_gen; /* per distinct needle: searched in this event when == gen */
	bool *needle_hit;
	char *scratch; /* decoded escaped strings, numbers */
	size_t scratch_cap, scratch_used;
	uint8_t *sel_cache; /* per selection of the rule running: 0 unknown, 1 false, 2 true */
	size_t sel_cache_cap;
	const struct audit_event *ev;
};

struct rpath;

/* intern field @name (with mapping) into @s; returns the slot or -1 with @e filled */
int sg_field_intern(struct kh_sigma *s, const char *name, struct sg_err *e, unsigned line,
		    unsigned col);
/* values of field @slot in the current event (extracted on first use) */
const struct sg_fieldvals *sg_field_get(struct kh_sigma *s, int slot);
/* after load: per-field value storage and the raw paths; 0 or -1 (memory) */
int sg_fields_finish(struct kh_sigma *s);
void sg_fields_free(struct kh_sigma *s);
/* reset per-event scratch for @ev */
void sg_fields_begin(struct kh_sigma *s, const struct audit_event *ev);
/* copy @n bytes into the event scratch; NULL when it is full */
char *sg_scratch(struct kh_sigma *s, size_t n);

/* compile one matcher from a YAML scalar and the modifiers; 0 or -1 with @e filled */
struct sg_mods {
	bool contains, startswith, endswith, all, re, re_i, re_m, re_s, cidr, exists, base64,
	    base64offset, cased, gt, gte, lt, lte, fieldref;
};
int sg_mods_parse(const char *spec, struct sg_mods *m, struct sg_err *e, unsigned line,
		  unsigned col);
/* @out receives 1 matcher (3 for base64offset); returns the count, or -1 */
int sg_match_compile(struct kh_sigma *s, const char *value, size_t len, bool is_null,
		     const struct sg_mods *mods, struct sg_match *out, struct sg_err *e,
		     unsigned line, unsigned col);
void sg_match_free(struct sg_match *m);
/* does one value satisfy @m */
bool sg_match_value(struct kh_sigma *s, const struct sg_match *m, const struct sg_val *v);
/* the item against the event */
bool sg_item_eval(struct kh_sigma *s, const struct sg_item *it);

/* ASCII lower-case of a byte */
static inline unsigned char sg_lower(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') ? (unsigned char)(c + 32) : c;
}

/* the glob matcher (also used for condition patterns), @cased false: @s is folded */
bool sg_glob_match(const uint16_t *pat, size_t plen, const char *s, size_t slen, bool cased);

/* compile one rule document (the root node of a YAML document) into @s; see sigma_rule.c */
struct yaml_document_s;
int sg_rule_compile(struct kh_sigma *s, struct yaml_document_s *doc, const char *file,
		    struct sg_err *e);
void sg_rule_free(struct sg_rule *r);

/* correlation: resolve references (after load), run, free (sigma_corr.c) */
int sg_corr_link(struct kh_sigma *s, size_t i, struct sg_err *e);
void sg_corr_feed(struct kh_sigma *s, uint32_t corr, const struct audit_event *ev, int64_t t,
		  uint32_t from_rule, int depth);
void sg_corr_state_free(struct sg_corr_state *st);

/* close the windows of lt/lte/neq correlations that ended before @now (all of them: @all) */
void sg_corr_advance(struct kh_sigma *s, int64_t now, bool all);

/* parse a Sigma timespan ("30s", "5m", "1h", "2d", "1w"); ns, or -1 */
int64_t sg_timespan(const char *s);

/* emit the alert of detection rule @i for the current event */
void sg_alert(struct kh_sigma *s, uint32_t i, const struct audit_event *ev);

#endif /* KEYHOLE_SIGMA_IMPL_H */
