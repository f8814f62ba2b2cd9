#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Writes tests/data/secret-markers.log: RequestResponse-level audit events whose request and
response bodies hold secret material (Secret data in base64, stringData, a token in an
annotation, a kubeconfig in a ConfigMap, a TokenRequest's issued token), each value carrying a
unique KHMARK-* marker. The events are shaped to trigger every rule, so alerts are built from
exactly these events. tests/e2e/secret_markers.sh checks no marker reaches any output."""
import base64, json, sys

def ev(i, stage, verb, uri, user, groups, ua, ip, ref, code, req=None, resp=None, imp=None,
       level="RequestResponse", decision="allow"):
    e = {"kind": "Event", "apiVersion": "audit.k8s.io/v1", "level": level,
         "auditID": "5ec2e7a0-0000-4000-8000-%012d" % i, "stage": stage, "requestURI": uri,
         "verb": verb, "user": {"username": user, "groups": groups}}
    if imp:
        e["impersonatedUser"] = imp
    e["sourceIPs"] = [ip]
    e["userAgent"] = ua
    e["objectRef"] = ref
    if stage != "RequestReceived":
        e["responseStatus"] = {"metadata": {}, "code": code}
    if req is not None:
        e["requestObject"] = req
    if resp is not None and stage != "RequestReceived":
        e["responseObject"] = resp
    e["requestReceivedTimestamp"] = "2026-11-20T10:%02d:%02d.000000Z" % (i // 60, i % 60)
    e["stageTimestamp"] = "2026-11-20T10:%02d:%02d.004000Z" % (i // 60, i % 60)
    e["annotations"] = {"authorization.k8s.io/decision": decision,
                        "authorization.k8s.io/reason": ""}
    return e

def b64(s):
    return base64.b64encode(s.encode()).decode()

secret = lambda name, ns, m: {
    "kind": "Secret", "apiVersion": "v1",
    "metadata": {"name": name, "namespace": ns,
                 "annotations": {"example.com/api-token": "KHMARK-ANNOT-TOKEN-%s" % m}},
    "data": {"password": b64("KHMARK-B64-PASSWORD-%s" % m), "raw": "KHMARK-RAWDATA-%s" % m},
    "stringData": {"apikey": "KHMARK-STRINGDATA-%s" % m}, "type": "Opaque"}
kubeconfig = ("apiVersion: v1\nkind: Config\nusers:\n- name: admin\n  user:\n"
              "    token: KHMARK-KUBECONFIG-TOKEN\n")

out = []
n = 0
def pair(**kw):
    global n
    n += 1
    for st in ("RequestReceived", "ResponseComplete"):
        out.append(ev(n, st, **kw))

# suspicious user agent + non-controller reads, bodies at RequestResponse
for ua, m in (("curl/8.5.0", "CURL"), ("python-requests/2.31.0", "PY"), ("Go-http-client/1.1", "GO")):
    pair(verb="get", uri="/api/v1/namespaces/payments/secrets/db-%s" % m.lower(),
         user="mallory", groups=["system:authenticated"], ua=ua, ip="203.0.113.66",
         ref={"resource": "secrets", "namespace": "payments", "name": "db-%s" % m.lower(),
              "apiVersion": "v1"}, code=200, resp=secret("db-%s" % m.lower(), "payments", m))
# node / pod service account list with items
pair(verb="list", uri="/api/v1/namespaces/payments/secrets", user="system:serviceaccount:payments:web",
     groups=["system:serviceaccounts", "system:serviceaccounts:payments", "system:authenticated"],
     ua="kubectl/v1.31.1 (linux/amd64) kubernetes/948afe5", ip="10.244.3.9",
     ref={"resource": "secrets", "namespace": "payments", "apiVersion": "v1"}, code=200,
     resp={"kind": "SecretList", "apiVersion": "v1", "metadata": {},
           "items": [secret("a", "payments", "LIST1"), secret("b", "payments", "LIST2")]})
# azure arc proxy: kubeconfig in a configmap, impersonated caller
pair(verb="get", uri="/api/v1/namespaces/apps/configmaps/cluster-kubeconfig",
     user="system:serviceaccount:azure-arc:azure-arc-kube-aad-proxy-sa",
     groups=["system:serviceaccounts", "system:serviceaccounts:azure-arc"],
     ua="Go-http-client/2.0", ip="10.244.0.30",
     imp={"username": "eve@contoso.example", "groups": ["system:authenticated"]},
     ref={"resource": "configmaps", "namespace": "apps", "name": "cluster-kubeconfig",
          "apiVersion": "v1"}, code=200,
     resp={"kind": "ConfigMap", "apiVersion": "v1", "metadata": {"name": "cluster-kubeconfig"},
           "data": {"kubeconfig": kubeconfig}})
# rapid gets: three more distinct names by one fingerprint within minutes
for k in range(3):
    pair(verb="get", uri="/api/v1/namespaces/prod/secrets/s%d" % k, user="trent",
         groups=["system:authenticated"], ua="kubectl/v1.31.1 (linux/amd64) kubernetes/948afe5",
         ip="198.51.100.40", ref={"resource": "secrets", "namespace": "prod", "name": "s%d" % k,
                                   "apiVersion": "v1"}, code=200,
         resp=secret("s%d" % k, "prod", "RAPID%d" % k))
# escalation with a secret created in the same breath, then TokenRequest issuing a token
pair(verb="create", uri="/apis/rbac.authorization.k8s.io/v1/clusterrolebindings", user="mallory",
     groups=["system:authenticated"], ua="kubectl/v1.31.1 (linux/amd64) kubernetes/948afe5",
     ip="203.0.113.66", ref={"resource": "clusterrolebindings", "name": "pwn",
                             "apiGroup": "rbac.authorization.k8s.io", "apiVersion": "v1"}, code=201,
     req={"kind": "ClusterRoleBinding", "apiVersion": "rbac.authorization.k8s.io/v1",
          "metadata": {"name": "pwn", "annotations": {"note": "KHMARK-RBAC-ANNOTATION"}},
          "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "cluster-admin"},
          "subjects": [{"kind": "User", "name": "mallory", "apiGroup": "rbac.authorization.k8s.io"}]})
pair(verb="create", uri="/api/v1/namespaces/payments/secrets", user="mallory",
     groups=["system:authenticated"], ua="curl/8.5.0", ip="203.0.113.66",
     ref={"resource": "secrets", "namespace": "payments", "name": "planted", "apiVersion": "v1"},
     code=201, req=secret("planted", "payments", "CREATE"), resp=secret("planted", "payments", "CREATED"))
pair(verb="create", uri="/api/v1/namespaces/payments/serviceaccounts/web/token", user="mallory",
     groups=["system:authenticated"], ua="curl/8.5.0", ip="203.0.113.66",
     ref={"resource": "serviceaccounts", "subresource": "token", "namespace": "payments",
          "name": "web", "apiVersion": "v1"}, code=201,
     req={"kind": "TokenRequest", "apiVersion": "authentication.k8s.io/v1", "spec": {"audiences": ["api"]}},
     resp={"kind": "TokenRequest", "apiVersion": "authentication.k8s.io/v1",
           "status": {"token": "KHMARK-ISSUED-SA-TOKEN", "expirationTimestamp": "2026-11-20T11:00:00Z"}})
for e in out:
    sys.stdout.write(json.dumps(e, separators=(",", ":")) + "\n")
