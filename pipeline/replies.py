"""Replies nested in a comment record become records of their own.

Bots answer comments as much as they comment: "DM me to earn $5k" under a fan's question. The
YouTube Data API nests up to five replies per thread (`replies.comments`), the Instagram Graph
API nests them under `replies.data` when asked, and scrapers such as Apify's under `replies`.
Left inside their parent they were one JSON string in a passthrough column, never scored and
never counted. Each reply is a record on its parent's post: where it lacks them, it takes the
parent's post id and post owner fields (the columns any known schema reads them from, so never
an author, a text or a time) and gets `reply_to`, the parent's id.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from functools import cache

from pipeline.schemas import SCHEMAS, Shortcode, flatten

KEY, REPLY_TO = "replies", "reply_to"
_CONTAINERS = ("comments", "data")  # {"replies": {"comments": [...]}} (YouTube), Graph's data


def split(record: Mapping) -> tuple[Mapping, list[Mapping]]:
    """(the record without its nested replies, the replies); (the record, []) without any.
    Items of the list that are no objects (a null, a stray string) stay with the parent, so
    one of them neither hides the replies nor is lost."""
    items = _reply_list(record.get(KEY))
    replies = [r for r in items if isinstance(r, Mapping)]
    if not replies:
        return record, []
    rest = [r for r in items if not isinstance(r, Mapping) and r is not None]
    parent = {k: v for k, v in record.items() if k != KEY}
    return ({**parent, KEY: rest} if rest else parent), replies


def flat_records(record: Mapping) -> Iterator[tuple[dict[str, str | None], Mapping]]:
    """(flattened, as read) for the record, then for each of its replies (and theirs), placed
    on the parent's post."""
    parent, replies = split(record)
    values = flatten(parent)
    yield values, parent
    inherited = {k: v for k, v in values.items() if k in post_keys() and v is not None}
    for reply in replies:
        for child, raw in flat_records(reply):
            child.setdefault(REPLY_TO, values.get("id"))
            for key, value in inherited.items():
                if child.get(key) is None:
                    child[key] = value
            yield child, raw


def _reply_list(value: object) -> list:
    if isinstance(value, Mapping):
        value = next((value[k] for k in _CONTAINERS if isinstance(value.get(k), list)), None)
    return value if isinstance(value, list) else []


@cache
def post_keys() -> frozenset[str]:
    """The flattened columns any known schema reads post_id or post_owner from."""
    specs = (s for schema in SCHEMAS for f in ("post_id", "post_owner")
             for s in schema.fields.get(f, ()))  # fmt: skip
    return frozenset(s.column if isinstance(s, Shortcode) else s for s in specs)
