#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Write-to-alert latency for bench/tap-bench.

Reads keyhole alerts (JSON lines) as they arrive and, for each alert whose audit ID carries the
stand-in's send stamp (gen-<n>-<19 digits of CLOCK_MONOTONIC ns taken just before write(2)),
records now - stamp on the same clock. At end of input prints: count p50_ms p99_ms max_ms.
"""
import re
import sys
import time

STAMP = re.compile(rb'"gen-\d{12}-(\d{19})"')


def main():
    lat = []
    src = open(sys.argv[1], 'rb', buffering=0) if len(sys.argv) > 1 else sys.stdin.buffer
    buf = b''
    while True:
        chunk = src.read(1 << 16)
        if not chunk:
            break
        now = time.monotonic_ns()
        buf += chunk
        *lines, buf = buf.split(b'\n')
        for line in lines:
            m = STAMP.search(line)
            if m:
                lat.append(now - int(m.group(1)))
    if not lat:
        print('0 nan nan nan')
        return
    lat.sort()
    pick = lambda q: lat[min(len(lat) - 1, int(q * len(lat)))] / 1e6
    print('%d %.3f %.3f %.3f' % (len(lat), pick(0.50), pick(0.99), lat[-1] / 1e6))


if __name__ == '__main__':
    main()
