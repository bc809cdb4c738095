"""The canonical comment record and the table of known export schemas that map onto it.

`pipeline.io` reads records; this module decides which known schema an export follows, which
input column feeds each canonical field, and turns a batch of raw records into a canonical
chunk. Column names match case-insensitively; nested JSON is flattened with dots first, so a
YouTube text is the column ``snippet.topLevelComment.snippet.textOriginal``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

CANONICAL = ("comment_id", "post_id", "post_owner", "author", "text", "created_at", "label")
EXTRA = ("source_file", "source_line", "created_at_raw")
RAW_MAX = 500


class InputError(Exception):
    """Input that cannot be used at all; the CLI prints str(e) and exits 2."""

    def __init__(
        self, file: str, message: str, line: int | None = None, field: str | None = None
    ) -> None:
        self.file, self.message, self.line, self.field = str(file), message, line, field
        where = [self.file] + ([f"line {line}"] if line is not None else [])
        where += [f"field '{field}'"] if field else []
        super().__init__(f"{': '.join(where)}: {message}")

    def __reduce__(self):  # picklable, so it survives worker processes
        return type(self), (self.file, self.message, self.line, self.field)


@dataclass(frozen=True)
class Reject:
    """One input record that did not become a row, with where it was and why."""

    file: str
    line: int | None
    field: str | None
    reason: str
    raw: str

    def __post_init__(self) -> None:
        # Rejects are kept for a human to look at, not to reconstruct a 10 MB record.
        object.__setattr__(self, "raw", self.raw[:RAW_MAX])


@dataclass(frozen=True)
class Record:
    line: int  # physical line where the record starts (CSV/JSONL) or record index (JSON/Parquet)
    values: dict[str, str | None]
    empty_json: frozenset[str] = frozenset()  # keys that held [] or {}


Item = Record | Reject


@dataclass(frozen=True)
class Shortcode:
    """Candidate: the Instagram shortcode in the URL in `column` (a type, not a "shortcode:"
    prefix, so that a real column name holding ":" is never mistaken for one)."""

    column: str


Candidate = str | Shortcode


@dataclass(frozen=True)
class Schema:
    name: str
    detect: tuple[tuple[str, ...], ...]  # every group must have at least one column present
    fields: Mapping[str, tuple[Candidate, ...]]  # canonical -> candidate columns, best first
    post_id_from_stem: bool = False  # one file per video, so the file name is the post


SCHEMAS: tuple[Schema, ...] = (
    Schema(
        "youtube_api",
        detect=(
            (
                "snippet.topLevelComment.snippet.textOriginal",
                "snippet.topLevelComment.snippet.textDisplay",
                "snippet.textOriginal",
                "snippet.textDisplay",
            ),
        ),
        fields={
            "comment_id": ("snippet.topLevelComment.id", "id"),
            "post_id": ("snippet.videoId", "snippet.topLevelComment.snippet.videoId"),
            "post_owner": ("snippet.channelId", "snippet.topLevelComment.snippet.channelId"),
            "author": (
                "snippet.topLevelComment.snippet.authorDisplayName",
                "snippet.authorDisplayName",
            ),
            # textDisplay is rendered HTML; textOriginal is what the commenter typed.
            "text": (
                "snippet.topLevelComment.snippet.textOriginal",
                "snippet.textOriginal",
                "snippet.topLevelComment.snippet.textDisplay",
                "snippet.textDisplay",
            ),
            "created_at": ("snippet.topLevelComment.snippet.publishedAt", "snippet.publishedAt"),
            "label": ("label",),
        },
    ),
    Schema(
        "youtube_uci",
        detect=(("COMMENT_ID",), ("CONTENT",), ("CLASS",)),
        fields={
            "comment_id": ("COMMENT_ID",),
            "author": ("AUTHOR",),
            # DATE leaks the label in Youtube04-Eminem; it is kept as data, never a feature.
            "created_at": ("DATE",),
            "text": ("CONTENT",),
            "label": ("CLASS",),
        },
        post_id_from_stem=True,
    ),
    # youtube-comment-downloader (pip), one file per video: {"cid", "text", "time": "2 days
    # ago", "author", "channel" (the commenter's), "votes", "reply", "time_parsed", ...}.
    # time_parsed is "2 days ago" turned into a time: every comment of that day would share
    # it and look like one burst, so created_at stays empty (time and time_parsed are kept).
    Schema(
        "youtube_comment_downloader",
        detect=(("cid",), ("text",), ("votes", "time_parsed", "heart")),
        fields={
            "comment_id": ("cid",),
            "author": ("author",),
            "text": ("text",),
            "label": ("label",),
        },  # fmt: skip
        post_id_from_stem=True,
    ),
    Schema(
        "scamspot",
        detect=(("comment_id",), ("post_shortcode",), ("text",)),
        fields={name: (name,) for name in CANONICAL},
    ),
    Schema(
        "instagram_scraper",
        detect=(
            ("postUrl", "post_url", "inputUrl", "ownerUsername", "owner_username"),
            ("text", "comment_text", "commentText", "comment"),
        ),
        fields={
            "comment_id": ("id", "comment_id", "commentId", "pk"),
            "post_id": (
                *(Shortcode(c) for c in ("postUrl", "post_url", "inputUrl")),
                *("shortCode", "shortcode", "post_shortcode", "postId", "post_id"),
            ),
            "post_owner": ("postOwner", "post_owner", "postOwnerUsername", "owner"),
            # In Apify's schema ownerUsername is the commenter, not the owner of the post.
            "author": ("ownerUsername", "owner_username", "owner.username", "username", "author"),
            "text": ("text", "comment_text", "commentText", "comment"),
            "created_at": ("timestamp", "created_at", "createdAt", "date"),
            "label": ("label",),
        },
    ),
    Schema(
        "instagram_graph",
        detect=(("id",), ("text",), ("username", "from.username", "from.id", "media.id")),
        fields={
            "comment_id": ("id",),
            "post_id": ("media.id",),
            "post_owner": ("media.owner.username", "media.username"),
            "author": ("username", "from.username"),
            "text": ("text",),
            "created_at": ("timestamp",),
            "label": ("label",),
        },
    ),
    Schema(
        "canonical",
        detect=(("text",),),
        fields={
            **{name: (name,) for name in CANONICAL},
            "comment_id": ("comment_id", "id"),
            "author": ("author", "username"),
            "created_at": ("created_at", "timestamp"),
        },
    ),
)
SCHEMA_NAMES, UNKNOWN = (*(s.name for s in SCHEMAS), "unknown"), Schema("unknown", (), {})
_SURROGATE = re.compile(r"[\ud800-\udfff]")
_SHORTCODE = re.compile(r"instagram\.com/(?:[^/?#]+/)?(?:p|reel|reels|tv)/([A-Za-z0-9_-]+)")


def flatten(record: Mapping, prefix: str = "", out: dict | None = None) -> dict[str, str | None]:
    """Nested objects become dotted keys; lists and scalars become strings (None stays None)."""
    out = {} if out is None else out
    for key, value in record.items():
        if isinstance(value, Mapping) and value:
            flatten(value, f"{prefix}{key}.", out)
        else:
            out[f"{prefix}{key}"] = to_str(value)
    return out


def to_str(value: object) -> str | None:
    if isinstance(value, str):
        # JSON escapes can hold half an emoji ("\\ud83d"), which no UTF-8 writer accepts.
        return value.encode("utf-8", "replace").decode() if _SURROGATE.search(value) else value
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, dict | list | tuple):
        return to_str(json.dumps(value, ensure_ascii=False, default=str))
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def detect_schema(columns: Iterable[str] | Mapping) -> str:
    """Name of the first known schema whose signature columns are all present, or 'unknown'."""
    if isinstance(columns, Mapping):
        columns = flatten(columns).keys()
    present = {c.lower() for c in columns}
    for schema in SCHEMAS:
        if all(any(c.lower() in present for c in group) for group in schema.detect):
            return schema.name
    return "unknown"


def get_schema(name: str, file: str) -> Schema:
    for schema in (*SCHEMAS, UNKNOWN):
        if schema.name == name:
            return schema
    raise InputError(file, f"unknown schema '{name}'; known: {', '.join(SCHEMA_NAMES)}")


def parse_mapping(spec: str | None) -> dict[str, str]:
    """``"text=CONTENT,post_id=videoId"`` -> ``{"text": "CONTENT", "post_id": "videoId"}``."""
    mapping: dict[str, str] = {}
    for item in filter(None, (part.strip() for part in (spec or "").split(","))):
        name, sep, column = (s.strip() for s in item.partition("="))
        if not sep or not column:
            raise InputError("--map", f"'{item}' is not FIELD=COLUMN (e.g. text=CONTENT)")
        if name not in CANONICAL:
            raise InputError("--map", f"unknown field '{name}'; fields: {', '.join(CANONICAL)}")
        if name in mapping:
            raise InputError("--map", f"field '{name}' is mapped twice")
        mapping[name] = column
    return mapping


def shortcode(url: str | None) -> str | None:
    match = _SHORTCODE.search(url or "")
    return match.group(1) if match else None


@dataclass(frozen=True)
class Plan:
    """Which actual input column feeds each canonical field, fixed once per file."""

    sources: dict[str, list[Candidate]]  # canonical -> actual columns, best first
    constants: dict[str, str] = field(default_factory=dict)
    consumed: frozenset[str] = frozenset()


def make_plan(
    schema: Schema, columns: Iterable[str], mapping: Mapping[str, str], file: str, stem: str | None
) -> Plan:
    """Resolve the schema's candidates (and --map overrides) against the columns present."""
    by_lower: dict[str, str] = {}
    for column in columns:
        by_lower.setdefault(column.lower(), column)
    sources = {f: _present(_candidates(schema, f), by_lower) for f in CANONICAL}
    for name, column in mapping.items():
        sources[name] = [_mapped(column, by_lower, file, name)]
    from_stem = schema.post_id_from_stem and stem and not sources["post_id"]
    constants = {"post_id": stem} if from_stem else {}
    if not sources["text"]:
        listed = ", ".join(by_lower.values()) or "(none)"
        raise InputError(
            file,
            f"no text column found (schema '{schema.name}'); columns are: {listed}. "
            "Name it with --map text=COLUMN",
            field="text",
        )
    # A URL that only yields a shortcode stays as a passthrough column: reports link to it.
    consumed = frozenset(c for cols in sources.values() for c in cols if isinstance(c, str))
    return Plan(sources, constants, consumed)


def _candidates(schema: Schema, name: str) -> tuple[Candidate, ...]:
    # A column named like the field is that field, in any schema: a generic export with
    # id/username/text looks like the Graph API, whose candidates lack post_id and created_at.
    return (name, *schema.fields.get(name, ()))


def _present(candidates: Iterable[Candidate], by_lower: Mapping[str, str]) -> list[Candidate]:
    found: list[Candidate] = []
    for cand in candidates:
        column = cand.column if isinstance(cand, Shortcode) else cand
        actual = by_lower.get(column.lower())
        if actual is not None:
            found.append(Shortcode(actual) if isinstance(cand, Shortcode) else actual)
    return list(dict.fromkeys(found))  # a column listed twice ("comment_id", COMMENT_ID) once


def _mapped(column: str, by_lower: Mapping[str, str], file: str, name: str) -> str:
    if column in by_lower.values():
        return column
    if column.lower() in by_lower:
        return by_lower[column.lower()]
    listed = ", ".join(by_lower.values())
    raise InputError(
        file, f"--map {name}={column}: no such column; columns are: {listed}", field=name
    )
