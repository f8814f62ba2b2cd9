#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Write the bundled audit logs of the stateful rules (seeds 001 and 002) and their expected alerts.

    python3 tests/data/gen/gen_stateful.py [OUTDIR]     (default: tests/data)

Deterministic, like gen_samples.py (whose line writer it uses): re-running rewrites the same
bytes. The labels are written here by hand from the seeds, not produced by keyhole.

rapid-get.log (+ .expected.jsonl): k8s-secret-rapid-get's edges, one client fingerprint each:
three distinct names 5m59s apart (alerts) and 6m01s apart (does not), one name read five
times, a forbidden spray, a long burst that alerts once and again after a quiet gap, every
exclusion of the ES|QL query, and one user spread over three source IPs.

history-day1.log, history-day2.log, history-day15.log: k8s-unusual-decision-ua's ten-day
memory across restarts (tests/e2e/state_restart.sh): day 2 repeats day 1's combinations and adds
one new one; day 15 repeats day 1's, last seen 13 days earlier, so new again.
"""
import json
import os
import sys
from datetime import datetime, timedelta, timezone

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gen_samples import KCM_UA, KUBECTL_UA, KUBELET_UA, SCHED_UA, Gen, core  # noqa: E402

RAPID = "k8s-secret-rapid-get"
UNUSUAL = "k8s-unusual-decision-ua"


def write(g, outdir, name, covers, title):
    g.events.sort()
    with open(os.path.join(outdir, name + ".log"), "w") as f:
        for _, _, line in g.events:
            f.write(line + "\n")
    if covers is None:
        print(f"{name}.log: {len(g.events)} events")
        return
    with open(os.path.join(outdir, name + ".expected.jsonl"), "w") as f:
        f.write(json.dumps({"covers": covers, "file": name + ".log", "title": title}) + "\n")
        for e in g.expected:
            f.write(json.dumps(e) + "\n")
    print(f"{name}.log: {len(g.events)} events, {len(g.expected)} expected alerts")


def rapid_get(outdir):
    start = datetime(2026, 11, 23, 9, 0, 0, tzinfo=timezone.utc)
    g = Gen(1, start)
    ip_ext = ["203.0.113.5"]

    def reads(user, ip, ua, names, offsets_s, base_min, ns="prod", decision="allow",
              expect_at=None, why=""):
        """get each name at base_min minutes + its offset; label the request at index
        expect_at (the one that makes the third distinct name) as the alert"""
        for i, (name, off) in enumerate(zip(names, offsets_s)):
            at = start + timedelta(minutes=base_min, seconds=off)
            hit = expect_at is not None and i in (expect_at if isinstance(expect_at, tuple)
                                                  else (expect_at,))
            g.request("get", f"/api/v1/namespaces/{ns}/secrets/{name}", user, ip, ua,
                      core("secrets", ns, name), decision=decision, at=at,
                      expect=(RAPID,) if hit else (), why=why)

    alice = g.user("alice@example.com", ["devs"])
    reads(alice, ip_ext, KUBECTL_UA, ["db", "api-key", "tls"], [0, 180, 359], 0, expect_at=2,
          why="3 distinct secrets, first and last 5m59s apart")
    bob = g.user("bob@example.com", ["devs"])
    reads(bob, ["203.0.113.6"], KUBECTL_UA, ["db", "api-key", "tls"], [0, 180, 361], 0,
          why="")  # 6m01s apart: no alert
    carol = g.user("carol@example.com", ["devs"])
    reads(carol, ["203.0.113.7"], KUBECTL_UA, ["db"] * 5, [0, 30, 60, 90, 120], 0)
    web = g.sa("prod", "web", pod="web-7d9f8b6c5d-x2x4k", node="worker-1")
    reads(web, ["10.244.1.17"], "python-requests/2.31.0", ["db", "stripe-key", "tls", "jwt",
                                                           "aws"], [0, 2, 4, 6, 8], 20,
          decision="forbid", expect_at=2, why="forbidden spray from a pod token")
    eve = g.user("eve", ["system:authenticated"])
    names = [f"s{i:02d}" for i in range(10)]
    reads(eve, ["198.51.100.23"], "curl/8.5.0", names, [i * 12 for i in range(10)], 30,
          expect_at=2, why="a burst of 10 names: one alert")
    reads(eve, ["198.51.100.23"], "curl/8.5.0", ["x", "y", "z"], [0, 10, 20], 45, expect_at=2,
          why="the same client 13 minutes after its burst ended: a new burst")
    # the query's exclusions: each would alert without its exclusion
    kcm = {"username": "system:kube-controller-manager", "groups": ["system:authenticated"]}
    sched = {"username": "system:kube-scheduler", "groups": ["system:authenticated"]}
    reads(kcm, ["10.0.0.10"], KCM_UA, ["a", "b", "c", "d"], [0, 1, 2, 3], 60)
    reads(sched, ["10.0.0.10"], SCHED_UA, ["a", "b", "c", "d"], [0, 1, 2, 3], 60)
    for ns, name in (("flux-system", "kustomize-controller"), ("flux-system", "helm-controller"),
                     ("flux-system", "source-controller"), ("security", "trivy-operator")):
        reads(g.sa(ns, name), ["10.244.2.9"], "flux/v2", ["a", "b", "c", "d"], [0, 1, 2, 3], 62)
    helm = g.sa("ci", "deployer")
    reads(helm, ["10.244.3.3"], "Helm/3.14.0", ["sh.helm.release.v1.web.v1",
                                                "sh.helm.release.v1.web.v2",
                                                "sh.helm.release.v1.api.v7", "web-config"],
          [0, 1, 2, 3], 64)
    root = g.user("kubernetes-admin", ["system:masters"])
    reads(root, ["127.0.0.1"], KUBECTL_UA, ["a", "b", "c"], [0, 1, 2], 66)
    reads(root, ["::1"], KUBECTL_UA, ["a", "b", "c"], [0, 1, 2], 67)
    # one user from three source IPs: three fingerprints with one name each
    dave = g.user("dave@example.com", ["devs"])
    for i, ip in enumerate(["198.51.100.30", "198.51.100.31", "198.51.100.32"]):
        reads(dave, [ip], KUBECTL_UA, [f"n{i}"], [i], 70)
    write(g, outdir, "rapid-get", [RAPID], "k8s-secret-rapid-get edges")


def history(outdir):
    combos = [
        # (user builder, source ip, user agent, decision, verb, resource)
        (lambda g: g.node("worker-1"), "10.0.0.21", KUBELET_UA, "allow", "get", "pods"),
        (lambda g: {"username": "system:kube-controller-manager",
                    "groups": ["system:authenticated"]}, "10.0.0.10", KCM_UA, "allow",
         "list", "secrets"),
        (lambda g: g.user("alice@example.com", ["devs"]), "203.0.113.5", KUBECTL_UA, "allow",
         "get", "configmaps"),
        (lambda g: g.user("alice@example.com", ["devs"]), "203.0.113.5", KUBECTL_UA, "forbid",
         "get", "secrets"),
        (lambda g: g.sa("monitoring", "prometheus"), "10.244.4.4",
         "Prometheus/2.53.0", "allow", "list", "endpoints"),
    ]
    new_combo = (lambda g: g.sa("prod", "web"), "10.244.1.17", "curl/8.5.0", "forbid", "get",
                 "secrets")

    def day(name, date, seed, items, reps):
        g = Gen(seed, date)
        for r in range(reps):
            for i, (mk, ip, ua, dec, verb, res) in enumerate(items):
                g.request(verb, f"/api/v1/namespaces/prod/{res}", mk(g), [ip], ua,
                          core(res, "prod"), decision=dec,
                          at=date + timedelta(minutes=10 * r, seconds=i))
        write(g, outdir, name, None, None)

    day("history-day1", datetime(2026, 11, 1, 8, 0, tzinfo=timezone.utc), 11, combos, 3)
    day("history-day2", datetime(2026, 11, 2, 8, 0, tzinfo=timezone.utc), 12,
        combos + [new_combo], 2)
    day("history-day15", datetime(2026, 11, 15, 8, 0, tzinfo=timezone.utc), 15, combos, 2)


def main():
    outdir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..")
    rapid_get(outdir)
    history(outdir)


if __name__ == "__main__":
    main()
