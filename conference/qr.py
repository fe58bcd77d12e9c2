"""QR codes, fast: level M, one fixed mask, as PNG images for documents.

The ``qrcode`` package spends most of a code's time choosing among eight masks and in
bit-by-bit buffers and polynomial objects. Printing thousands of badges, each with its
own code, that matters; so the data codewords and their Reed-Solomon error correction
are computed here with plain integers, and the modules are placed through a layout
worked out once per version (``qrcode`` draws its function patterns). Any mask scans:
a fixed one only skips the search for the prettiest. tests/conference/test_documents.py
checks that every module agrees with ``qrcode``'s own output.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Callable
from functools import cache
from operator import itemgetter

import qrcode
import qrcode.base
import qrcode.constants
import qrcode.util

LEVEL = qrcode.constants.ERROR_CORRECT_M
MASK = 0
ALPHANUMERIC = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"
_ALPHA_VALUE = {ch: n for n, ch in enumerate(ALPHANUMERIC)}
_MODE_ALPHA, _MODE_BYTE = 0b0010, 0b0100
# Bits of the character count, for versions 1-9, 10-26 and 27-40.
_COUNT_BITS = {_MODE_ALPHA: (9, 11, 13), _MODE_BYTE: (8, 16, 16)}

# GF(256) with the QR polynomial x^8 + x^4 + x^3 + x^2 + 1.
_EXP = [0] * 512
_LOG = [0] * 256
_value = 1
for _power in range(255):
    _EXP[_power] = _value
    _LOG[_value] = _power
    _value <<= 1
    if _value & 0x100:
        _value ^= 0x11D
for _power in range(255, 512):
    _EXP[_power] = _EXP[_power - 255]


@cache
def _generator(degree: int) -> tuple[tuple[int, ...], ...]:
    """For each factor 0-255, what it adds to the remainder: factor * prod (x - a^i)."""
    poly = [1]
    for i in range(degree):
        nxt = [0] * (len(poly) + 1)
        for j, coef in enumerate(poly):
            nxt[j] ^= coef
            if coef:
                nxt[j + 1] ^= _EXP[_LOG[coef] + i]
        poly = nxt
    logs = [_LOG[c] for c in poly[1:]]
    rows = [(0,) * degree]
    rows += [tuple(_EXP[_LOG[factor] + g] for g in logs) for factor in range(1, 256)]
    return tuple(rows)


def _ecc(data: list[int], degree: int) -> list[int]:
    """The Reed-Solomon error correction codewords of one block."""
    table = _generator(degree)
    rem = [0] * degree
    for byte in data:
        row = table[byte ^ rem[0]]
        rem = [a ^ b for a, b in zip(rem[1:], row, strict=False)]
        rem.append(row[-1])
    return rem


def _segment(text: str) -> tuple[int, int, int, int]:
    """(mode, character count, data bits as an int, their number): alphanumeric if it can."""
    if all(ch in _ALPHA_VALUE for ch in text):
        value, count = 0, 0
        for i in range(0, len(text) - 1, 2):
            value = (value << 11) | (_ALPHA_VALUE[text[i]] * 45 + _ALPHA_VALUE[text[i + 1]])
            count += 11
        if len(text) % 2:
            value, count = (value << 6) | _ALPHA_VALUE[text[-1]], count + 6
        return _MODE_ALPHA, len(text), value, count
    raw = text.encode("utf-8")
    return _MODE_BYTE, len(raw), int.from_bytes(raw, "big"), 8 * len(raw)


def _codewords(text: str) -> tuple[int, list[int]]:
    """The smallest version that holds text at level M, and its interleaved codewords."""
    mode, length, data_bits, data_count = _segment(text)
    for version in range(1, 41):
        limit = qrcode.util.BIT_LIMIT_TABLE[LEVEL][version]
        size = _COUNT_BITS[mode][0 if version < 10 else 1 if version < 27 else 2]
        count = 4 + size + data_count
        if count <= limit:
            break
    else:
        raise ValueError("the text is too long for a QR code")
    value = (((mode << size) | length) << data_count) | data_bits
    # Terminator, byte boundary, then the alternating pad bytes.
    pad = min(4, limit - count)
    value, count = value << pad, count + pad
    value, count = value << (-count % 8), count + (-count % 8)
    data = list(value.to_bytes(count // 8, "big"))
    filler = (qrcode.util.PAD0, qrcode.util.PAD1)
    data += [filler[i % 2] for i in range(limit // 8 - len(data))]
    blocks, corrections, offset = [], [], 0
    for block in qrcode.base.rs_blocks(version, LEVEL):
        chunk = data[offset : offset + block.data_count]
        offset += block.data_count
        blocks.append(chunk)
        corrections.append(_ecc(chunk, block.total_count - block.data_count))
    out = [b[i] for i in range(max(map(len, blocks))) for b in blocks if i < len(b)]
    out += [c[i] for i in range(max(map(len, corrections))) for c in corrections if i < len(c)]
    return version, out


@cache
def _layout(version: int) -> tuple[int, bytes, Callable[[bytes], tuple[int, ...]], int, int]:
    """How a version's pixels (0 dark, 255 light) are made: its size, its function
    patterns, a gather that takes each pixel from them or from the data modules (in
    placing order, after the patterns), how many data modules, and their mask as bits."""
    code = qrcode.QRCode(version=version, error_correction=LEVEL, border=0)
    size = code.modules_count = version * 4 + 17
    code.modules = [[None] * size for _ in range(size)]
    code.setup_position_probe_pattern(0, 0)
    code.setup_position_probe_pattern(size - 7, 0)
    code.setup_position_probe_pattern(0, size - 7)
    code.setup_position_adjust_pattern()
    code.setup_timing_pattern()
    code.setup_type_info(False, MASK)
    if version >= 7:
        code.setup_type_number(False)
    modules = code.modules
    masked = qrcode.util.mask_func(MASK)
    gather = list(range(size * size))
    cells = 0
    mask = 0
    row, step = size - 1, -1
    for col in range(size - 1, 0, -2):
        if col <= 6:
            col -= 1  # the vertical timing pattern takes a whole column
        while 0 <= row < size:
            for c in (col, col - 1):
                if modules[row][c] is None:
                    gather[row * size + c] = size * size + cells
                    cells += 1
                    mask = (mask << 1) | bool(masked(row, c))
            row += step
        row -= step
        step = -step
    patterns = bytes(0 if m else 255 for line in modules for m in line)
    return size, patterns, itemgetter(*gather), cells, mask


_BIT_TO_PIXEL = bytes.maketrans(b"01", b"\xff\x00")


def _pixels(text: str) -> tuple[int, bytes]:
    """The size of text's code and its modules row by row (0 dark, 255 light)."""
    version, words = _codewords(text)
    size, patterns, gather, cells, mask = _layout(version)
    # The data bits, then 0s for the remainder, then the mask: one bit per data module.
    bits = (int.from_bytes(bytes(words), "big") << (cells - 8 * len(words))) ^ mask
    data = format(bits, f"0{cells}b").encode("ascii").translate(_BIT_TO_PIXEL)
    return size, bytes(gather(patterns + data))


def qr_matrix(text: str) -> list[list[bool]]:
    """The modules of text's QR code (True is dark), without the quiet zone."""
    size, pixels = _pixels(text)
    return [[p == 0 for p in pixels[r * size : (r + 1) * size]] for r in range(size)]


def qr_png(text: str, *, quiet: int = 4, scale: int = 1) -> bytes:
    """text's QR code as an 8-bit grey PNG of scale x scale pixels per module, with a
    quiet zone.

    Documents use scale 4 (conference.documents): a code of one pixel per module that a
    viewer scales up 2-3 times (a page rendered at 100 dpi) comes out too blurred for
    zbar; one it scales down reads at 100 and 150 dpi, and ``image-rendering: pixelated``
    keeps it sharp above.
    """
    size, pixels = _pixels(text)
    width = (size + 2 * quiet) * scale
    blank = b"\x00" + b"\xff" * width
    margin = b"\xff" * quiet * scale
    rows = [blank] * (quiet * scale)
    for r in range(size):
        line = pixels[r * size : (r + 1) * size]
        if scale > 1:  # each module a run of scale pixels: 0 and 255 only, so in three passes
            line = line.replace(b"\xff", b"\x01" * scale)
            line = line.replace(b"\x00", b"\x00" * scale).replace(b"\x01", b"\xff")
        rows += [b"\x00" + margin + line + margin] * scale
    rows += [blank] * (quiet * scale)

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, width, 8, 0, 0, 0, 0)  # 8-bit greyscale
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"".join(rows), 1))
        + chunk(b"IEND", b"")
    )
