"""Opening a comment export: gzip, encoding and format sniffing, from a path or stdin.

A source is read once, front to back, so stdin and gzip work the same as files: the first
64 KiB are read for sniffing and replayed in front of the rest of the stream.
"""

from __future__ import annotations

import codecs
import gzip
import io
import json
import sys
import zlib
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from pipeline.schemas import InputError

HEAD_BYTES = 64 * 1024
# A longer line is not a comment but a damaged file or a decompression bomb (1 GB of zeros
# gzips to 1 MB); reading it whole would exhaust memory, so it stops the read instead.
MAX_LINE = 1 << 25
EXTENSIONS = {".csv": "csv", ".tsv": "tsv", ".txt": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl"}
# Legacy code pages worth considering when a file is not UTF-8; charset-normalizer's full list
# makes wild guesses (cp949 for Japanese, cp1257 for Latin-1) on short samples.
LEGACY = ["cp1252", "cp1250", "cp1251", "cp1253", "cp1254", "cp1255", "cp1256", "cp1257"]
LEGACY += ["koi8_r", "cp874", "shift_jis", "euc_jp", "gb18030", "big5"]
# What reading a damaged stream raises: gzip lets zlib.error (not an OSError) escape when
# the deflate data itself is corrupt, as well as BadGzipFile (OSError) and EOFError.
READ_ERRORS = (OSError, EOFError, zlib.error)


@dataclass
class Source:
    name: str
    stem: str | None
    format: str  # csv, tsv, jsonl, json or parquet
    stream: IO[bytes]
    encoding: str | None = None
    file: Path | None = None  # a plain file on disk, which Parquet can seek in


class _Replay(io.RawIOBase):
    """The bytes already read for sniffing, then the rest of the underlying stream."""

    def __init__(self, head: bytes, rest: IO[bytes]) -> None:
        self._head, self._rest = memoryview(head), rest

    def readable(self) -> bool:
        return True

    def readinto(self, buf) -> int:
        if self._head:
            n = min(len(buf), len(self._head))
            buf[:n], self._head = self._head[:n], self._head[n:]
            return n
        data = self._rest.read(len(buf))
        buf[: len(data)] = data
        return len(data)


def _peek(stream: IO[bytes]) -> tuple[bytes, IO[bytes]]:
    head = stream.read(HEAD_BYTES) or b""
    return head, io.BufferedReader(_Replay(head, stream), 1 << 16)


def _suffix(name: str) -> str:
    suffixes = [s.lower() for s in Path(name).suffixes]
    suffixes = suffixes[:-1] if suffixes[-1:] == [".gz"] else suffixes
    return suffixes[-1] if suffixes else ""


def _stem(name: str) -> str:
    stem = Path(name).name
    for ext in (".gz", ".csv", ".tsv", ".txt", ".jsonl", ".ndjson", ".json", ".parquet"):
        stem = stem[: -len(ext)] if stem.lower().endswith(ext) else stem
    return stem


def open_source(path: str | Path, stack: ExitStack) -> Source:
    """Open `path` ("-" for stdin), undo gzip, and sniff encoding and format."""
    name = "<stdin>" if str(path) == "-" else str(path)
    raw = _open_raw(path, name, stack)
    try:
        head, stream = _peek(raw)
        packed = head[:2] == b"\x1f\x8b"
        if packed:
            head, stream = _peek(stack.enter_context(gzip.GzipFile(fileobj=stream)))
    except READ_ERRORS as e:
        raise InputError(name, f"cannot read: {e}") from e
    stem = None if name == "<stdin>" else _stem(name)
    if head[:4] == b"PAR1":
        plain = None if packed or name == "<stdin>" else Path(path)
        return Source(name, stem, "parquet", stream, file=plain)
    encoding = detect_encoding(head)
    text = head.decode(encoding, "replace").lstrip("\ufeff")
    if not text.strip(" \t\r\n\0\ufeff") and len(head) < HEAD_BYTES:
        raise InputError(name, "empty file")
    fmt = EXTENSIONS.get(_suffix(name)) or sniff_format(text)
    return Source(name, stem, fmt, stream, encoding)


def _open_raw(path: str | Path, name: str, stack: ExitStack) -> IO[bytes]:
    if name == "<stdin>":
        return getattr(sys.stdin, "buffer", sys.stdin)
    try:
        return stack.enter_context(open(path, "rb"))
    except OSError as e:
        raise InputError(name, f"cannot open: {e.strerror or e}") from e


def detect_encoding(head: bytes) -> str:
    """BOM first, then UTF-16 without BOM, UTF-8, and charset-normalizer for the rest."""
    for bom, encoding in (
        (b"\xff\xfe\x00\x00", "utf-32"),
        (b"\x00\x00\xfe\xff", "utf-32"),
        (b"\xef\xbb\xbf", "utf-8-sig"),
        (b"\xff\xfe", "utf-16"),
        (b"\xfe\xff", "utf-16"),
    ):
        if head.startswith(bom):
            return encoding
    even, odd = head[0::2].count(0), head[1::2].count(0)
    nuls = max(even, odd) > len(head) / 4 and min(even, odd) < len(head) / 40
    if len(head) >= 4 and nuls and _utf16_shaped(head, even, odd):
        return "utf-16-be" if even > odd else "utf-16-le"
    if _is_utf8(head) or _mixed(head.decode("utf-8", "replace")):
        return "utf-8"
    return _guess_legacy(head)


def _utf16_shaped(head: bytes, even: int, odd: int) -> bool:
    """NULs in one byte of each pair: UTF-16, unless the head is mostly other bytes and has
    line ends of which none is a UTF-16 one (00 0A big-endian, 0A 00 little-endian at a
    character boundary): stray NULs in a short UTF-8 file. A 0A byte inside a character
    (the emoji U+1F60A) with no line end in the head is still UTF-16 when the text is
    mostly ASCII-range characters, whose other byte is NUL."""
    big = even > odd
    if max(even, odd) >= 0.8 * ((len(head) + 1) // 2):
        return True
    ends = [i for i, byte in enumerate(head) if byte == 0x0A]
    if big:
        return not ends or any(i % 2 == 1 and head[i - 1] == 0 for i in ends)
    return not ends or any(i % 2 == 0 and head[i + 1 : i + 2] == b"\x00" for i in ends)


def _is_utf8(head: bytes) -> bool:
    # Incremental, so a character cut in two at the end of the head is not an error.
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
    except UnicodeDecodeError:
        return False
    return True


def _mixed(text: str) -> bool:
    # Real UTF-8 multibyte characters next to bad bytes: a UTF-8 file with a few stray
    # legacy bytes, where decoding it all as cp1252 would garble every other line.
    return any(ord(ch) > 0x7F and ch != "\ufffd" for ch in text)


def _guess_legacy(head: bytes) -> str:
    from charset_normalizer import from_bytes  # slow import, needed only for legacy files

    matches = from_bytes(head, cp_isolation=LEGACY)
    best = matches.best()
    if best is None:
        return "utf-8"
    latin = {"Basic Latin", "Latin-1 Supplement", "Latin Extended-A", "Control character"}
    cp1252_fits = any(m.encoding == "cp1252" for m in matches)
    # Short Western samples are often scored as cp1257/cp1250; cp1252 is the likelier truth.
    return "cp1252" if cp1252_fits and set(best.alphabets) <= latin else best.encoding


def sniff_format(text: str) -> str:
    """json, jsonl or csv from the first decoded characters."""
    body = text.lstrip(" \t\r\n\0\ufeff")
    if body.startswith("["):
        return "json"
    if not body.startswith("{"):
        return "csv"
    lines = [line for line in body.splitlines() if line.strip()]
    try:
        first = json.loads(lines[0])
    except (ValueError, RecursionError):
        # A pretty-printed document (or a record cut at 64 KiB: same answer); a first line
        # nested too deep for json's recursive parser goes to ijson, which does not recurse.
        return "json"
    if any(isinstance(first.get(key), list) for key in ("items", "data")):
        return "json"  # API response pages, one per line or just one: {"items": [...]}
    return "jsonl"


def text_lines(source: Source) -> Iterator[str]:
    text = io.TextIOWrapper(source.stream, source.encoding, errors="replace", newline="")
    number = 0
    while line := text.readline(MAX_LINE + 1):
        number += 1
        if len(line) > MAX_LINE:
            message = f"line longer than {MAX_LINE:,} characters: a damaged file, not an export?"
            raise InputError(source.name, message, line=number)
        # NUL bytes make the csv module fail and are never meaningful in a comment.
        yield line.replace("\0", "")
