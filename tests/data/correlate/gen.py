#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Write the correlator's test logs (escalate-then-loot and its benign look-alikes).

    python3 tests/data/correlate/gen.py [OUTDIR]     (default: this directory)

Deterministic (fixed seed, fixed clock): re-running rewrites the same bytes, and the .log files
are committed. Every line is an audit.k8s.io/v1 Event as kube-apiserver's log backend writes it:
Go struct field order, compact, "&" "<" ">" escaped as \\u0026 etc. (Go's encoder), microsecond
RFC 3339 times, annotations last. Each request is written at RequestReceived (no response, no
requestObject, no impersonatedUser, no annotations: the apiserver writes that stage before the
body is decoded and before impersonation and authorization run) and at ResponseComplete; watch
and exec also at ResponseStarted. RBAC objects are logged at Request level (requestObject at the
later stages) unless the scenario is about a Metadata-only policy. Authorization reasons are the
RBAC authorizer's own wording ("RBAC: allowed by ClusterRoleBinding "x" of ClusterRole "y" to
User "z""). Lines are ordered by stageTimestamp, as the apiserver writes them.

Background traffic (leases, kubelet secret watches, controllers reading secrets) is mixed into
every file so the correlator is tested among the lines it must ignore.

Files:
  seed004.log        seed 004: clusterrolebinding to cluster-admin for attacker-admin, then gets
                     of aws-credentials and db-credentials, a 404 probe, a pods/exec, a re-read
  benign-ops.log     the same shapes done by operations: a controller's rolebindings, a human
                     binding a role to a service account that never reads secrets, a helm
                     install whose operator then reads secrets, an app that already read its
                     secrets before its binding was re-applied, kubectl apply of a new secret
                     (404 then create) by a binding's actor, kubelet token requests
  group.log          cluster-admin bound to Group oncall; member mallory reads; trent (not a
                     member) reads too
  sa.log             RoleBinding (subject namespace omitted) gives ServiceAccount build/ci-runner
                     the admin ClusterRole; the account reads; plus a serviceaccounts/token
                     request for monitoring/grafana followed by grafana listing secrets
  metadata.log       seed 004 under a Metadata-only policy: no requestObject anywhere
  window-29.log      grant, then the first loot 29 minutes later
  window-31.log      grant, then the first loot 31 minutes later
  impersonation.log  kubectl --as=system:admin --as-group=system:masters get secrets
"""
import json
import os
import random
import sys
import uuid
from datetime import datetime, timedelta, timezone

KUBECTL = "kubectl/v1.30.2 (linux/amd64) kubernetes/3968350"
KUBECTL_OLD = "kubectl/v1.28.4 (linux/amd64) kubernetes/bae2c62"
KUBELET = "kubelet/v1.36.2 (linux/amd64) kubernetes/5d9c2f0"
KCM = "kube-controller-manager/v1.36.2 (linux/amd64) kubernetes/5d9c2f0"
HELM = "Helm/3.15.2"
RBAC = "rbac.authorization.k8s.io"


def go_json(obj):
    """Compact JSON with Go's HTML escaping."""
    s = json.dumps(obj, separators=(",", ":"), ensure_ascii=False)
    return s.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")


def ts(t):
    return t.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class Log:
    def __init__(self, seed, start):
        self.rng = random.Random(seed)
        self.t = start
        self.lines = []  # (stage time, seq, text)
        self.seq = 0

    def uid(self):
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def at(self, seconds):
        """Move the clock to @seconds after the start of the scenario's current segment."""
        self.t = self.t0 + timedelta(seconds=seconds)
        return self.t

    def request(self, verb, uri, user, objref, *, ip="10.0.0.10", ua=KUBECTL, code=None,
                level="Metadata", reqobj=None, decision="allow", reason="", imp=None,
                long_running=False, message=None):
        t0 = self.t
        aid = self.uid()
        if code is None:
            code = 201 if verb == "create" else 200
            if decision == "forbid":
                code = 403
            if objref.get("subresource") in ("exec", "attach"):
                code = 101
        status = {"metadata": {}, "code": code}
        if code >= 400:
            reasons = {403: "Forbidden", 404: "NotFound"}
            status = {"metadata": {}, "status": "Failure", "message": message or "",
                      "reason": reasons.get(code, "Unknown"),
                      "details": {"name": objref.get("name", ""), "kind": objref["resource"]},
                      "code": code}
        ann = {"authorization.k8s.io/decision": decision, "authorization.k8s.io/reason": reason}
        lat = timedelta(microseconds=self.rng.randint(900, 7000))

        def event(stage, when):
            d = {"kind": "Event", "apiVersion": "audit.k8s.io/v1", "level": level,
                 "auditID": aid, "stage": stage, "requestURI": uri, "verb": verb, "user": user}
            if imp and stage != "RequestReceived":
                d["impersonatedUser"] = imp
            d["sourceIPs"] = [ip]
            d["userAgent"] = ua
            ref = dict(objref)
            if verb == "create" and stage == "RequestReceived" and "subresource" not in ref:
                ref.pop("name", None)  # known only once the body is decoded
            d["objectRef"] = ref
            if stage != "RequestReceived":
                d["responseStatus"] = status
                if reqobj is not None and level in ("Request", "RequestResponse"):
                    d["requestObject"] = reqobj
            d["requestReceivedTimestamp"] = ts(t0)
            d["stageTimestamp"] = ts(when)
            if stage != "RequestReceived":
                d["annotations"] = ann
            self.seq += 1
            self.lines.append((when, self.seq, go_json(d)))

        event("RequestReceived", t0)
        if long_running and code < 400:
            event("ResponseStarted", t0 + lat)
            event("ResponseComplete", t0 + lat + timedelta(seconds=self.rng.randint(3, 40)))
        else:
            event("ResponseComplete", t0 + lat)
        return aid

    def write(self, path):
        self.lines.sort(key=lambda x: (x[0], x[1]))
        with open(path, "w") as f:
            for _, _, line in self.lines:
                f.write(line + "\n")


# ---- identities and objects -------------------------------------------------------------------

def user(name, *groups):
    return {"username": name, "groups": list(groups) + ["system:authenticated"]}


def sa(ns, name):
    return {"username": f"system:serviceaccount:{ns}:{name}", "uid": f"uid-{ns}-{name}",
            "groups": ["system:serviceaccounts", f"system:serviceaccounts:{ns}",
                       "system:authenticated"]}


def node(name):
    return {"username": f"system:node:{name}", "groups": ["system:nodes", "system:authenticated"]}


def ref(resource, ns=None, name=None, group=None, sub=None):
    r = {"resource": resource}
    if ns:
        r["namespace"] = ns
    if name:
        r["name"] = name
    if group:
        r["apiGroup"] = group
    r["apiVersion"] = "v1"
    if sub:
        r["subresource"] = sub
    return r


def crb_reason(binding, role, kind, name):
    return f'RBAC: allowed by ClusterRoleBinding "{binding}" of ClusterRole "{role}" to {kind} "{name}"'


def rb_reason(binding, ns, rkind, role, kind, name):
    return f'RBAC: allowed by RoleBinding "{binding}/{ns}" of {rkind} "{role}" to {kind} "{name}"'


def binding_obj(kind, name, ns, role_kind, role, subjects, labels=None):
    md = {"name": name}
    if ns:
        md["namespace"] = ns
    if labels:
        md["labels"] = labels
    md["creationTimestamp"] = None
    return {"kind": kind, "apiVersion": f"{RBAC}/v1", "metadata": md, "subjects": subjects,
            "roleRef": {"apiGroup": RBAC, "kind": role_kind, "name": role}}


def create_crb(g, actor, name, role, subjects, *, level="Request", ua=KUBECTL, ip="10.0.0.10",
               labels=None, reason=""):
    return g.request("create", f"/apis/{RBAC}/v1/clusterrolebindings?fieldManager=kubectl-create"
                     "&fieldValidation=Strict", actor, ref("clusterrolebindings", None, name, RBAC),
                     level=level, ua=ua, ip=ip, reason=reason,
                     reqobj=binding_obj("ClusterRoleBinding", name, None, "ClusterRole", role,
                                        subjects, labels))


def create_rb(g, actor, ns, name, role_kind, role, subjects, *, level="Request", ua=KUBECTL,
              ip="10.0.0.10", labels=None, reason=""):
    return g.request("create", f"/apis/{RBAC}/v1/namespaces/{ns}/rolebindings?fieldManager="
                     "kubectl-create&fieldValidation=Strict", actor,
                     ref("rolebindings", ns, name, RBAC), level=level, ua=ua, ip=ip,
                     reason=reason,
                     reqobj=binding_obj("RoleBinding", name, ns, role_kind, role, subjects, labels))


def get_secret(g, who, ns, name, *, code=None, decision="allow", reason="", ip="10.0.0.10",
               ua=KUBECTL, imp=None):
    return g.request("get", f"/api/v1/namespaces/{ns}/secrets/{name}", who,
                     ref("secrets", ns, name), code=code, decision=decision, reason=reason,
                     ip=ip, ua=ua, imp=imp,
                     message=f'secrets "{name}" is forbidden' if decision == "forbid" else
                     f'secrets "{name}" not found')


def list_secrets(g, who, ns, *, reason="", ip="10.0.0.10", ua=KUBECTL, imp=None, watch=False):
    uri = f"/api/v1/namespaces/{ns}/secrets" if ns else "/api/v1/secrets"
    if watch:
        uri += "?allowWatchBookmarks=true&resourceVersion=48213&timeout=7m31s&watch=true"
    return g.request("watch" if watch else "list", uri, who, ref("secrets", ns), reason=reason,
                     ip=ip, ua=ua, imp=imp, long_running=watch)


def exec_pod(g, who, ns, pod, container, argv, *, verb="create", reason="", ip="10.0.0.10",
             ua=KUBECTL_OLD):
    from urllib.parse import quote_plus
    q = "&".join(f"command={quote_plus(a)}" for a in argv)
    uri = (f"/api/v1/namespaces/{ns}/pods/{pod}/exec?{q}&container={container}"
           "&stdin=true&stdout=true&tty=true")
    return g.request(verb, uri, who, ref("pods", ns, pod, sub="exec"), reason=reason, ip=ip,
                     ua=ua, long_running=True)


def noise(g, start_s, end_s):
    """Control-plane background: leases, kubelet secret watches, controllers' reads."""
    save = g.t
    s = start_s
    while s < end_s:
        g.at(s)
        k = g.rng.randint(0, 5)
        if k == 0:
            g.request("update", "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/"
                      "worker-1?timeout=10s", node("worker-1"),
                      ref("leases", "kube-node-lease", "worker-1", "coordination.k8s.io"),
                      ua=KUBELET, ip="10.0.0.21")
        elif k == 1:
            g.request("update", "/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/"
                      "kube-controller-manager?timeout=5s",
                      {"username": "system:kube-controller-manager",
                       "groups": ["system:authenticated"]},
                      ref("leases", "kube-system", "kube-controller-manager",
                          "coordination.k8s.io"), ua=KCM)
        elif k == 2:
            get_secret(g, node("worker-1"), "default", "web-tls", ua=KUBELET, ip="10.0.0.21")
        elif k == 3:
            get_secret(g, sa("cert-manager", "cert-manager"), "default", "web-tls",
                       ua="cert-manager-certificates/v1.15.3", ip="10.244.1.7",
                       reason=crb_reason("cert-manager-controller-certificates",
                                         "cert-manager-controller-certificates",
                                         "ServiceAccount", "cert-manager/cert-manager"))
        elif k == 4:
            list_secrets(g, sa("kube-system", "generic-garbage-collector"), None, ua=KCM,
                         reason=crb_reason("system:controller:generic-garbage-collector",
                                           "system:controller:generic-garbage-collector",
                                           "ServiceAccount",
                                           "generic-garbage-collector/kube-system"))
        else:
            g.request("get", "/api/v1/namespaces/default/configmaps/kube-root-ca.crt",
                      node("worker-1"), ref("configmaps", "default", "kube-root-ca.crt"),
                      ua=KUBELET, ip="10.0.0.21")
        s += g.rng.uniform(2, 9)
    g.t = save


# ---- scenarios --------------------------------------------------------------------------------

ATTACKER_IP = "203.0.113.77"


def seed004(g, level="Request"):
    deployer = sa("ci", "deployer")
    attacker = user("attacker-admin")
    why = crb_reason("attacker-admin", "cluster-admin", "User", "attacker-admin")
    noise(g, 0, 400)
    g.at(20)  # before the grant: probing, denied (not loot: nothing granted yet)
    get_secret(g, attacker, "default", "aws-credentials", decision="forbid", ip=ATTACKER_IP,
               reason="")
    g.at(60)
    create_crb(g, deployer, "attacker-admin", "cluster-admin",
               [{"kind": "User", "apiGroup": RBAC, "name": "attacker-admin"}], level=level,
               ip="10.244.2.15",
               reason=crb_reason("ci-deployer-rbac", "rbac-manager", "ServiceAccount",
                                 "deployer/ci"))
    g.at(95)
    get_secret(g, attacker, "default", "aws-credentials", reason=why, ip=ATTACKER_IP)
    g.at(101)
    get_secret(g, attacker, "default", "db-credentials", reason=why, ip=ATTACKER_IP)
    g.at(107)
    get_secret(g, attacker, "default", "vault-token", code=404, reason=why, ip=ATTACKER_IP)
    g.at(130)
    exec_pod(g, attacker, "default", "web-7d4b9c8f6-x2x9q", "web",
             ["cat", "/var/run/secrets/kubernetes.io/serviceaccount/token"], reason=why,
             ip=ATTACKER_IP)
    g.at(170)
    get_secret(g, attacker, "default", "aws-credentials", reason=why, ip=ATTACKER_IP)


def benign_ops(g):
    noise(g, 0, 900)
    # a controller provisions a namespace: bindings for the team's group, whose members then
    # read their namespace's secrets
    g.at(30)
    nsc = sa("kube-system", "namespace-provisioner")
    create_rb(g, nsc, "team-a", "team-a-edit", "ClusterRole", "edit",
              [{"kind": "Group", "apiGroup": RBAC, "name": "team-a"}], ua=KCM,
              reason=crb_reason("namespace-provisioner", "namespace-provisioner",
                                "ServiceAccount", "namespace-provisioner/kube-system"))
    g.at(90)
    get_secret(g, user("bob", "team-a"), "team-a", "app-env",
               reason=rb_reason("team-a-edit", "team-a", "ClusterRole", "edit", "Group",
                                "team-a"))
    # a human binds a role to an app's service account, which never reads secrets
    carol = user("carol", "platform")
    g.at(120)
    create_rb(g, carol, "shop", "web-pod-reader", "Role", "pod-reader",
              [{"kind": "ServiceAccount", "name": "web", "namespace": "shop"}],
              reason=crb_reason("platform-admins", "cluster-admin", "Group", "platform"))
    for i, s in enumerate((150, 210, 330)):
        g.at(s)
        g.request("get", "/api/v1/namespaces/shop/pods", sa("shop", "web"), ref("pods", "shop"),
                  ua="web/1.4.2", ip="10.244.1.20",
                  reason=rb_reason("web-pod-reader", "shop", "Role", "pod-reader",
                                   "ServiceAccount", "web/shop"))
    # the same human applies a new secret right after: kubectl apply reads it first (404), then
    # creates it; no secret value was read
    g.at(150)
    get_secret(g, carol, "shop", "web-api-key", code=404,
               reason=crb_reason("platform-admins", "cluster-admin", "Group", "platform"))
    g.at(151)
    g.request("create", "/api/v1/namespaces/shop/secrets?fieldManager=kubectl-client-side-apply"
              "&fieldValidation=Strict", carol, ref("secrets", "shop", "web-api-key"),
              reason=crb_reason("platform-admins", "cluster-admin", "Group", "platform"))
    # helm installs an operator: its binding, then the operator reading secrets
    deployer = sa("ci", "deployer")
    g.at(200)
    create_crb(g, deployer, "prometheus-operator", "prometheus-operator",
               [{"kind": "ServiceAccount", "name": "prometheus-operator",
                 "namespace": "monitoring"}], ua=HELM,
               labels={"app.kubernetes.io/managed-by": "Helm"},
               reason=crb_reason("ci-deployer-rbac", "rbac-manager", "ServiceAccount",
                                 "deployer/ci"))
    g.at(201)
    list_secrets(g, deployer, "monitoring", ua=HELM,
                 reason=crb_reason("ci-deployer-rbac", "rbac-manager", "ServiceAccount",
                                   "deployer/ci"))
    for s in (240, 241, 300):
        g.at(s)
        list_secrets(g, sa("monitoring", "prometheus-operator"), "monitoring",
                     ua="prometheus-operator/0.75.1", ip="10.244.3.9",
                     reason=crb_reason("prometheus-operator", "prometheus-operator",
                                       "ServiceAccount", "prometheus-operator/monitoring"))
    # an app reads its own secrets all along; its binding is re-applied (a GitOps sync)
    app = sa("shop", "checkout")
    app_why = rb_reason("checkout-secrets", "shop", "Role", "secret-reader", "ServiceAccount",
                        "checkout/shop")
    for s in (60, 180):
        g.at(s)
        get_secret(g, app, "shop", "checkout-db", reason=app_why, ip="10.244.1.31",
                   ua="checkout/2.0.1")
    g.at(400)
    g.request("patch", f"/apis/{RBAC}/v1/namespaces/shop/rolebindings/checkout-secrets?"
              "fieldManager=kubectl-client-side-apply", carol,
              ref("rolebindings", "shop", "checkout-secrets", RBAC), level="Request",
              reqobj={"metadata": {"annotations": {"kubectl.kubernetes.io/last-applied-"
                                                   "configuration": "{...}"}},
                      "subjects": [{"kind": "ServiceAccount", "name": "checkout",
                                    "namespace": "shop"}]},
              reason=crb_reason("platform-admins", "cluster-admin", "Group", "platform"))
    for s in (420, 600):
        g.at(s)
        get_secret(g, app, "shop", "checkout-db", reason=app_why, ip="10.244.1.31",
                   ua="checkout/2.0.1")
    # the kubelet asks for service-account tokens for its pods, which then read their secrets
    g.at(500)
    g.request("create", "/api/v1/namespaces/shop/serviceaccounts/checkout/token", node("worker-1"),
              ref("serviceaccounts", "shop", "checkout", sub="token"), ua=KUBELET,
              ip="10.0.0.21", level="Request",
              reqobj={"kind": "TokenRequest", "apiVersion": "authentication.k8s.io/v1",
                      "spec": {"audiences": None, "expirationSeconds": 3607}})


def group(g):
    noise(g, 0, 300)
    admin = user("platform-admin", "platform")
    g.at(40)
    create_crb(g, admin, "oncall-admins", "cluster-admin",
               [{"kind": "Group", "apiGroup": RBAC, "name": "oncall"}],
               reason=crb_reason("platform-admins", "cluster-admin", "Group", "platform"))
    why = crb_reason("oncall-admins", "cluster-admin", "Group", "oncall")
    g.at(100)
    list_secrets(g, user("mallory", "oncall"), "payments", reason=why, ip="198.51.100.23")
    g.at(104)
    get_secret(g, user("mallory", "oncall"), "payments", "stripe-live-key", reason=why,
               ip="198.51.100.23")
    # not a member: denied, and no incident (the grant was not for trent)
    g.at(110)
    get_secret(g, user("trent", "qa"), "payments", "stripe-live-key", decision="forbid",
               ip="198.51.100.40")


def sa_scenario(g):
    noise(g, 0, 400)
    admin = user("platform-admin", "platform")
    g.at(30)
    create_rb(g, admin, "build", "ci-runner-admin", "ClusterRole", "admin",
              [{"kind": "ServiceAccount", "name": "ci-runner"}],  # namespace: the binding's
              reason=crb_reason("platform-admins", "cluster-admin", "Group", "platform"))
    why = rb_reason("ci-runner-admin", "build", "ClusterRole", "admin", "ServiceAccount",
                    "ci-runner/build")
    g.at(80)
    get_secret(g, sa("build", "ci-runner"), "build", "registry-creds", reason=why,
               ip="10.244.4.12", ua="python-requests/2.32.3")
    # a token minted for another account by someone who should not, then used at once
    g.at(200)
    intruder = user("intruder")
    g.request("create", "/api/v1/namespaces/monitoring/serviceaccounts/grafana/token", intruder,
              ref("serviceaccounts", "monitoring", "grafana", sub="token"), ip=ATTACKER_IP,
              level="Request",
              reqobj={"kind": "TokenRequest", "apiVersion": "authentication.k8s.io/v1",
                      "metadata": {"creationTimestamp": None},
                      "spec": {"audiences": None, "expirationSeconds": 86400}},
              reason=crb_reason("intruder-token", "token-creator", "User", "intruder"))
    g.at(230)
    list_secrets(g, sa("monitoring", "grafana"), None, ip=ATTACKER_IP, ua=KUBECTL,
                 reason=crb_reason("grafana-reader", "grafana-secrets", "ServiceAccount",
                                   "grafana/monitoring"))


def window(g, minutes):
    noise(g, 0, 120)
    admin = user("platform-admin", "platform")
    g.at(30)
    create_crb(g, admin, "late-admin", "cluster-admin",
               [{"kind": "User", "apiGroup": RBAC, "name": "late-reader"}],
               reason=crb_reason("platform-admins", "cluster-admin", "Group", "platform"))
    g.at(30 + minutes * 60)
    noise(g, 30 + minutes * 60 - 60, 30 + minutes * 60 + 60)
    get_secret(g, user("late-reader"), "default", "aws-credentials",
               reason=crb_reason("late-admin", "cluster-admin", "User", "late-reader"))


def impersonation(g):
    noise(g, 0, 200)
    c = user("contractor", "vendors")
    masters = {"username": "system:admin", "groups": ["system:masters", "system:authenticated"]}
    why = crb_reason("cluster-admin", "cluster-admin", "Group", "system:masters")
    g.at(50)
    list_secrets(g, c, "prod", imp=masters, reason=why, ip="192.0.2.50")
    g.at(58)
    get_secret(g, c, "prod", "api-key", imp=masters, reason=why, ip="192.0.2.50")


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
    start = datetime(2026, 11, 23, 10, 0, 0, tzinfo=timezone.utc)
    plan = [
        ("seed004.log", 4, lambda g: seed004(g)),
        ("benign-ops.log", 5, benign_ops),
        ("group.log", 6, group),
        ("sa.log", 7, sa_scenario),
        ("metadata.log", 8, lambda g: seed004(g, level="Metadata")),
        ("window-29.log", 9, lambda g: window(g, 29)),
        ("window-31.log", 10, lambda g: window(g, 31)),
        ("impersonation.log", 11, impersonation),
    ]
    for name, seed, fn in plan:
        g = Log(seed, start)
        g.t0 = start
        fn(g)
        g.write(os.path.join(out, name))


if __name__ == "__main__":
    main()
