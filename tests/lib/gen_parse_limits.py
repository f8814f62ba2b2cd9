#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Write the audit log of tests/e2e/parse_limits.sh (issue 13) to OUT, and a manifest.

The log holds, in order: the seed004 escalate-then-loot story with its grant turned into a patch
whose body carries a field nested DEEP levels down; an event of audit.k8s.io/v1beta1 carrying only
a top-level "timestamp"; then, per size in SIZES (MiB), one RequestResponse `list secrets -A` by
curl of exactly that many bytes (newline not counted), whose user carries a full `extra` map.
The manifest (OUT.manifest) has one "auditID size offset" line per big event: the byte offset of
its first byte in the log. Big events are streamed to disk, never held whole.

Usage: gen_parse_limits.py SEED004_LOG OUT [SIZES...] (default SIZES: 17 100)
"""
import json
import sys

DEEP = 10000
GRANT = "bee46e99-3af9-4fde-9e1c-29694f46f6b4"
EXTRA = {
    "authentication.kubernetes.io/credential-id": ["JTI=7f1c2e9a-5b3d-4e8f-a1c6-9d0e2b4f6a81"],
    "authentication.kubernetes.io/node-name": ["worker-9"],
    "authentication.kubernetes.io/node-uid": ["c3d4e5f6-0718-4293-a4b5-c6d7e8f90a1b"],
    "authentication.kubernetes.io/pod-name": ["loot-6b7c8d9e0f-x1y2z"],
    "authentication.kubernetes.io/pod-uid": ["e1f20314-2536-4748-895a-6b7c8d9e0f10"],
    "example.com/quoted \"key\"": ["tab\there", "newline\nthere", "\u00e9t\u00e9"],
}


def deep_value(depth):
    parts = ['{"a":' if i % 2 == 0 else "[" for i in range(depth)]
    closes = ["}" if i % 2 == 0 else "]" for i in reversed(range(depth))]
    return "".join(parts) + "1" + "".join(closes)


def deep_grant(line):
    ev = json.loads(line)
    ev["verb"] = "patch"
    ev["requestURI"] = "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/attacker-admin"
    body = ev["requestObject"]
    body["metadata"]["junk"] = "@@DEEP@@"
    ev["requestObject"] = body
    out = json.dumps(ev, separators=(",", ":"))
    return out.replace('"@@DEEP@@"', deep_value(DEEP))


def v1beta1_event():
    return json.dumps({
        "kind": "Event", "apiVersion": "audit.k8s.io/v1beta1", "level": "Metadata",
        "timestamp": "2026-11-23T14:30:00Z", "auditID": "legacy-v1beta1-0001",
        "stage": "ResponseComplete", "requestURI": "/api/v1/namespaces/prod/secrets/db",
        "verb": "get", "user": {"username": "attacker-admin", "groups": ["system:authenticated"]},
        "sourceIPs": ["203.0.113.77"], "userAgent": "curl/8.5.0",
        "objectRef": {"resource": "secrets", "namespace": "prod", "name": "db",
                      "apiVersion": "v1"},
        "responseStatus": {"metadata": {}, "code": 200},
        "annotations": {"authorization.k8s.io/decision": "allow",
                        "authorization.k8s.io/reason": ""}}, separators=(",", ":"))


def write_big(f, mib, n):
    """One event of exactly mib MiB; returns its auditID and size."""
    audit_id = "big-%d-mib-%d" % (mib, n)
    head = json.dumps({
        "kind": "Event", "apiVersion": "audit.k8s.io/v1", "level": "RequestResponse",
        "auditID": audit_id, "stage": "ResponseComplete", "requestURI": "/api/v1/secrets",
        "verb": "list",
        "user": {"username": "system:serviceaccount:prod:loot", "uid": "uid-loot",
                 "groups": ["system:serviceaccounts", "system:authenticated"], "extra": EXTRA},
        "sourceIPs": ["203.0.113.77"], "userAgent": "curl/8.5.0",
        "objectRef": {"resource": "secrets", "apiVersion": "v1"},
        "responseStatus": {"metadata": {}, "code": 200}}, separators=(",", ":"))[:-1]
    head += ',"responseObject":{"kind":"SecretList","apiVersion":"v1","items":['
    tail = ('{"metadata":{"name":"last"},"data":{"k":"eA=="}}]},'
            '"requestReceivedTimestamp":"2026-11-23T14:31:%02d.000000Z",'
            '"stageTimestamp":"2026-11-23T14:31:%02d.900000Z",'
            '"annotations":{"authorization.k8s.io/decision":"allow",'
            '"authorization.k8s.io/reason":"RBAC: allowed by ClusterRoleBinding \\"loot\\""}}'
            % (n, n))
    item = '{"metadata":{"name":"s-%08d","namespace":"ns-%d"},"data":{"token":"%s"}},'
    size = mib << 20
    left = size - len(head) - len(tail)
    f.write(head)
    i = 0
    while left > 0:
        fill = min(4000, max(0, left - len(item % (i, i % 97, ""))))
        s = item % (i, i % 97, "Q" * fill)
        if len(s) > left:  # the last item: pad its value to land exactly on size
            s = item % (i, i % 97, "")
            s = s[:-len('"}},')] + "Q" * (left - len(s)) + '"}},'
            if len(s) != left:
                raise SystemExit("cannot pad to %d" % size)
        f.write(s)
        left -= len(s)
        i += 1
    f.write(tail + "\n")
    return audit_id, size


def main():
    seed, out = sys.argv[1], sys.argv[2]
    sizes = [int(s) for s in sys.argv[3:]] or [17, 100]
    with open(seed) as f:
        lines = f.read().splitlines()
    with open(out, "w") as f, open(out + ".manifest", "w") as m:
        for line in lines:
            if GRANT in line and '"stage":"ResponseComplete"' in line:
                line = deep_grant(line)
            f.write(line + "\n")
        f.write(v1beta1_event() + "\n")
        for n, mib in enumerate(sizes):
            off = f.tell()
            audit_id, size = write_big(f, mib, n)
            if f.tell() - off != size + 1:
                raise SystemExit("size is %d, not %d" % (f.tell() - off - 1, size))
            m.write("%s %d %d\n" % (audit_id, size, off))


main()
