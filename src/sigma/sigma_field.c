// SPDX-License-Identifier: Apache-2.0
/*
 * sigma_field: Sigma field names to event values, extracted at most once per event.
 *
 * A field is a dotted path into the raw audit.k8s.io Event, as Sigma's Kubernetes rules write
 * them (objectRef.resource, user.groups, annotations.authorization.k8s.io/decision). The fields
 * the parser already reads (struct audit_event) are taken from there, with no second look at the
 * line; any other path (requestObject.spec.hostPID, user.extra...) is found by a structural
 * walk of the request body, response body or line that descends only into the members on the
 * path and skips the rest, and only after a search found every key of the path in that text. A
 * dotted key ("authorization.k8s.io/decision") is matched whole, so no escaping is needed in the
 * rule. An array on the way stands for any of its elements (Sigma's list semantics); a numeric path
 * component picks one element ("sourceIPs.0").
 *
 * One derived field: keyhole.exec.command is the command of a pods/exec request, from the
 * requestURI's `command=` parameters, form-decoded (`%2F` and `+`) and joined with spaces
 * (`sh+-c&command=id%3B+ls` is "sh -c id; ls"), so a rule matches what the container runs
 * rather than one of its encodings.
 *
 * Three names SigmaHQ's Kubernetes rules use are not Event fields; they are mapped here, as a
 * Sigma processing pipeline would: apiGroup (objectRef.apiGroup), hostPath (any volume's
 * hostPath) and capabilities (any container's securityContext.capabilities).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "keyhole/json_in.h"
#include "keyhole/kstr.h"
#include "sigma/sigma_impl.h"

#ifdef __SSE2__
#include <emmintrin.h>
#endif

static const struct {
	const char *name;
	enum sg_fast fast;
} fast_names[] = {
    {"verb", SG_F_VERB},
    {"objectRef.resource", SG_F_RESOURCE},
    {"objectRef.subresource", SG_F_SUBRESOURCE},
    {"objectRef.namespace", SG_F_NAMESPACE},
    {"objectRef.name", SG_F_NAME},
    {"objectRef.apiGroup", SG_F_APIGROUP},
    {"objectRef.apiVersion", SG_F_APIVERSION},
    {"user.username", SG_F_USERNAME},
    {"user.uid", SG_F_UID},
    {"user.groups", SG_F_GROUPS},
    {"impersonatedUser.username", SG_F_IMP_USERNAME},
    {"impersonatedUser.groups", SG_F_IMP_GROUPS},
    {"sourceIPs", SG_F_SOURCEIPS},
    {"userAgent", SG_F_USERAGENT},
    {"requestURI", SG_F_REQUESTURI},
    {"stage", SG_F_STAGE},
    {"level", SG_F_LEVEL},
    {"auditID", SG_F_AUDITID},
    {"annotations.authorization.k8s.io/decision", SG_F_DECISION},
    {"annotations.authorization.k8s.io/reason", SG_F_REASON},
    {"responseStatus.code", SG_F_CODE},
    {"requestReceivedTimestamp", SG_F_REQ_TS},
    {"stageTimestamp", SG_F_STAGE_TS},
    {"kind", SG_F_KIND},
    {"apiVersion", SG_F_EVENT_APIVERSION},
    /* SigmaHQ's top-level spelling (kubernetes_audit_rbac_permisions_listing.yml) */
    {"apiGroup", SG_F_APIGROUP},
    /* derived: the command of a pods/exec request, as the container runs it */
    {"keyhole.exec.command", SG_F_EXEC_COMMAND},
};

static const struct {
	const char *name;
	const char *paths[SG_MAX_PATHS];
} mapped_names[] = {
    /* kubernetes_audit_hostpath_mount.yml */
    {"hostPath", {"requestObject.spec.volumes.hostPath"}},
    /* kubernetes_audit_privileged_pod_creation.yml */
    {"capabilities",
     {"requestObject.spec.containers.securityContext.capabilities",
      "requestObject.spec.initContainers.securityContext.capabilities",
      "requestObject.spec.ephemeralContainers.securityContext.capabilities"}},
};

int sg_field_intern(struct kh_sigma *s, const char *name, struct sg_err *e, unsigned line,
		    unsigned col)
{
	struct sg_field f = {0};

	for (size_t i = 0; i < s->n_fields; i++)
		if (!strcmp(s->fields[i].name, name))
			return (int)i;
	if (!*name || name[0] == '.' || name[strlen(name) - 1] == '.' || strstr(name, "..")) {
		sg_fail(e, line, col, "bad field name '%s'", name);
		return -1;
	}
	if (s->n_fields == s->cap_fields) {
		size_t cap = s->cap_fields ? 2 * s->cap_fields : 32;
		struct sg_field *nf = realloc(s->fields, cap * sizeof(*nf));

		if (!nf)
			goto oom;
		s->fields = nf;
		s->cap_fields = cap;
	}
	f.name = strdup(name);
	if (!f.name)
		goto oom;
	for (size_t i = 0; i < sizeof(fast_names) / sizeof(fast_names[0]); i++)
		if (!strcmp(fast_names[i].name, name))
			f.fast = fast_names[i].fast;
	for (size_t i = 0; !f.fast && i < sizeof(mapped_names) / sizeof(mapped_names[0]); i++)
		if (!strcmp(mapped_names[i].name, name))
			for (size_t k = 0; k < SG_MAX_PATHS && mapped_names[i].paths[k]; k++)
				f.paths[f.n_paths++] = strdup(mapped_names[i].paths[k]);
	if (!f.fast && !f.n_paths)
		f.paths[f.n_paths++] = strdup(name);
	for (size_t k = 0; k < f.n_paths; k++)
		if (!f.paths[k])
			goto oom;
	if (!f.fast)
		s->need_raw = true;
	s->fields[s->n_fields] = f;
	return (int)s->n_fields++;
oom:
	free(f.name);
	for (size_t k = 0; k < f.n_paths; k++)
		free(f.paths[k]);
	sg_fail(e, line, col, "out of memory");
	return -1;
}

char *sg_scratch(struct kh_sigma *s, size_t n)
{
	char *p;

	if (s->scratch_cap - s->scratch_used < n)
		return NULL;
	p = s->scratch + s->scratch_used;
	s->scratch_used += n;
	return p;
}

void sg_fields_begin(struct kh_sigma *s, const struct audit_event *ev)
{
	s->gen++;
	s->ev = ev;
	s->scratch_used = 0;
}

/* each field owns SG_MAX_VALUES slots (sigma_set.c allocates them): values never interleave */
static struct sg_val *new_val(struct kh_sigma *s, struct sg_fieldvals *fv)
{
	(void)s;
	if (fv->n >= SG_MAX_VALUES)
		return NULL;
	return &fv->v[fv->n++];
}

/* a JSON string slice, decoded when it holds escapes */
static void add_str(struct kh_sigma *s, struct sg_fieldvals *fv, struct kstr k)
{
	struct sg_val *v;

	if (!kstr_present(k))
		return;
	fv->present = true;
	v = new_val(s, fv);
	if (!v)
		return;
	v->type = SG_V_STR;
	v->p = k.p;
	v->len = k.len;
	if (k.flags & KSTR_ESCAPED) {
		/* decoding never grows a string; a failed decode keeps the raw bytes */
		char *buf = s->scratch + s->scratch_used;
		long n = kstr__decode(k, buf, s->scratch_cap - s->scratch_used);

		if (n >= 0 && (size_t)n <= s->scratch_cap - s->scratch_used) {
			v->p = buf;
			v->len = (uint32_t)n;
			s->scratch_used += (size_t)n;
		}
	}
}

/* ---- the raw walk ---------------------------------------------------------------------------- */

/* one path still to follow in a raw walk, and the field its values go to */
struct rpath {
	const char *p;
	uint32_t len;
	int field;
	char **needles; /* each key of the path with its closing quote: all must be in the text */
	uint32_t *needle_ids; /* per needle: its index among the distinct (text, needle) pairs */
};

/* raw paths followed at once; more (never in practice) are walked in further passes */
#define WALK_MAX_PATHS 64

struct walk {
	struct kh_sigma *s;
	const char *end;
};

#define WALK_MAX_DEPTH 64

/* past the string whose opening quote is at @p (json_in's reader); NULL when unterminated */
static const char *skip_str(const char *p, const char *end, bool *escaped)
{
	struct json_in r = json_in__span(p, (size_t)(end - p));
	struct kstr k;

	if (!json_in__str(&r, &k))
		return NULL;
	if (escaped && (k.flags & KSTR_ESCAPED))
		*escaped = true;
	return r.p;
}

/* past the value at @p, any depth, without recursion (json_in__skip); NULL when malformed */
static const char *skip_value(const char *p, const char *end)
{
	struct json_in r = json_in__span(p, (size_t)(end - p));

	return json_in__skip(&r) ? r.p : NULL;
}

/* record the scalar (or container) at @p; returns past it */
static const char *take(struct walk *w, struct sg_fieldvals *fv, const char *p, int depth,
			bool in_array)
{
	const char *q;
	struct sg_val *v;

	p = json_in__ws_at(p, w->end);
	if (p >= w->end)
		return NULL;
	if (*p == '"') {
		bool esc = false;

		if (!(q = skip_str(p, w->end, &esc)))
			return NULL;
		add_str(w->s, fv,
			(struct kstr){p + 1, (uint32_t)(q - p - 2), esc ? KSTR_ESCAPED : 0});
		return q;
	}
	if (*p == '[' && !in_array) { /* a list of values: each is one */
		p = json_in__ws_at(p + 1, w->end);
		fv->present = true;
		if (p < w->end && *p == ']')
			return p + 1;
		for (;;) {
			if (!(p = take(w, fv, p, depth + 1, true)))
				return NULL;
			p = json_in__ws_at(p, w->end);
			if (p >= w->end)
				return NULL;
			if (*p == ']')
				return p + 1;
			if (*p != ',')
				return NULL;
			p++;
		}
	}
	if (!(q = skip_value(p, w->end)))
		return NULL;
	fv->present = true;
	v = new_val(w->s, fv);
	if (!v)
		return q;
	v->p = p;
	v->len = (uint32_t)(q - p);
	if (*p == '{' || *p == '[')
		v->type = SG_V_OBJ;
	else if (*p == 'n')
		v->type = SG_V_NULL;
	else if (*p == 't' || *p == 'f')
		v->type = SG_V_BOOL;
	else
		v->type = SG_V_NUM;
	return q;
}

static bool all_digits(const char *p, size_t n)
{
	if (!n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (p[i] < '0' || p[i] > '9')
			return false;
	return true;
}

/* take the value at @p into every path of @set that ends here (all of them, by construction) */
static const char *take_all(struct walk *w, const char *p, const struct rpath *set, size_t n,
			    int depth)
{
	const char *end = NULL;

	for (size_t i = 0; i < n; i++) /* two paths naming one value: rare, read it twice */
		if (!(end = take(w, &w->s->vals[set[i].field], p, depth, false)))
			return NULL;
	return end;
}

/*
 * The value at @p, with the paths of @set still to follow (each @len bytes, no leading dot).
 * Members are compared with every path at once, so the line is walked once for all of them.
 */
static const char *walk(struct walk *w, const char *p, const struct rpath *set, size_t n, int depth)
{
	struct rpath sub[WALK_MAX_PATHS];
	char kbuf[256];
	size_t k;

	if (depth > WALK_MAX_DEPTH)
		return NULL;
	for (k = 0; k < n && set[k].len; k++)
		;
	if (k < n) { /* a path ends here (paths ending at one node all end together) */
		struct rpath done[WALK_MAX_PATHS];
		size_t nd = 0;

		for (size_t i = 0; i < n; i++)
			if (!set[i].len)
				done[nd++] = set[i];
		if (nd == n)
			return take_all(w, p, done, nd, depth);
		/* some end, some go deeper: read the value for the first, then walk it again */
		if (!take_all(w, p, done, nd, depth))
			return NULL;
		for (size_t i = 0, m = 0; i < n; i++)
			if (set[i].len)
				sub[m++] = set[i];
		return walk(w, p, sub, n - nd, depth);
	}
	p = json_in__ws_at(p, w->end);
	if (p >= w->end)
		return NULL;
	if (*p == '{') {
		p = json_in__ws_at(p + 1, w->end);
		if (p < w->end && *p == '}')
			return p + 1;
		for (;;) {
			const char *key, *q;
			size_t klen, m = 0;

			if (p >= w->end || *p != '"' || !(q = skip_str(p, w->end, NULL)))
				return NULL;
			key = p + 1;
			klen = (size_t)(q - p - 2);
			if (memchr(key, '\\', klen)) { /* an escaped key is compared decoded */
				long dl =
				    kstr__decode((struct kstr){key, (uint32_t)klen, KSTR_ESCAPED},
						 kbuf, sizeof(kbuf));

				if (dl >= 0 && (size_t)dl <= sizeof(kbuf)) {
					key = kbuf;
					klen = (size_t)dl;
				}
			}
			p = json_in__ws_at(q, w->end);
			if (p >= w->end || *p != ':')
				return NULL;
			p++;
			for (size_t i = 0; i < n; i++) {
				const struct rpath *r = &set[i];

				if (klen <= r->len && !memcmp(key, r->p, klen) &&
				    (klen == r->len || r->p[klen] == '.')) {
					size_t rest = klen == r->len ? klen : klen + 1;

					sub[m++] =
					    (struct rpath){r->p + rest, r->len - (uint32_t)rest,
							   r->field, NULL, NULL};
				}
			}
			p = m ? walk(w, p, sub, m, depth + 1) : skip_value(p, w->end);
			if (!p)
				return NULL;
			p = json_in__ws_at(p, w->end);
			if (p >= w->end)
				return NULL;
			if (*p == '}')
				return p + 1;
			if (*p != ',')
				return NULL;
			p = json_in__ws_at(p + 1, w->end);
		}
	}
	if (*p == '[') {
		long i = 0;

		p = json_in__ws_at(p + 1, w->end);
		if (p < w->end && *p == ']')
			return p + 1;
		for (;; i++) {
			size_t m = 0;

			/* an element is any element, unless the path names its index */
			for (size_t j = 0; j < n; j++) {
				const struct rpath *r = &set[j];
				const char *dot = memchr(r->p, '.', r->len);
				size_t clen = dot ? (size_t)(dot - r->p) : r->len;

				if (!all_digits(r->p, clen)) {
					sub[m++] = *r;
				} else if (strtol(r->p, NULL, 10) == i) {
					size_t rest = dot ? clen + 1 : clen;

					sub[m++] =
					    (struct rpath){r->p + rest, r->len - (uint32_t)rest,
							   r->field, NULL, NULL};
				}
			}
			p = m ? walk(w, p, sub, m, depth + 1) : skip_value(p, w->end);
			if (!p)
				return NULL;
			p = json_in__ws_at(p, w->end);
			if (p >= w->end)
				return NULL;
			if (*p == ']')
				return p + 1;
			if (*p != ',')
				return NULL;
			p = json_in__ws_at(p + 1, w->end);
		}
	}
	return skip_value(p, w->end);
}

/* walk the line once for @set; a line the capture cut is not JSON in its middle: skipped */
static void walk_line(struct kh_sigma *s, const struct rpath *set, size_t n)
{
	const struct audit_event *ev = s->ev;
	struct walk w = {s, ev->line + ev->len};

	if (ev->flags & KH_EV_TRUNCATED)
		return;
	for (size_t i = 0; i < n; i += WALK_MAX_PATHS)
		walk(&w, ev->line, set + i, n - i < WALK_MAX_PATHS ? n - i : WALK_MAX_PATHS, 0);
}

/* walk the body span @span (requestObject or responseObject, located by the parser) */
static void walk_span(struct kh_sigma *s, struct kstr span, const struct rpath *set, size_t n)
{
	struct walk w = {s, span.p + span.len};

	if (!kstr_present(span) || !n || (s->ev->flags & KH_EV_TRUNCATED))
		return;
	for (size_t i = 0; i < n; i += WALK_MAX_PATHS)
		walk(&w, span.p, set + i, n - i < WALK_MAX_PATHS ? n - i : WALK_MAX_PATHS, 0);
}

/*
 * Whether @nd (@m >= 2 bytes) occurs in @s: sixteen positions at a time where SSE2 is there
 * (every x86-64), by candidate first byte elsewhere. glibc's memmem is not vectorised.
 */
static bool has_needle(const char *s, size_t n, const char *nd, size_t m)
{
	size_t i = 0;

	if (m > n)
		return false;
#ifdef __SSE2__
	const __m128i a = _mm_set1_epi8(nd[0]), b = _mm_set1_epi8(nd[1]);

	for (; i + 17 <= n; i += 16) {
		__m128i x = _mm_loadu_si128((const __m128i *)(const void *)(s + i));
		__m128i y = _mm_loadu_si128((const __m128i *)(const void *)(s + i + 1));
		unsigned mask = (unsigned)_mm_movemask_epi8(
		    _mm_and_si128(_mm_cmpeq_epi8(x, a), _mm_cmpeq_epi8(y, b)));

		for (; mask; mask &= mask - 1) {
			size_t k = i + (size_t)__builtin_ctz(mask);

			if (k + m <= n && !memcmp(s + k, nd, m))
				return true;
		}
	}
#endif
	for (; i + m <= n; i++)
		if (s[i] == nd[0] && !memcmp(s + i, nd, m))
			return true;
	return false;
}

/*
 * Raw field @slot, the first time it is asked for in this event. Most events lack the key a
 * raw path ends in ("privileged", "hostPID"), so the body is searched for it first (memmem,
 * vectorised) and walked only when it is there. A body holding any backslash is always
 * walked: an escaped key ("\u0070rivileged", "io\/pod-name") is the same key.
 */
static void get_raw_field(struct kh_sigma *s, int slot)
{
	int g = s->field_group[slot];
	struct kstr span = g == 0   ? s->ev->request_object
			   : g == 1 ? s->ev->response_object
				    : (struct kstr){s->ev->line, (uint32_t)s->ev->len, 0};
	const struct rpath *rp = s->raw_paths + s->field_first[slot];
	size_t n = s->field_npaths[slot];
	bool esc, any = false;

	s->field_gen[slot] = s->gen;
	s->vals[slot].n = 0;
	s->vals[slot].present = false;
	if (!kstr_present(span) || !span.len || (s->ev->flags & KH_EV_TRUNCATED))
		return;
	esc = memchr(span.p, '\\', span.len) != NULL; /* \u0070, \/: a key may be escaped */
	for (size_t i = 0; i < n && !any; i++) {
		char **nd = rp[i].needles;

		any = true;
		for (size_t k = 0; any && !esc && nd && nd[k]; k++) {
			/* several paths share a key ("privileged\"" in three): searched once */
			uint32_t id = rp[i].needle_ids ? rp[i].needle_ids[k] : UINT32_MAX;

			if (id != UINT32_MAX && s->needle_gen[id] == s->gen) {
				any = s->needle_hit[id];
			} else {
				any = has_needle(span.p, span.len, nd[k], strlen(nd[k]));
				if (id != UINT32_MAX) {
					s->needle_gen[id] = s->gen;
					s->needle_hit[id] = any;
				}
			}
		}
	}
	if (!any)
		return;
	if (g == 2)
		walk_line(s, rp, n);
	else
		walk_span(s, span, rp, n);
}

/*
 * Every key of @path ("volumes", "hostPath", and the last with its closing quote: "path\""),
 * numeric indexes left out, NULL-terminated; NULL when out of memory (then the path is always
 * walked). A dotted key ("authorization.k8s.io/decision") gives its pieces, each a substring.
 */
static char **needles_of(const char *path)
{
	size_t n = 1;
	char **v;

	for (const char *p = path; *p; p++)
		n += *p == '.';
	v = calloc(n + 1, sizeof(*v));
	if (!v)
		return NULL;
	n = 0;
	for (const char *p = path; *p;) {
		const char *dot = strchr(p, '.');
		size_t len = dot ? (size_t)(dot - p) : strlen(p);

		/* the last piece ends a key; an earlier one may be part of a dotted key */
		if (len && !all_digits(p, len) &&
		    asprintf(&v[n], "%.*s%s", (int)len, p, dot ? "" : "\"") > 0)
			n++;
		p += len + (dot != NULL);
	}
	/* the last key (with its quote) first: the rarest, so an absent one costs one search */
	if (n > 1) {
		char *t = v[n - 1];

		memmove(v + 1, v, (n - 1) * sizeof(*v));
		v[0] = t;
	}
	return v;
}

void sg_fields_free(struct kh_sigma *s)
{
	for (size_t i = 0; s->raw_paths && i < s->n_raw_paths; i++) {
		for (char **n = s->raw_paths[i].needles; n && *n; n++)
			free(*n);
		free(s->raw_paths[i].needles);
		free(s->raw_paths[i].needle_ids);
	}
	free(s->raw_paths);
	free(s->field_first);
	free(s->field_npaths);
	free(s->field_group);
	free(s->field_vals);
	free(s->needle_gen);
	free(s->needle_hit);
}

/* @path inside @obj ("requestObject.spec.x" in requestObject is "spec.x"), or NULL */
static const char *inside(const char *path, const char *obj)
{
	size_t n = strlen(obj);

	return !strncmp(path, obj, n) && path[n] == '.' ? path + n + 1 : NULL;
}

/*
 * Give each distinct needle of one text (request body, response body, line) an index, so an
 * event searches it once however many paths hold it. Without memory, paths keep no index.
 */
static int number_needles(struct kh_sigma *s)
{
	uint32_t n = 0;

	for (size_t i = 0; i < s->n_raw_paths; i++) {
		struct rpath *r = &s->raw_paths[i];
		size_t k = 0;

		while (r->needles && r->needles[k])
			k++;
		if (!k || !(r->needle_ids = calloc(k, sizeof(*r->needle_ids))))
			continue;
		for (size_t a = 0; a < k; a++) {
			uint32_t id = n;

			/* the same text and the same needle, in an earlier path */
			for (size_t j = 0; j < i && id == n; j++) {
				const struct rpath *o = &s->raw_paths[j];

				if (s->field_group[o->field] != s->field_group[r->field] ||
				    !o->needle_ids)
					continue;
				for (size_t b = 0; o->needles[b]; b++)
					if (!strcmp(o->needles[b], r->needles[a]))
						id = o->needle_ids[b];
			}
			r->needle_ids[a] = id;
			n += id == n;
		}
	}
	s->needle_gen = calloc(n + 1, sizeof(*s->needle_gen));
	s->needle_hit = calloc(n + 1, sizeof(*s->needle_hit));
	return s->needle_gen && s->needle_hit ? 0 : -1;
}

int sg_fields_finish(struct kh_sigma *s)
{
	size_t n = 0;

	for (size_t i = 0; i < s->n_fields; i++)
		n += s->fields[i].fast ? 0 : s->fields[i].n_paths;
	s->raw_paths = calloc(n + 1, sizeof(*s->raw_paths));
	s->field_vals = calloc(s->n_fields * SG_MAX_VALUES + 1, sizeof(*s->field_vals));
	s->field_gen = calloc(s->n_fields + 1, sizeof(*s->field_gen));
	s->vals = calloc(s->n_fields + 1, sizeof(*s->vals));
	if (!s->raw_paths || !s->field_vals || !s->field_gen || !s->vals)
		return -1;
	/* requestObject paths first, then responseObject ones, then the rest */
	s->field_group = calloc(s->n_fields + 1, sizeof(*s->field_group));
	if (!s->field_group)
		return -1;
	for (size_t i = 0; i < s->n_fields; i++) {
		s->vals[i].v = s->field_vals + i * SG_MAX_VALUES;
		/* a field whose paths are not all in one object is read from the line */
		for (uint32_t k = 0; !s->fields[i].fast && k < s->fields[i].n_paths; k++) {
			const char *path = s->fields[i].paths[k];
			int g = inside(path, "requestObject")	 ? 0
				: inside(path, "responseObject") ? 1
								 : 2;

			s->field_group[i] = k && s->field_group[i] != g ? 2 : g;
		}
	}
	s->field_first = calloc(s->n_fields + 1, sizeof(*s->field_first));
	s->field_npaths = calloc(s->n_fields + 1, sizeof(*s->field_npaths));
	if (!s->field_first || !s->field_npaths)
		return -1;
	for (int g = 0; g < 3; g++) {
		s->raw_first[g] = s->n_raw_paths;
		for (size_t i = 0; i < s->n_fields; i++)
			for (uint32_t k = 0; !s->fields[i].fast && s->field_group[i] == g &&
					     k < s->fields[i].n_paths;
			     k++) {
				const char *path = s->fields[i].paths[k];
				const char *p = g == 0	 ? inside(path, "requestObject")
						: g == 1 ? inside(path, "responseObject")
							 : path;

				if (!s->field_npaths[i])
					s->field_first[i] = s->n_raw_paths;
				s->field_npaths[i]++;
				s->raw_paths[s->n_raw_paths++] = (struct rpath){
				    p, (uint32_t)strlen(p), (int)i, needles_of(p), NULL};
			}
	}
	s->raw_first[3] = s->n_raw_paths;
	return number_needles(s);
}

static int hexval(char c)
{
	return c >= '0' && c <= '9'   ? c - '0'
	       : c >= 'a' && c <= 'f' ? c - 'a' + 10
	       : c >= 'A' && c <= 'F' ? c - 'A' + 10
				      : -1;
}

/* keyhole.exec.command: the command= values of the requestURI, form-decoded, space-joined */
static void exec_command(struct kh_sigma *s, struct sg_fieldvals *fv)
{
	struct kstr k = s->ev->request_uri;
	const char *p, *end;
	struct sg_val *v;
	char *out;
	size_t n = 0;

	if (!kstr_present(k))
		return;
	if (k.flags & KSTR_ESCAPED) { /* JSON escapes first (\u0026 is '&') */
		char *buf = s->scratch + s->scratch_used;
		long m = kstr__decode(k, buf, s->scratch_cap - s->scratch_used);

		if (m < 0 || (size_t)m > s->scratch_cap - s->scratch_used)
			return;
		s->scratch_used += (size_t)m;
		p = buf;
		end = buf + m;
	} else {
		p = k.p;
		end = k.p + k.len;
	}
	if (!(p = memchr(p, '?', (size_t)(end - p))))
		return;
	out = s->scratch + s->scratch_used;
	for (p++; p < end;) {
		const char *amp = memchr(p, '&', (size_t)(end - p));
		const char *q = amp ? amp : end;

		if (q - p >= 8 && !memcmp(p, "command=", 8)) {
			if (n && n < s->scratch_cap - s->scratch_used)
				out[n++] = ' ';
			for (p += 8; p < q && n < s->scratch_cap - s->scratch_used; p++) {
				int hi, lo;

				if (*p == '+') {
					out[n++] = ' ';
				} else if (*p == '%' && q - p > 2 && (hi = hexval(p[1])) >= 0 &&
					   (lo = hexval(p[2])) >= 0) {
					out[n++] = (char)(hi * 16 + lo);
					p += 2;
				} else {
					out[n++] = *p;
				}
			}
		}
		p = q + 1;
	}
	if (!n)
		return;
	s->scratch_used += n;
	fv->present = true;
	if ((v = new_val(s, fv)))
		*v = (struct sg_val){out, (uint32_t)n, SG_V_STR};
}

static void add_list(struct kh_sigma *s, struct sg_fieldvals *fv, const struct kstr *v, uint32_t n,
		     uint32_t total)
{
	if (total)
		fv->present = true;
	for (uint32_t i = 0; i < n; i++)
		add_str(s, fv, v[i]);
}

static void get_fast(struct kh_sigma *s, enum sg_fast f, struct sg_fieldvals *fv)
{
	const struct audit_event *ev = s->ev;
	const struct kh_object_ref *o = &ev->object_ref;

	switch (f) {
	case SG_F_VERB:
		add_str(s, fv, ev->verb);
		break;
	case SG_F_RESOURCE:
		add_str(s, fv, o->resource);
		break;
	case SG_F_SUBRESOURCE:
		add_str(s, fv, o->subresource);
		break;
	case SG_F_NAMESPACE:
		add_str(s, fv, o->namespace_);
		break;
	case SG_F_NAME:
		add_str(s, fv, o->name);
		break;
	case SG_F_APIGROUP:
		add_str(s, fv, o->api_group);
		break;
	case SG_F_APIVERSION:
		add_str(s, fv, o->api_version);
		break;
	case SG_F_USERNAME:
		add_str(s, fv, ev->user.username);
		break;
	case SG_F_UID:
		add_str(s, fv, ev->user.uid);
		break;
	case SG_F_GROUPS:
		add_list(s, fv, ev->user.groups.v, ev->user.groups.n, ev->user.groups.total);
		break;
	case SG_F_IMP_USERNAME:
		add_str(s, fv, ev->impersonated_user.username);
		break;
	case SG_F_IMP_GROUPS:
		add_list(s, fv, ev->impersonated_user.groups.v, ev->impersonated_user.groups.n,
			 ev->impersonated_user.groups.total);
		break;
	case SG_F_SOURCEIPS:
		add_list(s, fv, ev->source_ips.v, ev->source_ips.n, ev->source_ips.total);
		break;
	case SG_F_USERAGENT:
		add_str(s, fv, ev->user_agent);
		break;
	case SG_F_REQUESTURI:
		add_str(s, fv, ev->request_uri);
		break;
	case SG_F_STAGE:
		add_str(s, fv, ev->stage);
		break;
	case SG_F_LEVEL:
		add_str(s, fv, ev->level);
		break;
	case SG_F_AUDITID:
		add_str(s, fv, ev->audit_id);
		break;
	case SG_F_DECISION:
		add_str(s, fv, ev->decision);
		break;
	case SG_F_REASON:
		add_str(s, fv, ev->reason);
		break;
	case SG_F_REQ_TS:
		add_str(s, fv, ev->request_received_timestamp);
		break;
	case SG_F_STAGE_TS:
		add_str(s, fv, ev->stage_timestamp);
		break;
	case SG_F_KIND:
		add_str(s, fv, ev->kind);
		break;
	case SG_F_EVENT_APIVERSION:
		add_str(s, fv, ev->api_version);
		break;
	case SG_F_CODE:
		/*
		 * absent, or not a number the parser keeps: read it from the line, except at
		 * RequestReceived, which has no response (half of a busy log, skipped for speed)
		 */
		if (ev->response_code < 0) {
			struct rpath code = {"responseStatus.code", 19, (int)(fv - s->vals), NULL,
					     NULL};

			if (!kstr__eq(ev->stage, "RequestReceived"))
				walk_line(s, &code, 1);
		} else {
			char *buf = sg_scratch(s, 12);
			struct sg_val *v;

			fv->present = true;
			if (buf && (v = new_val(s, fv))) {
				int n = snprintf(buf, 12, "%d", (int)ev->response_code);

				*v = (struct sg_val){buf, (uint32_t)n, SG_V_NUM};
			}
		}
		break;
	case SG_F_EXEC_COMMAND:
		exec_command(s, fv);
		break;
	case SG_F_RAW:
	case SG_F_COUNT:
		break;
	}
}

const struct sg_fieldvals *sg_field_get(struct kh_sigma *s, int slot)
{
	struct sg_fieldvals *fv = &s->vals[slot];
	const struct sg_field *f = &s->fields[slot];

	if (s->field_gen[slot] == s->gen)
		return fv;
	if (!f->fast) {
		get_raw_field(s, slot);
		return fv;
	}
	s->field_gen[slot] = s->gen;
	fv->n = 0;
	fv->present = false;
	get_fast(s, f->fast, fv);
	return fv;
}
