"""The app icon, drawn here and encoded as PNG when first asked for (no image files in git).

One drawing at every size: a white QR-code-like mark on the app's green. The manifest's
`maskable` icon keeps the mark inside the central safe zone (the inner 80 %), because
Android crops maskable icons to a circle or a rounded square.
"""

from __future__ import annotations

import struct
import zlib
from functools import cache

GREEN = (0x1F, 0x6F, 0x5C)  # the theme colour of base.html
WHITE = (0xFF, 0xFF, 0xFF)

# 17 × 17 modules: three finder squares like a QR code's, and a few data modules
MARK = [
    "#######...#######",
    "#.....#.#.#.....#",
    "#.###.#...#.###.#",
    "#.###.#.#.#.###.#",
    "#.###.#...#.###.#",
    "#.....#.#.#.....#",
    "#######.#.#######",
    ".................",
    "#.#.#.#.##..#.#.#",
    "...#.....#.#..#..",
    "#######.#...##.##",
    "#.....#..#.#....#",
    "#.###.#.###..##..",
    "#.###.#..#.#...##",
    "#.###.#.#..###..#",
    "#.....#...#...#..",
    "#######.#.##.#.##",
]
ANY_MARK = 0.62  # share of the icon's width the mark takes
MASKABLE_MARK = 0.5  # stays inside the safe circle (diameter 80 %)


@cache
def png(size: int, *, maskable: bool = False) -> bytes:
    """The icon as a `size` × `size` RGB PNG."""
    modules = len(MARK)
    module_px = max(1, round(size * (MASKABLE_MARK if maskable else ANY_MARK) / modules))
    mark_px = module_px * modules
    offset = (size - mark_px) // 2
    background = bytes(GREEN) * size
    rows = []
    for y in range(size):
        my = (y - offset) // module_px
        if not 0 <= y - offset < mark_px:
            rows.append(background)
            continue
        row = bytearray(background)
        for mx, cell in enumerate(MARK[my]):
            if cell == "#":
                start = (offset + mx * module_px) * 3
                row[start : start + module_px * 3] = bytes(WHITE) * module_px
        rows.append(bytes(row))
    return _encode(size, size, rows)


def _encode(width: int, height: int, rows: list[bytes]) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB
    pixels = zlib.compress(b"".join(b"\x00" + row for row in rows), 9)  # filter 0 per row
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )
