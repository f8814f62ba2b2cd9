#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
# shift_log.py IN OUT HOURS SUFFIX [NEW_USER]: the same requests again, later: every timestamp
# moved by HOURS, every auditID given SUFFIX (new requests, so their alert lines differ from the
# first ones'). With NEW_USER, the first ResponseComplete event's user becomes NEW_USER (one new
# term). For tests/e2e/cluster_durable.sh's shared new-terms history.
import datetime
import json
import re
import sys


def shift(ts, hours):
    m = re.match(r"(.*T\d\d:\d\d:\d\d)(\.\d+)?Z$", ts)
    d = datetime.datetime.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S")
    d += datetime.timedelta(hours=hours)
    return d.strftime("%Y-%m-%dT%H:%M:%S") + (m.group(2) or "") + "Z"


def main():
    src, dst, hours, suffix = sys.argv[1], sys.argv[2], float(sys.argv[3]), sys.argv[4]
    new_user = sys.argv[5] if len(sys.argv) > 5 else None
    with open(src, encoding="utf-8") as f, open(dst, "w", encoding="utf-8") as out:
        for line in f:
            if not line.strip():
                continue
            ev = json.loads(line)
            for k in ("requestReceivedTimestamp", "stageTimestamp"):
                if k in ev:
                    ev[k] = shift(ev[k], hours)
            ev["auditID"] = ev.get("auditID", "") + suffix
            if new_user and ev.get("stage") == "ResponseComplete" and "userAgent" in ev:
                ev.setdefault("user", {})["username"] = new_user
                new_user = None
            out.write(json.dumps(ev, separators=(",", ":")) + "\n")


main()
