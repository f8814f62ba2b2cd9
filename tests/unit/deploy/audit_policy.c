// SPDX-License-Identifier: Apache-2.0
/*
 * Tests of deploy/audit-policy.yaml (or the file in $KH_AUDIT_POLICY): the policy is evaluated
 * the way kube-apiserver evaluates it (k8s.io/apiserver/pkg/audit/policy: first matching rule
 * wins; users, userGroups, verbs, then namespaces/resources for resource requests or
 * nonResourceURLs with a trailing-'*' prefix for the others; "resource/subresource" names and
 * "*" wildcards), against the requests keyhole depends on. Above all: no request on a Secret,
 * ConfigMap or TokenReview may be logged with its body, and token requests never with their
 * response (the minted token).
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

enum level { L_NONE, L_METADATA, L_REQUEST, L_REQUEST_RESPONSE, L_INVALID };

#define MAXS 32

struct strs {
	const char *v[MAXS];
	int n;
};

struct group_res {
	const char *group; /* "" core */
	struct strs resources, names;
};

struct prule {
	enum level level;
	struct strs users, groups, verbs, namespaces, urls;
	struct group_res res[8];
	int n_res;
};

struct policy {
	yaml_document_t doc;
	struct prule rules[32];
	int n;
	struct strs omit_stages;
};

/* a request as the policy checker sees it */
struct req {
	const char *user, *group, *verb;
	const char *api_group, *resource, *sub, *ns, *name; /* resource request when resource */
	const char *path;				    /* non-resource request otherwise */
};

static const char *policy_path(void)
{
	const char *p = getenv("KH_AUDIT_POLICY");

	return p && *p ? p : KH_TEST_DATA_DIR "/../../deploy/audit-policy.yaml";
}

static yaml_node_t *get(yaml_document_t *d, yaml_node_t *map, const char *key)
{
	if (!map || map->type != YAML_MAPPING_NODE)
		return NULL;
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *k = yaml_document_get_node(d, p->key);

		if (k->type == YAML_SCALAR_NODE && !strcmp((char *)k->data.scalar.value, key))
			return yaml_document_get_node(d, p->value);
	}
	return NULL;
}

static void seq(yaml_document_t *d, yaml_node_t *n, struct strs *out)
{
	out->n = 0;
	if (!n)
		return;
	cr_assert_eq(n->type, YAML_SEQUENCE_NODE, "a list was expected");
	for (yaml_node_item_t *i = n->data.sequence.items.start; i < n->data.sequence.items.top;
	     i++) {
		yaml_node_t *s = yaml_document_get_node(d, *i);

		cr_assert_eq(s->type, YAML_SCALAR_NODE);
		cr_assert_lt(out->n, MAXS);
		out->v[out->n++] = (char *)s->data.scalar.value;
	}
}

static enum level level_of(const char *s)
{
	static const char *const names[] = {"None", "Metadata", "Request", "RequestResponse"};

	for (int i = 0; i < 4; i++)
		if (!strcmp(s, names[i]))
			return (enum level)i;
	return L_INVALID;
}

static void load(struct policy *p)
{
	FILE *f = fopen(policy_path(), "r");
	yaml_parser_t parser;
	yaml_node_t *root, *rules;

	cr_assert_not_null(f, "cannot open %s", policy_path());
	yaml_parser_initialize(&parser);
	yaml_parser_set_input_file(&parser, f);
	cr_assert(yaml_parser_load(&parser, &p->doc), "%s: YAML error: %s", policy_path(),
		  parser.problem);
	yaml_parser_delete(&parser);
	fclose(f);
	root = yaml_document_get_root_node(&p->doc);
	cr_assert_str_eq((char *)get(&p->doc, root, "apiVersion")->data.scalar.value,
			 "audit.k8s.io/v1");
	cr_assert_str_eq((char *)get(&p->doc, root, "kind")->data.scalar.value, "Policy");
	seq(&p->doc, get(&p->doc, root, "omitStages"), &p->omit_stages);
	rules = get(&p->doc, root, "rules");
	cr_assert(rules && rules->type == YAML_SEQUENCE_NODE);
	p->n = 0;
	for (yaml_node_item_t *i = rules->data.sequence.items.start;
	     i < rules->data.sequence.items.top; i++) {
		yaml_node_t *r = yaml_document_get_node(&p->doc, *i), *lv, *res;
		struct prule *pr = &p->rules[p->n++];

		memset(pr, 0, sizeof(*pr));
		lv = get(&p->doc, r, "level");
		cr_assert_not_null(lv, "rule %d has no level", p->n);
		pr->level = level_of((char *)lv->data.scalar.value);
		cr_assert_neq(pr->level, L_INVALID, "rule %d: bad level", p->n);
		seq(&p->doc, get(&p->doc, r, "users"), &pr->users);
		seq(&p->doc, get(&p->doc, r, "userGroups"), &pr->groups);
		seq(&p->doc, get(&p->doc, r, "verbs"), &pr->verbs);
		seq(&p->doc, get(&p->doc, r, "namespaces"), &pr->namespaces);
		seq(&p->doc, get(&p->doc, r, "nonResourceURLs"), &pr->urls);
		res = get(&p->doc, r, "resources");
		for (yaml_node_item_t *k = res ? res->data.sequence.items.start : NULL;
		     res && k < res->data.sequence.items.top; k++) {
			yaml_node_t *gr = yaml_document_get_node(&p->doc, *k), *g;
			struct group_res *x = &pr->res[pr->n_res++];

			g = get(&p->doc, gr, "group");
			x->group = g ? (char *)g->data.scalar.value : "";
			seq(&p->doc, get(&p->doc, gr, "resources"), &x->resources);
			seq(&p->doc, get(&p->doc, gr, "resourceNames"), &x->names);
		}
	}
}

static bool has(const struct strs *s, const char *v)
{
	for (int i = 0; v && i < s->n; i++)
		if (!strcmp(s->v[i], v))
			return true;
	return false;
}

static bool url_match(const struct strs *s, const char *path)
{
	for (int i = 0; i < s->n; i++) {
		size_t n = strlen(s->v[i]);

		if (!strcmp(s->v[i], path) ||
		    (n && s->v[i][n - 1] == '*' && !strncmp(s->v[i], path, n - 1)))
			return true;
	}
	return false;
}

static bool resource_match(const struct prule *r, const struct req *q)
{
	char combined[128];

	if (r->namespaces.n && !has(&r->namespaces, q->ns ? q->ns : ""))
		return false;
	if (!r->n_res)
		return true;
	snprintf(combined, sizeof(combined), "%s%s%s", q->resource, q->sub ? "/" : "",
		 q->sub ? q->sub : "");
	for (int i = 0; i < r->n_res; i++) {
		const struct group_res *g = &r->res[i];

		if (strcmp(g->group, q->api_group ? q->api_group : ""))
			continue;
		if (!g->resources.n)
			return true;
		if (g->names.n && !has(&g->names, q->name))
			continue;
		for (int k = 0; k < g->resources.n; k++) {
			const char *pat = g->resources.v[k];
			char star_sub[128], res_star[128];

			snprintf(star_sub, sizeof(star_sub), "*/%s", q->sub ? q->sub : "");
			snprintf(res_star, sizeof(res_star), "%s/*", q->resource);
			if (!strcmp(pat, combined) || !strcmp(pat, "*") ||
			    (q->sub && (!strcmp(pat, star_sub) || !strcmp(pat, res_star))))
				return true;
		}
	}
	return false;
}

static bool rule_matches(const struct prule *r, const struct req *q)
{
	if (r->users.n && !has(&r->users, q->user))
		return false;
	if (r->groups.n && !has(&r->groups, q->group))
		return false;
	if (r->verbs.n && !has(&r->verbs, q->verb))
		return false;
	if (r->namespaces.n || r->n_res)
		return q->resource && resource_match(r, q);
	if (r->urls.n)
		return !q->resource && url_match(&r->urls, q->path);
	return true;
}

static enum level level_for(const struct policy *p, const struct req *q)
{
	for (int i = 0; i < p->n; i++)
		if (rule_matches(&p->rules[i], q))
			return p->rules[i].level;
	return L_NONE; /* the apiserver's default when no rule matches */
}

#define RES(u, g, v, ag, r, s, ns, nm)                                                             \
	(struct req)                                                                               \
	{                                                                                          \
		u, g, v, ag, r, s, ns, nm, NULL                                                    \
	}
#define URL(u, g, v, path)                                                                         \
	(struct req)                                                                               \
	{                                                                                          \
		u, g, v, NULL, NULL, NULL, NULL, NULL, path                                        \
	}

static void expect(const struct policy *p, struct req q, enum level want)
{
	static const char *const names[] = {"None", "Metadata", "Request", "RequestResponse"};
	enum level got = level_for(p, &q);

	cr_assert_eq(got, want, "%s %s %s%s%s (%s): want %s, got %s", q.user, q.verb,
		     q.resource ? q.resource : q.path, q.sub ? "/" : "", q.sub ? q.sub : "",
		     q.ns ? q.ns : "-", names[want], names[got]);
}

static struct policy pol;

static void setup(void)
{
	load(&pol);
}

static void teardown(void)
{
	yaml_document_delete(&pol.doc);
}

TestSuite(audit_policy, .init = setup, .fini = teardown);

Test(audit_policy, secrets_configmaps_tokenreviews_never_carry_bodies)
{
	static const char *const users[][2] = {
	    {"alice", "system:authenticated"},
	    {"system:node:worker-1", "system:nodes"},
	    {"system:kube-proxy", "system:authenticated"},
	    {"system:serviceaccount:kube-system:x", "system:serviceaccounts"},
	    {"system:apiserver", "system:masters"},
	};
	static const char *const verbs[] = {"get",    "list",  "watch",	 "create",
					    "update", "patch", "delete", "deletecollection"};

	for (size_t u = 0; u < 5; u++)
		for (size_t v = 0; v < 8; v++) {
			expect(&pol,
			       RES(users[u][0], users[u][1], verbs[v], "", "secrets", NULL, "prod",
				   "db"),
			       L_METADATA);
			expect(&pol,
			       RES(users[u][0], users[u][1], verbs[v], "", "configmaps", NULL,
				   "kube-system", "cfg"),
			       L_METADATA);
		}
	expect(&pol,
	       RES("system:apiserver", "system:masters", "create", "authentication.k8s.io",
		   "tokenreviews", NULL, NULL, NULL),
	       L_METADATA);
}

Test(audit_policy, token_requests_never_log_the_token)
{
	expect(&pol,
	       RES("system:node:worker-1", "system:nodes", "create", "", "serviceaccounts", "token",
		   "shop", "web"),
	       L_REQUEST);
	expect(&pol,
	       RES("intruder", "system:authenticated", "create", "", "serviceaccounts", "token",
		   "monitoring", "grafana"),
	       L_REQUEST);
}

Test(audit_policy, rbac_writes_carry_subjects_and_roles)
{
	static const char *const res[] = {"roles", "clusterroles", "rolebindings",
					  "clusterrolebindings"};
	static const char *const writes[] = {"create", "update", "patch", "delete"};

	for (size_t r = 0; r < 4; r++) {
		for (size_t v = 0; v < 4; v++)
			expect(&pol,
			       RES("system:serviceaccount:ci:deployer", "system:serviceaccounts",
				   writes[v], "rbac.authorization.k8s.io", res[r], NULL,
				   r % 2 ? NULL : "team-a", "x"),
			       L_REQUEST_RESPONSE);
		expect(&pol,
		       RES("system:serviceaccount:op:op", "system:serviceaccounts", "list",
			   "rbac.authorization.k8s.io", res[r], NULL, NULL, NULL),
		       L_METADATA);
	}
}

Test(audit_policy, exec_and_attach_both_verbs)
{
	expect(&pol,
	       RES("attacker-admin", "system:authenticated", "create", "", "pods", "exec", "prod",
		   "api-0"),
	       L_REQUEST);
	expect(&pol,
	       RES("attacker-admin", "system:authenticated", "get", "", "pods", "exec", "prod",
		   "api-0"),
	       L_REQUEST);
	expect(&pol,
	       RES("attacker-admin", "system:authenticated", "create", "", "pods", "attach", "prod",
		   "api-0"),
	       L_REQUEST);
	expect(&pol,
	       RES("attacker-admin", "system:authenticated", "get", "", "pods", NULL, "prod",
		   "api-0"),
	       L_METADATA);
}

Test(audit_policy, noise_is_dropped_and_nothing_else)
{
	expect(&pol, URL("system:anonymous", "system:unauthenticated", "get", "/healthz"), L_NONE);
	expect(&pol, URL("system:anonymous", "system:unauthenticated", "get", "/livez/etcd"),
	       L_NONE);
	expect(&pol, URL("alice", "system:authenticated", "get", "/apis/apps/v1"), L_NONE);
	expect(&pol,
	       RES("system:node:worker-1", "system:nodes", "update", "coordination.k8s.io",
		   "leases", NULL, "kube-node-lease", "worker-1"),
	       L_NONE);
	expect(&pol,
	       RES("system:kube-proxy", "system:authenticated", "watch", "discovery.k8s.io",
		   "endpointslices", NULL, NULL, NULL),
	       L_NONE);
	expect(&pol,
	       RES("system:node:worker-1", "system:nodes", "patch", "", "nodes", "status", NULL,
		   "worker-1"),
	       L_NONE);
	/* but what rules read stays: kubelet and kube-proxy Secret reads, other users' node edits
	 */
	expect(&pol,
	       RES("system:node:worker-1", "system:nodes", "get", "", "secrets", NULL, "shop",
		   "web-tls"),
	       L_METADATA);
	expect(&pol,
	       RES("system:kube-proxy", "system:authenticated", "get", "", "secrets", NULL,
		   "kube-system", "x"),
	       L_METADATA);
	expect(&pol, RES("alice", "system:authenticated", "patch", "", "nodes", NULL, NULL, "n1"),
	       L_METADATA);
	expect(&pol, URL("alice", "system:authenticated", "get", "/logs/"), L_METADATA);
	/* unknown and custom resources: Metadata, never bodies */
	expect(&pol,
	       RES("alice", "system:authenticated", "create", "external-secrets.io", "secretstores",
		   NULL, "prod", "aws"),
	       L_METADATA);
}

Test(audit_policy, request_received_is_omitted)
{
	bool omitted = false;

	for (int i = 0; i < pol.omit_stages.n; i++)
		omitted |= !strcmp(pol.omit_stages.v[i], "RequestReceived");
	cr_assert(omitted);
	cr_assert(!has(&pol.omit_stages, "ResponseStarted"),
		  "ResponseStarted carries the decision of watches and execs");
	cr_assert(!has(&pol.omit_stages, "ResponseComplete"));
}
