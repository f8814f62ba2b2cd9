#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Write keyhole's bundled audit logs and the alerts each should raise.

    python3 tests/data/gen/gen_samples.py [OUTDIR]     (default: tests/data)

Output is deterministic (fixed seed, fixed clock), so re-running it rewrites the same bytes; the
generated files are committed. Each log is audit.k8s.io/v1 Event lines exactly as
kube-apiserver's log backend writes them: Go struct field order (kind, apiVersion, level,
auditID, stage, requestURI, verb, user, impersonatedUser, sourceIPs, userAgent, objectRef,
responseStatus, requestObject, responseObject, requestReceivedTimestamp, stageTimestamp,
annotations), compact, "<", ">" and "&" escaped as Go's encoder does, microsecond timestamps,
map keys sorted. Every request is written at RequestReceived (no response, no annotations, no
impersonatedUser: the apiserver writes that stage before impersonation and authorization) and
at ResponseComplete; long-running requests (watch, exec) also at ResponseStarted. Events are
written in stageTimestamp order, as the apiserver does.

Next to each NAME.log, NAME.expected.jsonl lists the alerts the per-event rules must raise: a
header {"covers": [rule ids]} and one {"rule", "auditID", "why"} per alert. The labels are
written here by hand from each rule's definition (the seeds), independently of the C code.
"""
import json
import os
import random
import sys
import uuid
from datetime import datetime, timedelta, timezone

SUA = "k8s-secret-suspicious-ua"
NONCTL = "k8s-secret-access-non-controller"
NODESA = "k8s-secret-read-node-or-pod-sa"
ARC = "k8s-secret-configmap-arc-proxy"
COVERS = [SUA, NONCTL, NODESA, ARC]

K8S_COMMIT = "5d9c2f0a3e41b7c8d6f1e2a3b4c5d6e7f8a9b0c1"
KUBELET_UA = f"kubelet/v1.36.2 (linux/amd64) kubernetes/{K8S_COMMIT[:7]}"
KCM_UA = f"kube-controller-manager/v1.36.2 (linux/amd64) kubernetes/{K8S_COMMIT[:7]}"
SCHED_UA = f"kube-scheduler/v1.36.2 (linux/amd64) kubernetes/{K8S_COMMIT[:7]}"
KUBECTL_UA = "kubectl/v1.30.2 (linux/amd64) kubernetes/3968350"
KUBECTL_OLD_UA = "kubectl/v1.28.4 (linux/amd64) kubernetes/bae2c62"

NODES = {"cp-1": "10.0.0.10", "worker-1": "10.0.0.21", "worker-2": "10.0.0.22"}


class Gen:
    def __init__(self, seed, start):
        self.rng = random.Random(seed)
        self.t = start
        self.events = []  # (stage time, seq, line)
        self.expected = []
        self.seq = 0
        self.node_uid = {n: self.uid() for n in NODES}

    def uid(self):
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def hexid(self, n):
        return "".join(self.rng.choice("0123456789abcdef") for _ in range(n))

    def pod(self, prefix):
        alnum = "bcdfghjklmnpqrstvwxz2456789"
        rs = "".join(self.rng.choice(alnum) for _ in range(9))
        return f"{prefix}-{rs[:9]}-{''.join(self.rng.choice(alnum) for _ in range(5))}"

    # ---- identities -------------------------------------------------------------------------
    def sa(self, ns, name, pod=None, node=None):
        u = {
            "username": f"system:serviceaccount:{ns}:{name}",
            "uid": self.uid(),
            "groups": ["system:serviceaccounts", f"system:serviceaccounts:{ns}",
                       "system:authenticated"],
        }
        if pod:
            u["extra"] = {
                "authentication.kubernetes.io/credential-id": [f"JTI={self.uid()}"],
                "authentication.kubernetes.io/node-name": [node],
                "authentication.kubernetes.io/node-uid": [self.node_uid[node]],
                "authentication.kubernetes.io/pod-name": [pod],
                "authentication.kubernetes.io/pod-uid": [self.uid()],
            }
        return u

    @staticmethod
    def node(name):
        return {"username": f"system:node:{name}",
                "groups": ["system:nodes", "system:authenticated"]}

    @staticmethod
    def user(name, groups):
        return {"username": name, "groups": list(groups) + ["system:authenticated"]}

    # ---- requests ---------------------------------------------------------------------------
    def tick(self, ms_lo=50, ms_hi=2500):
        self.t += timedelta(microseconds=self.rng.randint(ms_lo * 1000, ms_hi * 1000))
        return self.t

    def request(self, verb, uri, user, ip, ua, objref, *, code=None, level="Metadata",
                imp=None, reqobj=None, respobj=None, reason="", decision="allow",
                latency_ms=None, long_running_s=None, extra_ann=None, expect=(), why="",
                status_message=None, at=None):
        """One API request: its RequestReceived, [ResponseStarted], ResponseComplete events."""
        t0 = at if at is not None else self.tick()
        aid = self.uid()
        if code is None:
            code = {"create": 201}.get(verb, 200)
            if decision == "forbid":
                code = 403
        status = {"metadata": {}, "code": code}
        if code == 403:
            status = {"metadata": {}, "status": "Failure",
                      "message": status_message or "forbidden", "reason": "Forbidden",
                      "details": {k: v for k, v in (("name", objref.get("name")),
                                                    ("group", objref.get("apiGroup")),
                                                    ("kind", objref.get("resource"))) if v},
                      "code": 403}
        ann = {"authorization.k8s.io/decision": decision, "authorization.k8s.io/reason": reason}
        if extra_ann:
            ann.update(extra_ann)
        ann = dict(sorted(ann.items()))
        latency = timedelta(microseconds=self.rng.randint(800, 9000) if latency_ms is None
                            else latency_ms * 1000)

        def event(stage, ts):
            d = {"kind": "Event", "apiVersion": "audit.k8s.io/v1", "level": level,
                 "auditID": aid, "stage": stage, "requestURI": uri, "verb": verb, "user": user}
            if imp and stage != "RequestReceived":
                d["impersonatedUser"] = imp
            if ip is not None:
                d["sourceIPs"] = ip
            if ua is not None:
                d["userAgent"] = ua
            if objref is not None:
                ref = dict(objref)
                if verb == "create" and stage == "RequestReceived" and ref.get("subresource") is None:
                    ref.pop("name", None)  # filled in from the body once it is decoded
                d["objectRef"] = ref
            if stage != "RequestReceived":
                d["responseStatus"] = status
                if reqobj is not None and level in ("Request", "RequestResponse"):
                    d["requestObject"] = reqobj
                if respobj is not None and level == "RequestResponse" and stage == "ResponseComplete":
                    d["responseObject"] = respobj
            d["requestReceivedTimestamp"] = ts_fmt(t0)
            d["stageTimestamp"] = ts_fmt(ts)
            if stage != "RequestReceived":
                d["annotations"] = ann
            return d

        self.emit(event("RequestReceived", t0))
        if long_running_s is not None:
            started = t0 + latency
            self.emit(event("ResponseStarted", started))
            self.emit(event("ResponseComplete", started + timedelta(seconds=long_running_s)))
        else:
            self.emit(event("ResponseComplete", t0 + latency))
        for rule in expect:
            self.expected.append({"rule": rule, "auditID": aid, "why": why})
        return aid

    def emit(self, d):
        line = json.dumps(d, separators=(",", ":"), ensure_ascii=False)
        # Go's encoder escapes these for HTML safety; real audit logs carry them so
        line = line.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
        self.seq += 1
        self.events.append((d["stageTimestamp"], self.seq, line))

    def write(self, outdir, name, title):
        self.events.sort()
        with open(os.path.join(outdir, name + ".log"), "w") as f:
            for _, _, line in self.events:
                f.write(line + "\n")
        with open(os.path.join(outdir, name + ".expected.jsonl"), "w") as f:
            f.write(json.dumps({"covers": COVERS, "file": name + ".log", "title": title}) + "\n")
            for e in self.expected:
                f.write(json.dumps(e) + "\n")
        print(f"{name}.log: {len(self.events)} events, {len(self.expected)} expected alerts")


def ts_fmt(t):
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond:06d}Z"


def core(resource, ns=None, name=None, sub=None):
    r = {"resource": resource}
    if ns:
        r["namespace"] = ns
    if name:
        r["name"] = name
    r["apiVersion"] = "v1"
    if sub:
        r["subresource"] = sub
    return r


def grouped(resource, group, version, ns=None, name=None, sub=None):
    r = {"resource": resource}
    if ns:
        r["namespace"] = ns
    if name:
        r["name"] = name
    r["apiGroup"] = group
    r["apiVersion"] = version
    if sub:
        r["subresource"] = sub
    return r


def rbac_reason(kind, binding, role, subject_kind, subject):
    return (f'RBAC: allowed by {kind} "{binding}" of ClusterRole "{role}" to '
            f'{subject_kind} "{subject}"')


# ---- background: what a control plane does all the time --------------------------------------
class Background:
    def __init__(self, g):
        self.g = g
        self.kcm = {"username": "system:kube-controller-manager",
                    "groups": ["system:authenticated"]}
        self.sched = {"username": "system:kube-scheduler", "groups": ["system:authenticated"]}

    def leases(self, rounds, every_s):
        g = self.g
        start = g.t
        for i in range(rounds):
            base = start + timedelta(seconds=i * every_s)
            for who, ua, lease in ((self.kcm, KCM_UA + "/leader-election", "kube-controller-manager"),
                                   (self.sched, SCHED_UA + "/leader-election", "kube-scheduler")):
                reason = rbac_reason("ClusterRoleBinding", who["username"], who["username"],
                                     "User", who["username"])
                at = base + timedelta(microseconds=g.rng.randint(0, 900000))
                g.request("update", f"/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/{lease}?timeout=5s",
                          who, [NODES["cp-1"]], ua,
                          grouped("leases", "coordination.k8s.io", "v1", "kube-system", lease),
                          reason=reason, at=at)
            for n in NODES:
                if i % 2:
                    continue
                at = base + timedelta(microseconds=g.rng.randint(0, 900000))
                g.request("update", f"/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/{n}?timeout=10s",
                          self.node(n), [NODES[n]], KUBELET_UA,
                          grouped("leases", "coordination.k8s.io", "v1", "kube-node-lease", n),
                          at=at)
        g.t = start

    @staticmethod
    def node(n):
        return Gen.node(n)


def benign(outdir):
    g = Gen(20261123, datetime(2026, 11, 23, 9, 0, 0, 123456, tzinfo=timezone.utc))
    bg = Background(g)
    bg.leases(rounds=40, every_s=4)

    # kube-system controllers, each with its own service account token (kube-controller-manager
    # --use-service-account-credentials), talking to the apiserver on the node's address
    cp = [NODES["cp-1"]]
    ks = {n: g.sa("kube-system", n) for n in (
        "replicaset-controller", "deployment-controller", "endpointslice-controller",
        "generic-garbage-collector", "namespace-controller", "legacy-service-account-token-cleaner")}
    sys_reason = lambda n: rbac_reason("ClusterRoleBinding", f"system:controller:{n}",
                                       f"system:controller:{n}", "ServiceAccount", f"kube-system/{n}")
    # long-running informer watches (secrets included): Sigma-allowlisted kube-system accounts,
    # and watch is not a verb of the node/pod-SA rule
    g.request("watch", "/api/v1/secrets?allowWatchBookmarks=true&resourceVersion=48211&timeout=9m6s&timeoutSeconds=546&watch=true",
              ks["generic-garbage-collector"], cp, KCM_UA + "/generic-garbage-collector",
              core("secrets"), reason=sys_reason("generic-garbage-collector"), long_running_s=95)
    g.request("watch", "/api/v1/secrets?allowWatchBookmarks=true&resourceVersion=48211&timeout=7m41s&timeoutSeconds=461&watch=true",
              ks["legacy-service-account-token-cleaner"], cp,
              KCM_UA + "/legacy-service-account-token-cleaner", core("secrets"),
              reason=sys_reason("legacy-service-account-token-cleaner"), long_running_s=120)

    shop_web = g.pod("web")
    for i in range(6):
        g.request("update", "/apis/apps/v1/namespaces/shop/replicasets/web-7f9c6d5b8",
                  ks["deployment-controller"], cp, KCM_UA + "/deployment-controller",
                  grouped("replicasets", "apps", "v1", "shop", "web-7f9c6d5b8"),
                  reason=sys_reason("deployment-controller"))
        g.request("update", "/apis/discovery.k8s.io/v1/namespaces/shop/endpointslices/web-x7k2p",
                  ks["endpointslice-controller"], cp, KCM_UA + "/endpointslice-controller",
                  grouped("endpointslices", "discovery.k8s.io", "v1", "shop", "web-x7k2p"),
                  reason=sys_reason("endpointslice-controller"))
    g.request("create", "/api/v1/namespaces/shop/pods", ks["replicaset-controller"], cp,
              KCM_UA + "/replicaset-controller", core("pods", "shop", shop_web),
              reason=sys_reason("replicaset-controller"),
              extra_ann={"pod-security.kubernetes.io/enforce-policy": "baseline:latest"})
    sched = {"username": "system:kube-scheduler", "groups": ["system:authenticated"]}
    g.request("create", f"/api/v1/namespaces/shop/pods/{shop_web}/binding", sched, cp, SCHED_UA,
              core("pods", "shop", shop_web, "binding"),
              reason=rbac_reason("ClusterRoleBinding", "system:kube-scheduler",
                                 "system:kube-scheduler", "User", "system:kube-scheduler"))

    # kubelet on worker-1 starts the pod: it reads the secret the pod mounts, through a
    # single-object list+watch (the Node authorizer allows it: the pod references the secret).
    # The upstream node/pod-SA and Sigma rules both fire on that list: a known false positive of
    # their definitions (system:node:* reading a secret from a node address), kept as they are.
    w1 = g.node("worker-1")
    aid = g.request("list", "/api/v1/namespaces/shop/secrets?fieldSelector=metadata.name%3Dweb-tls&limit=500&resourceVersion=0",
                    w1, [NODES["worker-1"]], KUBELET_UA, core("secrets", "shop"),
                    expect=(NONCTL, NODESA),
                    why="kubelet lists the secret a new pod mounts: system:node:* from a node IP "
                        "(upstream false positive of both definitions)")
    g.request("watch", "/api/v1/namespaces/shop/secrets?allowWatchBookmarks=true&fieldSelector=metadata.name%3Dweb-tls&resourceVersion=48290&timeout=6m12s&timeoutSeconds=372&watch=true",
              w1, [NODES["worker-1"]], KUBELET_UA, core("secrets", "shop"), long_running_s=60,
              expect=(NONCTL,),
              why="kubelet watches the mounted secret: Sigma covers watch, its allowlist has no nodes")
    g.request("list", "/api/v1/namespaces/shop/configmaps?fieldSelector=metadata.name%3Dkube-root-ca.crt&limit=500&resourceVersion=0",
              w1, [NODES["worker-1"]], KUBELET_UA, core("configmaps", "shop"))
    g.request("patch", f"/api/v1/namespaces/shop/pods/{shop_web}/status", w1, [NODES["worker-1"]],
              KUBELET_UA, core("pods", "shop", shop_web, "status"))
    for n in NODES:
        g.request("patch", f"/api/v1/nodes/{n}/status?timeout=10s", g.node(n), [NODES[n]],
                  KUBELET_UA, core("nodes", name=n, sub="status"))

    # cert-manager renews a certificate: reads and updates the TLS secret. Allowlisted by
    # Sigma's filter_controllers; excluded from the node/pod-SA rule by its
    # (cert-manager SA, cert-manager-* pod) pair.
    cm_pod = g.pod("cert-manager")
    cm = g.sa("cert-manager", "cert-manager", cm_pod, "worker-2")
    cm_ip = ["10.244.2.14"]
    cm_ua = "cert-manager-certificates-issuing/v1.15.3 (linux/amd64) cert-manager/8c1ec2f5"
    cm_reason = rbac_reason("ClusterRoleBinding", "cert-manager-controller-certificates",
                            "cert-manager-controller-certificates", "ServiceAccount",
                            "cert-manager/cert-manager")
    g.request("get", "/apis/cert-manager.io/v1/namespaces/shop/certificates/web-tls", cm, cm_ip,
              cm_ua, grouped("certificates", "cert-manager.io", "v1", "shop", "web-tls"),
              reason=cm_reason)
    g.request("get", "/api/v1/namespaces/shop/secrets/web-tls", cm, cm_ip, cm_ua,
              core("secrets", "shop", "web-tls"), reason=cm_reason)
    g.request("update", "/api/v1/namespaces/shop/secrets/web-tls", cm, cm_ip, cm_ua,
              core("secrets", "shop", "web-tls"), reason=cm_reason)
    g.request("list", "/api/v1/namespaces/cert-manager/secrets?labelSelector=controller.cert-manager.io%2Ffao%3Dtrue&limit=500",
              cm, cm_ip, cm_ua.replace("issuing", "readiness"), core("secrets", "cert-manager"),
              reason=cm_reason)
    # cainjector reads CA secrets to patch webhook configurations: excluded by its pair
    cai_pod = g.pod("cert-manager-cainjector")
    cai = g.sa("cert-manager", "cert-manager-cainjector", cai_pod, "worker-2")
    g.request("get", "/api/v1/namespaces/cert-manager/secrets/cert-manager-webhook-ca", cai,
              ["10.244.2.15"], "cainjector/v1.15.3 (linux/amd64) cert-manager/8c1ec2f5",
              core("secrets", "cert-manager", "cert-manager-webhook-ca"),
              reason=rbac_reason("ClusterRoleBinding", "cert-manager-cainjector",
                                 "cert-manager-cainjector", "ServiceAccount",
                                 "cert-manager/cert-manager-cainjector"))

    # external-secrets writes the secrets it syncs (create/update; its reads come from its
    # informer cache, a watch): Sigma allowlists it, the node/pod-SA rule covers only get/list
    eso_pod = g.pod("external-secrets")
    eso = g.sa("external-secrets", "external-secrets", eso_pod, "worker-1")
    eso_ua = "external-secrets/v0.0.0 (linux/amd64) kubernetes/$Format"
    eso_reason = rbac_reason("ClusterRoleBinding", "external-secrets-controller",
                             "external-secrets-controller", "ServiceAccount",
                             "external-secrets/external-secrets")
    g.request("watch", "/api/v1/secrets?allowWatchBookmarks=true&labelSelector=reconcile.external-secrets.io%2Fmanaged%3Dtrue&resourceVersion=48190&timeoutSeconds=418&watch=true",
              eso, ["10.244.1.31"], eso_ua, core("secrets"), reason=eso_reason, long_running_s=80)
    g.request("get", "/apis/external-secrets.io/v1beta1/namespaces/shop/externalsecrets/db-credentials",
              eso, ["10.244.1.31"], eso_ua,
              grouped("externalsecrets", "external-secrets.io", "v1beta1", "shop", "db-credentials"),
              reason=eso_reason)
    g.request("update", "/api/v1/namespaces/shop/secrets/db-credentials", eso, ["10.244.1.31"],
              eso_ua, core("secrets", "shop", "db-credentials"), reason=eso_reason)
    g.request("create", "/api/v1/namespaces/billing/secrets", eso, ["10.244.1.31"], eso_ua,
              core("secrets", "billing", "stripe-api-key"), reason=eso_reason)

    # flux: source-controller reads its git deploy key on every reconcile. The node/pod-SA rule
    # excludes the flux-system group; Sigma's allowlist does not know flux.
    sc_pod = g.pod("source-controller")
    sc = g.sa("flux-system", "source-controller", sc_pod, "worker-2")
    sc_ua = "source-controller/v0.0.0 (linux/amd64) kubernetes/$Format"
    sc_reason = rbac_reason("ClusterRoleBinding", "cluster-reconciler-flux-system", "cluster-admin",
                            "ServiceAccount", "flux-system/source-controller")
    for _ in range(2):
        g.request("get", "/apis/source.toolkit.fluxcd.io/v1/namespaces/flux-system/gitrepositories/flux-system",
                  sc, ["10.244.2.40"], sc_ua,
                  grouped("gitrepositories", "source.toolkit.fluxcd.io", "v1", "flux-system", "flux-system"),
                  reason=sc_reason)
        g.request("get", "/api/v1/namespaces/flux-system/secrets/flux-system", sc, ["10.244.2.40"],
                  sc_ua, core("secrets", "flux-system", "flux-system"), reason=sc_reason,
                  expect=(NONCTL,),
                  why="flux source-controller reads its deploy key: not in Sigma's controller "
                      "allowlist (node/pod-SA excludes the flux-system group)")
        g.request("patch", "/apis/source.toolkit.fluxcd.io/v1/namespaces/flux-system/gitrepositories/flux-system/status",
                  sc, ["10.244.2.40"], sc_ua,
                  grouped("gitrepositories", "source.toolkit.fluxcd.io", "v1", "flux-system",
                          "flux-system", "status"), reason=sc_reason)
    kc_pod = g.pod("kustomize-controller")
    kc = g.sa("flux-system", "kustomize-controller", kc_pod, "worker-2")
    g.request("patch", "/apis/apps/v1/namespaces/shop/deployments/web?fieldManager=kustomize-controller",
              kc, ["10.244.2.41"], "kustomize-controller/v0.0.0 (linux/amd64) kubernetes/$Format",
              grouped("deployments", "apps", "v1", "shop", "web"),
              reason=rbac_reason("ClusterRoleBinding", "cluster-reconciler-flux-system",
                                 "cluster-admin", "ServiceAccount",
                                 "flux-system/kustomize-controller"))

    # helm upgrade from a CI job's service account: helm keeps releases in
    # sh.helm.release.v1.<name>.v<N> secrets and lists them by label. Both Sigma and the
    # node/pod-SA rule fire (a pod's service account listing secrets): upstream behaviour.
    ci_pod = g.pod("runner-deploy")
    ci = g.sa("ci", "deployer", ci_pod, "worker-1")
    helm_ua = "Helm/3.15.2"
    ci_reason = rbac_reason("RoleBinding", "deployer", "edit", "ServiceAccount", "ci/deployer")
    g.request("list", "/api/v1/namespaces/shop/secrets?labelSelector=name%3Dweb%2Cowner%3Dhelm",
              ci, ["10.244.1.52"], helm_ua, core("secrets", "shop"), reason=ci_reason,
              expect=(NONCTL, NODESA),
              why="helm lists its release secrets from a CI pod's service account")
    g.request("get", "/api/v1/namespaces/shop/secrets/sh.helm.release.v1.web.v7", ci,
              ["10.244.1.52"], helm_ua, core("secrets", "shop", "sh.helm.release.v1.web.v7"),
              reason=ci_reason, expect=(NONCTL, NODESA),
              why="helm reads the last release secret from a CI pod's service account")
    g.request("create", "/api/v1/namespaces/shop/secrets", ci, ["10.244.1.52"], helm_ua,
              core("secrets", "shop", "sh.helm.release.v1.web.v8"), reason=ci_reason)
    g.request("patch", "/apis/apps/v1/namespaces/shop/deployments/web?fieldManager=helm", ci,
              ["10.244.1.52"], helm_ua, grouped("deployments", "apps", "v1", "shop", "web"),
              reason=ci_reason)
    g.request("update", "/api/v1/namespaces/shop/secrets/sh.helm.release.v1.web.v7", ci,
              ["10.244.1.52"], helm_ua, core("secrets", "shop", "sh.helm.release.v1.web.v7"),
              reason=ci_reason)

    # a platform engineer looks around with kubectl (no secrets)
    alice = g.user("alice@example.com", ["oidc:platform"])
    for uri, ref in (("/api/v1/namespaces/shop/pods?limit=500", core("pods", "shop")),
                     ("/apis/apps/v1/namespaces/shop/deployments/web", grouped("deployments", "apps", "v1", "shop", "web")),
                     ("/api/v1/namespaces/shop/configmaps/web-config", core("configmaps", "shop", "web-config"))):
        g.request("list" if "limit" in uri else "get", uri, alice, ["192.0.2.44"], KUBECTL_UA,
                  ref, reason=rbac_reason("ClusterRoleBinding", "platform-view", "view", "Group",
                                          "oidc:platform"))
    g.write(outdir, "benign-controlplane", "control-plane traffic: controllers, kubelets, "
            "cert-manager, external-secrets, flux, helm")


def attack(outdir):
    g = Gen(7331, datetime(2026, 11, 23, 14, 20, 0, 4211, tzinfo=timezone.utc))
    bg = Background(g)
    bg.leases(rounds=45, every_s=4)
    ext = ["203.0.113.77"]

    # 1. a CI service account token, stolen from its pod, is used from that pod to look at its
    #    rights and then grant cluster-admin to a user the attacker holds a certificate for
    bb_pod = g.pod("build-bot")
    bb = g.sa("ci", "build-bot", bb_pod, "worker-1")
    bb_ip = ["10.244.1.23"]
    g.request("create", "/apis/authorization.k8s.io/v1/selfsubjectrulesreviews", bb, bb_ip,
              KUBECTL_UA, grouped("selfsubjectrulesreviews", "authorization.k8s.io", "v1"),
              reason="")
    crb = {"kind": "ClusterRoleBinding", "apiVersion": "rbac.authorization.k8s.io/v1",
           "metadata": {"name": "attacker-admin-binding", "creationTimestamp": None},
           "subjects": [{"kind": "User", "apiGroup": "rbac.authorization.k8s.io",
                         "name": "attacker-admin"}],
           "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                       "name": "cluster-admin"}}
    g.request("create", "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings?fieldManager=kubectl-create&fieldValidation=Strict",
              bb, bb_ip, KUBECTL_UA,
              grouped("clusterrolebindings", "rbac.authorization.k8s.io", "v1",
                      name="attacker-admin-binding"),
              level="Request", reqobj=crb,
              reason=rbac_reason("ClusterRoleBinding", "build-bot-rbac", "rbac-manager",
                                 "ServiceAccount", "ci/build-bot"))

    # 2. attacker-admin loots secrets from outside the cluster
    aa = g.user("attacker-admin", [])
    g.tick(20000, 40000)
    aa_reason = rbac_reason("ClusterRoleBinding", "attacker-admin-binding", "cluster-admin",
                            "User", "attacker-admin")
    g.request("list", "/api/v1/namespaces/prod/secrets?limit=500", aa, ext, KUBECTL_UA,
              core("secrets", "prod"), reason=aa_reason, expect=(NONCTL,),
              why="attacker-admin lists secrets (kubectl user agent: not suspicious)")
    g.request("get", "/api/v1/namespaces/prod/secrets/aws-credentials", aa, ext, "curl/8.5.0",
              core("secrets", "prod", "aws-credentials"), reason=aa_reason,
              expect=(SUA, NONCTL), why="curl reads aws-credentials from an external address")
    g.request("get", "/api/v1/namespaces/prod/secrets/db-credentials", aa, ext,
              "python-requests/2.31.0", core("secrets", "prod", "db-credentials"),
              reason=aa_reason, expect=(SUA, NONCTL),
              why="python-requests reads db-credentials from an external address")
    g.request("get", "/api/v1/namespaces/kube-system/secrets/bootstrap-token-7x2kq9", aa, ext,
              "Python-urllib/3.11", core("secrets", "kube-system", "bootstrap-token-7x2kq9"),
              reason=aa_reason, expect=(SUA, NONCTL),
              why="Python-urllib reads a bootstrap token (Python* pattern)")
    g.request("get", "/api/v1/namespaces/prod/configmaps/payments-config", aa, ext, "curl/8.5.0",
              core("configmaps", "prod", "payments-config"), reason=aa_reason)

    # 3. exec into the payments pod: kubectl >= 1.30 (WebSocket, verb get) and an older client
    #    (SPDY, verb create); the command is in the requestURI
    pay_pod = g.pod("payments-api")
    g.request("get", f"/api/v1/namespaces/prod/pods/{pay_pod}/exec?command=cat&command=%2Fvar%2Frun%2Fsecrets%2Fkubernetes.io%2Fserviceaccount%2Ftoken&container=api&stderr=true&stdout=true",
              aa, ext, KUBECTL_UA, core("pods", "prod", pay_pod, "exec"), code=101,
              reason=aa_reason, long_running_s=2)
    g.request("create", f"/api/v1/namespaces/prod/pods/{pay_pod}/exec?command=sh&command=-c&command=env+%7C+grep+-i+pass&container=api&stderr=true&stdout=true",
              aa, ext, KUBECTL_OLD_UA, core("pods", "prod", pay_pod, "exec"), code=101,
              reason=aa_reason, long_running_s=3)

    # 4. the pod's service-account token, read during the exec, used from the pod's address
    pay = g.sa("prod", "payments-api", pay_pod, "worker-2")
    pay_ip = ["10.244.2.18"]
    pay_reason = rbac_reason("RoleBinding", "payments-api", "payments-secrets-reader",
                             "ServiceAccount", "prod/payments-api")
    g.tick(3000, 8000)
    g.request("list", "/api/v1/namespaces/prod/secrets?limit=500", pay, pay_ip, KUBECTL_UA,
              core("secrets", "prod"), reason=pay_reason, expect=(NONCTL, NODESA),
              why="a pod's service-account token lists secrets from the pod address")
    g.request("get", "/api/v1/namespaces/prod/secrets/stripe-api-key", pay, pay_ip, "curl/8.5.0",
              core("secrets", "prod", "stripe-api-key"), reason=pay_reason,
              expect=(SUA, NONCTL, NODESA),
              why="a pod's service-account token with curl from the pod address")
    g.request("get", "/api/v1/namespaces/kube-system/secrets/cloud-provider-config", pay, pay_ip,
              "curl/8.5.0", core("secrets", "kube-system", "cloud-provider-config"),
              decision="forbid",
              status_message='secrets "cloud-provider-config" is forbidden: User "system:serviceaccount:prod:payments-api" cannot get resource "secrets" in API group "" in the namespace "kube-system"',
              expect=(SUA, NONCTL, NODESA),
              why="denied read still alerts; the alert carries decision forbid")
    # the same token through a port-forward on the node: loopback, which the node/pod-SA rule
    # excludes (Sigma does not)
    g.request("get", "/api/v1/namespaces/prod/secrets/payments-db", pay, ["127.0.0.1"],
              KUBECTL_UA, core("secrets", "prod", "payments-db"), reason=pay_reason,
              expect=(NONCTL,), why="loopback source: only the Sigma rule fires")

    # node credentials lifted from worker-2 try a secret no pod there references
    w2 = g.node("worker-2")
    g.request("get", "/api/v1/namespaces/finance/secrets/ledger-db", w2, [NODES["worker-2"]],
              "curl/8.5.0", core("secrets", "finance", "ledger-db"), decision="forbid",
              reason="no relationship found between node 'worker-2' and this object",
              status_message='secrets "ledger-db" is forbidden: User "system:node:worker-2" cannot get resource "secrets" in API group "" in the namespace "finance": no relationship found between node \'worker-2\' and this object',
              expect=(SUA, NONCTL, NODESA),
              why="kubelet credentials with curl from a node address")

    # 5. Azure Arc cluster connect: the proxy service account acts for an Azure AD identity
    arc_pod = g.pod("clusterconnect-agent")
    arc = g.sa("azure-arc", "azure-arc-kube-aad-proxy-sa", arc_pod, "cp-1")
    arc_ip = ["10.244.0.9"]

    def aad(oid):
        return {"username": oid, "groups": ["system:authenticated"],
                "extra": {"oid": [oid]}}
    arc_reason = 'RBAC: allowed by ClusterRoleBinding "azure-arc-clusterconnect" of ClusterRole "cluster-admin" to Group "aad-admins"'
    oid1, oid2, oid3 = "4d2a1e7b-0c3f-4b9e-8a61-2f5c7d9e1b03", "9b8c7d6e-5f4a-4b3c-9d2e-1f0a9b8c7d6e", "c0ffee00-1d2c-4b3a-8e9f-a0b1c2d3e4f5"
    g.tick(5000, 9000)
    g.request("get", "/api/v1/namespaces/prod/secrets/payments-db", arc, arc_ip, KUBECTL_UA,
              core("secrets", "prod", "payments-db"), imp=aad(oid1), reason=arc_reason,
              expect=(ARC, NONCTL, NODESA),
              why="first request through the Arc proxy by impersonated user " + oid1)
    g.request("list", "/api/v1/namespaces/prod/configmaps?limit=500", arc, arc_ip, KUBECTL_UA,
              core("configmaps", "prod"), imp=aad(oid1), reason=arc_reason)
    g.request("get", "/api/v1/namespaces/prod/secrets/aws-credentials", arc, arc_ip, KUBECTL_UA,
              core("secrets", "prod", "aws-credentials"), imp=aad(oid1), reason=arc_reason,
              expect=(NONCTL, NODESA),
              why="same impersonated user again within 5 days: no second Arc alert")
    g.request("get", "/api/v1/namespaces/azure-arc/configmaps/azure-clusterconfig", arc, arc_ip,
              KUBECTL_UA, core("configmaps", "azure-arc", "azure-clusterconfig"),
              imp=aad(oid2), reason=arc_reason)
    g.request("get", "/api/v1/namespaces/default/secrets/sh.helm.release.v1.azure-arc.v3", arc,
              arc_ip, KUBECTL_UA, core("secrets", "default", "sh.helm.release.v1.azure-arc.v3"),
              imp=aad(oid2), reason=arc_reason, expect=(NONCTL, NODESA),
              why="Arc excludes helm release secrets; the generic rules do not")
    g.request("get", "/api/v1/namespaces/finance/secrets/ledger-db", arc, arc_ip, KUBECTL_UA,
              core("secrets", "finance", "ledger-db"), imp=aad(oid2), reason=arc_reason,
              expect=(ARC, NONCTL, NODESA),
              why="first non-excluded request by impersonated user " + oid2)
    g.request("list", "/api/v1/secrets?limit=500", arc, arc_ip, KUBECTL_UA, core("secrets"),
              imp=aad(oid3), reason=arc_reason, expect=(ARC, NONCTL, NODESA),
              why="cluster-wide list (no namespace, no name) by impersonated user " + oid3 +
                  ": alerts although ES|QL's null semantics would drop it")

    # 6. offensive-distribution user agents (KQL wildcards are case-sensitive, whole value)
    dev = g.user("dev-intern", ["oidc:developers"])
    dev_reason = rbac_reason("RoleBinding", "developers", "edit", "Group", "oidc:developers")
    kali_uas = [
        ("Boto3/1.34.0 md/Botocore#1.34.0 ua/2.0 os/linux#6.6.15-amd64 md/arch#x86_64 lang/python#3.11.8 md/pyimpl#CPython distrib#kali.2024 cfg/retry-mode#legacy Botocore/1.34.0",
         True, "*distrib#kali* (contains)"),
        ("kube-hunter/0.6.8 Linux/6.6.15-kali-amd64", True, "*kali-amd64 (suffix)"),
        ("nmap-k8s/7.94 (Linux 6.6.9-kali-arm64; aarch64)", True, "*kali-arm64* (contains)"),
        ("Mozilla/5.0 (X11; Linux 6.6.15-kali-amd64) Firefox/115.0", False,
         "kali-amd64 not at the end: *kali-amd64 is a suffix"),
        ("Curl/8.4.0", False, "Curl: curl* is case-sensitive"),
    ]
    for i, (ua, hit, note) in enumerate(kali_uas):
        g.request("get", f"/api/v1/namespaces/dev/secrets/app-config-{i}", dev, ["198.51.100.23"],
                  ua, core("secrets", "dev", f"app-config-{i}"), reason=dev_reason,
                  expect=(SUA, NONCTL) if hit else (NONCTL,),
                  why=("user agent " + note) if hit else ("no suspicious-UA alert: " + note))
    g.write(outdir, "attack", "escalate-then-loot (seed 004), stolen pod and node credentials, "
            "Azure Arc proxy, offensive-distribution user agents")


def main():
    outdir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..")
    benign(outdir)
    attack(outdir)


if __name__ == "__main__":
    main()
