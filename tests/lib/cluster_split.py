#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
# cluster_split.py OUT_DIR N LOG...: the cluster tests' input. Reads the audit logs, gives each
# request (auditID) to one of N apiservers round-robin in order of first appearance, as a load
# balancer would, and writes OUT_DIR/api<i>.log (each apiserver's share, in its own order) and
# OUT_DIR/merged.log: every line in event-time order, ties broken by auditID then stage, the
# order the cluster correlator puts facts in. Replaying merged.log is what the cluster must equal.
import datetime
import json
import re
import sys

STAGES = {"RequestReceived": 0, "ResponseStarted": 1, "ResponseComplete": 2, "Panic": 3}


def ns(ts):
    m = re.match(r"(.*T\d\d:\d\d:\d\d)(?:\.(\d+))?Z$", ts)
    d = datetime.datetime.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S")
    d = d.replace(tzinfo=datetime.timezone.utc)
    return int(d.timestamp()) * 10**9 + int((m.group(2) or "0").ljust(9, "0")[:9])


def main():
    out, n, logs = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
    owner, shares, rows = {}, [[] for _ in range(n)], []
    for path in logs:
        for line in open(path, encoding="utf-8"):
            line = line.rstrip("\n")
            if not line.strip():
                continue
            e = json.loads(line)
            aid = e.get("auditID", "")
            owner.setdefault(aid, len(owner) % n)
            shares[owner[aid]].append(line)
            t = e.get("stageTimestamp") or e.get("requestReceivedTimestamp") or e["timestamp"]
            rows.append((ns(t), aid.encode(), STAGES.get(e.get("stage"), 4), len(rows), line))
    for i, share in enumerate(shares):
        with open(f"{out}/api{i}.log", "w", encoding="utf-8") as f:
            f.write("".join(s + "\n" for s in share))
    with open(f"{out}/merged.log", "w", encoding="utf-8") as f:
        f.write("".join(r[4] + "\n" for r in sorted(rows)))


main()
