"""Helpers the tests share: independent checksum and ETag computations (so that a value the
server returns is compared with one computed here, never with itself), error unpacking."""
from __future__ import annotations

import base64
import hashlib
import os
import re
import struct
import subprocess
import threading
import zlib
from pathlib import Path

from botocore.exceptions import ClientError


def _table(poly: int, bits: int) -> list[int]:
    t = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ poly if c & 1 else c >> 1
        t.append(c & ((1 << bits) - 1))
    return t


_CRC32C = _table(0x82F63B78, 32)
_CRC64NVME = _table(0x9A6C9329AC4BC9B5, 64)


def crc32c(data: bytes) -> int:
    c = 0xFFFFFFFF
    for b in data:
        c = _CRC32C[(c ^ b) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFF


def crc64nvme(data: bytes) -> int:
    m = 0xFFFFFFFFFFFFFFFF
    c = m
    for b in data:
        c = _CRC64NVME[(c ^ b) & 0xFF] ^ (c >> 8)
    return c ^ m


assert crc32c(b"123456789") == 0xE3069283
assert crc64nvme(b"123456789") == 0xAE8B14860A799888


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def raw_checksum(algorithm: str, data: bytes) -> bytes:
    a = algorithm.upper()
    if a == "CRC32":
        return struct.pack(">I", zlib.crc32(data) & 0xFFFFFFFF)
    if a == "CRC32C":
        return struct.pack(">I", crc32c(data))
    if a == "CRC64NVME":
        return struct.pack(">Q", crc64nvme(data))
    if a == "SHA1":
        return hashlib.sha1(data).digest()
    if a == "SHA256":
        return hashlib.sha256(data).digest()
    raise ValueError(a)


def checksum(algorithm: str, data: bytes) -> str:
    """The base64 value S3 carries in x-amz-checksum-<algorithm> for these bytes."""
    return b64(raw_checksum(algorithm, data))


def composite_checksum(algorithm: str, parts: list[bytes]) -> str:
    """S3's COMPOSITE multipart checksum: checksum of the concatenated raw part checksums, '-N'."""
    joined = b"".join(raw_checksum(algorithm, p) for p in parts)
    return f"{checksum(algorithm, joined)}-{len(parts)}"


def multipart_etag(parts: list[bytes]) -> str:
    """S3's multipart ETag (quoted): md5 of the concatenated binary part md5s, '-N'."""
    digest = hashlib.md5(b"".join(hashlib.md5(p).digest() for p in parts)).hexdigest()
    return f'"{digest}-{len(parts)}"'


def md5_etag(data: bytes) -> str:
    return f'"{hashlib.md5(data).hexdigest()}"'


def split(data: bytes, size: int) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)] or [b""]


def err(e: ClientError) -> tuple[str, int]:
    """(error code, HTTP status) of a botocore ClientError."""
    return e.response["Error"]["Code"], e.response["ResponseMetadata"]["HTTPStatusCode"]


def random_file(path: Path, size: int, chunk: int = 4 * 1024 * 1024) -> str:
    """Writes `size` random bytes to path; returns their sha256 hex."""
    h = hashlib.sha256()
    with open(path, "wb") as f:
        left = size
        while left:
            n = min(chunk, left)
            b = os.urandom(n)
            h.update(b)
            f.write(b)
            left -= n
    return h.hexdigest()


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(4 * 1024 * 1024), b""):
            h.update(block)
    return h.hexdigest()


def tree(root: Path) -> dict[str, bytes]:
    """relative path -> content, for every file under root."""
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def server_url(proc: subprocess.Popen, timeout: float) -> str | None:
    """The URL an xregion server prints in its banner ("listening on ..."), or None if none comes
    within `timeout` s. Keeps draining the server's stdout for its whole life, so that it can
    never block on a full pipe."""
    found: dict[str, str] = {}
    ready = threading.Event()

    def drain() -> None:
        for raw in iter(proc.stdout.readline, b""):
            m = re.search(r"listening on (https?://\S+)", raw.decode(errors="replace"))
            if m and not ready.is_set():
                found["url"] = m.group(1)
                ready.set()
        ready.set()

    threading.Thread(target=drain, daemon=True).start()
    ready.wait(timeout)
    return found.get("url")
