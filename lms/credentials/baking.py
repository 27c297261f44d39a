"""Baked badges: the signed credential inside the badge PNG, as Open Badges 3.0 says.

The credential goes in an iTXt chunk with the keyword "openbadgecredential", uncompressed,
with no language tag; for a VC-JWT credential the text is the compact JWS. The chunk is inserted
before IEND without decoding the image, so the picture's bytes stay as they are.
"""
from __future__ import annotations

import struct
import zlib

SIGNATURE = b"\x89PNG\r\n\x1a\n"
KEYWORD = b"openbadgecredential"
MAX_CHUNKS = 10_000  # a PNG with more chunks than this is not a badge of ours


class NotABadge(ValueError):
    """The bytes are not a PNG, or hold no Open Badges 3.0 credential."""


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def bake(png: bytes, credential: str) -> bytes:
    """The PNG with the credential in an iTXt chunk (any earlier one is replaced)."""
    chunks = list(_chunks(png))
    data = KEYWORD + b"\x00" + b"\x00\x00" + b"\x00" + b"\x00" + credential.encode("utf-8")
    out = [SIGNATURE]
    for kind, body in chunks:
        if kind == b"iTXt" and body.startswith(KEYWORD + b"\x00"):
            continue
        if kind == b"IEND":
            out.append(_chunk(b"iTXt", data))
        out.append(_chunk(kind, body))
    return b"".join(out)


def extract(png: bytes) -> str:
    """The credential text baked into a PNG; NotABadge when there is none or the file is broken."""
    for kind, body in _chunks(png):
        if kind != b"iTXt" or not body.startswith(KEYWORD + b"\x00"):
            continue
        rest = body[len(KEYWORD) + 1:]
        if len(rest) < 2:
            raise NotABadge("The badge's credential chunk is cut short.")
        compressed, _method, rest = rest[0], rest[1], rest[2:]
        language, _, rest = rest.partition(b"\x00")
        _translated, _, text = rest.partition(b"\x00")
        if compressed:
            try:
                # Bounded: a JWS badge is a few kilobytes; refuse a chunk that inflates to more.
                text = zlib.decompressobj().decompress(text, 1 << 20)
            except zlib.error as exc:
                raise NotABadge("The badge's credential chunk is damaged.") from exc
        try:
            return text.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise NotABadge("The badge's credential is not text.") from exc
    raise NotABadge("This image holds no Open Badges credential.")


def _chunks(png: bytes):
    if not png.startswith(SIGNATURE):
        raise NotABadge("This file is not a PNG image.")
    offset, count = len(SIGNATURE), 0
    while offset + 8 <= len(png):
        count += 1
        if count > MAX_CHUNKS:
            raise NotABadge("This image has too many parts to be a badge.")
        length, kind = struct.unpack(">I4s", png[offset:offset + 8])
        body = png[offset + 8:offset + 8 + length]
        if len(body) != length or offset + 12 + length > len(png):
            raise NotABadge("This PNG image is cut short.")
        yield kind, body
        if kind == b"IEND":
            return
        offset += 12 + length
    raise NotABadge("This PNG image is cut short.")
