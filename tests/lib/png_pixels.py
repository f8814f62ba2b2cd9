#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
# Count the pixels of given colours in a PNG (8-bit RGB or RGBA, not interlaced; what Chromium's
# --screenshot writes), with each colour's bounding box, using zlib only (no PIL here).
#
# Usage: png_pixels.py FILE RRGGBB... -> one line per colour: RRGGBB COUNT X0 Y0 X1 Y1
import struct
import sys
import zlib


def decode(path):
    data = open(path, "rb").read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        sys.exit(f"{path}: not a PNG")
    pos, idat, ihdr = 8, b"", None
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            ihdr = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    w, h, depth, ctype, _, _, interlace = ihdr
    if depth != 8 or ctype not in (2, 6) or interlace:
        sys.exit(f"{path}: unsupported PNG (depth {depth}, colour type {ctype})")
    bpp = 3 if ctype == 2 else 4
    raw = zlib.decompress(idat)
    stride = w * bpp
    rows, prev = [], bytearray(stride)
    for y in range(h):
        f = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            if f == 1:
                line[i] = (line[i] + a) & 255
            elif f == 2:
                line[i] = (line[i] + b) & 255
            elif f == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pr = a if pa <= pb and pa <= pc else b if pb <= pc else c
                line[i] = (line[i] + pr) & 255
        rows.append(line)
        prev = line
    return w, h, bpp, rows


def main():
    w, h, bpp, rows = decode(sys.argv[1])
    want = {bytes.fromhex(c): c for c in sys.argv[2:]}
    stats = {c: [0, w, h, -1, -1] for c in want}
    for y, line in enumerate(rows):
        for x in range(w):
            px = bytes(line[x * bpp:x * bpp + 3])
            c = want.get(px)
            if c:
                s = stats[px]
                s[0] += 1
                s[1], s[2] = min(s[1], x), min(s[2], y)
                s[3], s[4] = max(s[3], x), max(s[4], y)
    for px, c in want.items():
        print(c, *stats[px])


main()
