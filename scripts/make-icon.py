#!/usr/bin/env python3
"""Draws Fieldbook's source icon (a clipboard with a tick on a teal tile) as a 1024 px PNG
with only the standard library; `tauri icon` then makes every size from it."""
import struct, sys, zlib

N = 1024

def inside_round_rect(x, y, x0, y0, x1, y1, r):
    cx = min(max(x, x0 + r), x1 - r)
    cy = min(max(y, y0 + r), y1 - r)
    return (x - cx) ** 2 + (y - cy) ** 2 <= r * r and x0 <= x <= x1 and y0 <= y <= y1

def near_segment(x, y, ax, ay, bx, by, w):
    dx, dy = bx - ax, by - ay
    t = max(0.0, min(1.0, ((x - ax) * dx + (y - ay) * dy) / (dx * dx + dy * dy)))
    px, py = ax + t * dx, ay + t * dy
    return (x - px) ** 2 + (y - py) ** 2 <= w * w

def pixel(x, y):
    if not inside_round_rect(x, y, 40, 40, N - 40, N - 40, 200):
        return (0, 0, 0, 0)
    if inside_round_rect(x, y, 400, 170, 624, 290, 40):
        return (255, 196, 0, 255)  # the clip
    if inside_round_rect(x, y, 250, 220, 774, 880, 60):
        if near_segment(x, y, 360, 560, 480, 690, 42) or near_segment(x, y, 480, 690, 680, 420, 42):
            return (13, 110, 110, 255)  # the tick
        return (250, 250, 247, 255)  # the paper
    return (13, 110, 110, 255)  # the tile

rows = []
for y in range(N):
    row = bytearray([0])
    for x in range(N):
        row.extend(pixel(x, y))
    rows.append(bytes(row))

def chunk(kind, data):
    c = struct.pack(">I", len(data)) + kind + data
    return c + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", N, N, 8, 6, 0, 0, 0))
png += chunk(b"IDAT", zlib.compress(b"".join(rows), 9)) + chunk(b"IEND", b"")
open(sys.argv[1], "wb").write(png)
