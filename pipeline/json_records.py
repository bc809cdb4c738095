"""JSONL and JSON records: a line or an array item per record, streamed with ijson.

Hostile JSON is a reject or an InputError naming the file, never a crash: values nested
deeper than MAX_DEPTH are read to their end but never built, and integers longer than int()
accepts are caught before ijson's C backend sees them.
"""

from __future__ import annotations

import io
import json
import sys
from collections.abc import Iterator
from itertools import chain
from typing import IO

import ijson

from pipeline import replies
from pipeline.schemas import InputError, Item, Record, Reject
from pipeline.sources import HEAD_BYTES, Source, text_lines

# Real exports nest 5 levels or so; a record nested deeper is hostile (json.dumps and
# flatten recurse, so 100k nested arrays would blow the stack) and becomes a reject.
MAX_DEPTH = 64
_JSON_TYPES = {"list": "array", "str": "string", "bool": "boolean", "NoneType": "null"}


class DigitRunError(Exception):
    """A run of digits longer than int() accepts (sys.get_int_max_str_digits(), 4300)."""


class _Utf8(io.RawIOBase):
    """Decoded, NUL-free text re-encoded as UTF-8, so ijson never sees a BOM or a bad byte,
    nor an integer too long for int(): ijson's C backend crashes the process on one (a
    segfault, or a SystemError, depending on where the read buffer splits the number)."""

    def __init__(self, text: IO[str]) -> None:
        self._text, self._buf, self._tail = text, b"", b""
        self._limit = sys.get_int_max_str_digits()  # 0: no limit

    def readable(self) -> bool:
        return True

    def readinto(self, buf) -> int:
        while not self._buf:
            chunk = self._text.read(HEAD_BYTES)
            if not chunk:
                return 0
            self._buf = chunk.replace("\0", "").encode("utf-8", "replace")
            self._check_digits(self._buf)
        n = min(len(buf), len(self._buf))
        buf[:n], self._buf = self._buf[:n], self._buf[n:]
        return n

    def _check_digits(self, chunk: bytes) -> None:
        # Any run counts, inside a string too: telling needs a JSON lexer, and thousands of
        # digits in a row are no comment. Digits become "0" and all else ".", so that a fast
        # bytes.find does the search (a regex costs half the parse); the tail carries a run
        # across chunks.
        if not self._limit:
            return
        probe = self._tail + chunk.translate(_DIGIT_SHAPE)
        if probe.find(b"0" * (self._limit + 1)) >= 0:
            message = f"a number of more than {self._limit} digits, longer than int() takes"
            raise DigitRunError(message)
        self._tail = probe[len(probe.rstrip(b"0")) :]


_DIGIT_SHAPE = bytes(ord("0") if chr(b) in "0123456789" else ord(".") for b in range(256))


def jsonl_records(source: Source) -> Iterator[Item]:
    for number, line in enumerate(text_lines(source), 1):
        if not line.strip():
            continue
        try:
            value = json.loads(line, parse_constant=_null)
        except RecursionError:
            value = TOO_DEEP
        except ValueError as e:
            yield Reject(source.name, number, None, _json_reason(e), line.rstrip("\r\n"))
            continue
        for item in page_items(value):
            yield from as_records(source.name, number, item)


def _null(constant: str) -> None:
    """NaN and +-Infinity, which Python's json.dumps writes for pandas' missing values: null,
    not the text "nan" (a comment, an author or a post id everything missing would share)."""
    return None


def page_items(value: object) -> list:
    """The records of an API response page saved as one JSONL line ({"items": [...]}, as
    JSON documents are read: see json_values), or of an array of objects on one line (a
    JSON export saved compactly), else just `value`. Only "items" and "data" lists of
    objects count, in an object with no "text" of its own: a record that carries a list of
    replies is a record, not a page."""
    if isinstance(value, list) and value and all(isinstance(i, dict) for i in value):
        return [record for item in value for record in page_items(item)]  # pages, too
    if isinstance(value, dict) and "text" not in value:
        for key in ("items", "data"):
            items = value.get(key)
            if isinstance(items, list) and all(isinstance(i, dict) for i in items):
                return items
    return [value]


def _json_reason(error: ValueError) -> str:
    if "integer string conversion" in str(error):  # valid JSON, but too long for int()
        return f"unreadable JSON: {str(error).split(';')[0]}"  # no advice to set a limit
    return f"invalid JSON: {getattr(error, 'msg', error)} (column {getattr(error, 'colno', '?')})"


class _TooDeep:
    """Stands in for a value nested deeper than MAX_DEPTH, which is never built."""


TOO_DEEP = _TooDeep()


def depth(value: object) -> int:
    """Nesting depth of lists and dicts, iteratively (a recursive walk is what overflows)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, level)
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, level + 1) for child in children if isinstance(child, dict | list))
    return deepest


def as_records(name: str, number: int, value: object) -> Iterator[Item]:
    """The record `value`, then its nested replies (pipeline.replies), all at `number`; or
    a reject for a value that is no record."""
    if value is TOO_DEEP or depth(value) > MAX_DEPTH:
        yield Reject(name, number, None, f"record nested more than {MAX_DEPTH} levels deep", "")
    elif isinstance(value, dict):
        for values, raw in replies.flat_records(value):
            yield Record(number, values, frozenset(empty_json_keys(raw)))
    else:
        kind = _JSON_TYPES.get(type(value).__name__, "number")
        raw = json.dumps(value, ensure_ascii=False, default=str)
        article = "an" if kind == "array" else "a"
        yield Reject(name, number, None, f"record is not a JSON object but {article} {kind}", raw)


def empty_json_keys(record: dict, prefix: str = "") -> Iterator[str]:
    """The flattened keys (as `flatten` names them) whose value is [] or {}, so that such a
    text is told from a comment that reads "[]"."""
    for key, value in record.items():
        if isinstance(value, dict) and value:
            yield from empty_json_keys(value, f"{prefix}{key}.")
        elif isinstance(value, dict | list) and not value:
            yield f"{prefix}{key}"


def json_records(source: Source) -> Iterator[Item]:
    text = io.TextIOWrapper(source.stream, source.encoding, errors="replace", newline="")
    number = 0
    try:
        for number, value in enumerate(json_values(io.BufferedReader(_Utf8(text))), 1):
            yield from as_records(source.name, number, value)
    except ijson.JSONError as e:
        raise InputError(source.name, f"invalid JSON after record {number}: {e}") from e
    except DigitRunError as e:
        raise InputError(source.name, f"unreadable JSON after record {number}: {e}") from e


def json_values(stream: IO[bytes]) -> Iterator[object]:
    """Records of each top-level JSON value: the items of an array, the items of the first
    array of objects inside an object ({"items": [...]}, {"data": [...]}), else the object."""
    # basic_parse, not parse: parse builds a prefix string per nesting level, so 100k nested
    # arrays cost gigabytes; nothing here needs the prefixes.
    events = ijson.basic_parse(stream, multiple_values=True)
    for event, value in events:
        if event == "start_array":  # an item may be a page itself (pages saved as an array)
            yield from (record for item in _items(events) for record in _pages(item))
        elif event == "start_map":
            yield from _object(events)
        else:
            yield value


def _pages(item: object) -> list:
    return page_items(item) if isinstance(item, dict) else [item]


def _items(events: Iterator) -> Iterator[object]:
    for event, value in events:
        if event == "end_array":
            return
        yield _build(events, (event, value))


def _object(events: Iterator) -> Iterator[object]:
    meta: dict[str, object] = {}
    found = False
    for _map_key, key in events:
        if _map_key == "end_map":
            break
        event, value = next(events)
        # An object with a text of its own is a record that carries a list (its replies).
        if event != "start_array" or found or "text" in meta or key == replies.KEY:
            meta[key] = _build(events, (event, value))
            continue
        first, first_value = next(events)
        # An array of objects holds the records; {"items": []} is an empty page of them.
        if first == "start_map" or (first == "end_array" and key in ("items", "data")):
            found = True
            if first == "start_map":
                yield _build(events, (first, first_value))
                yield from _items(events)
        else:
            meta[key] = _build(events, ("start_array", None), (first, first_value))
    if not found or "text" in meta:  # its text came after the list: the list was its replies
        yield TOO_DEEP if any(v is TOO_DEEP for v in meta.values()) else meta


def _build(events: Iterator, *first: tuple[str, object]) -> object:
    """One complete JSON value from the event stream, starting with the events in `first`;
    TOO_DEEP (read to its end, never built) when nested deeper than MAX_DEPTH."""
    builder, level, deepest = ijson.ObjectBuilder(), 0, 0
    for event, value in chain(first, events):
        level += event in ("start_map", "start_array")
        level -= event in ("end_map", "end_array")
        deepest = max(deepest, level)
        if deepest <= MAX_DEPTH:
            builder.event(event, value)
        if level == 0:
            return builder.value if deepest <= MAX_DEPTH else TOO_DEEP
    raise ijson.IncompleteJSONError("unexpected end of input")
