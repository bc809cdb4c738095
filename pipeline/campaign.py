"""Campaign files: which creators and posts a brand audit covers, and finding them in an export.

A campaign file is TOML: ``[campaign] name, brand`` and one ``[[creators]]`` table per creator
with ``handle`` and ``posts``. Posts may be written as the export's post id, a shortcode or a
post URL (Instagram /p/ /reel/ /tv/, YouTube watch?v= / youtu.be / shorts), whatever is at hand.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from pipeline.config import ConfigError, from_dict, load_config

# Post URLs people paste into a campaign brief; group 1 is the id the export stores.
# Hosts and paths in any case (a pasted "Instagram.com"); the id's own case is kept.
_POST_URLS = (
    re.compile(r"(?i:instagram\.com/(?:[^/?#]+/)?(?:p|reel|reels|tv)/)([A-Za-z0-9_-]+)"),
    re.compile(r"(?i:youtube\.com/(?:watch\?(?:[^#]*&)?v=|shorts/|embed/|live/))([A-Za-z0-9_-]+)"),
    re.compile(r"(?i:youtu\.be/)([A-Za-z0-9_-]+)"),
)
# Export columns that can name a post besides post_id (passthrough columns of some schemas).
POST_KEY_COLUMNS = ("post_id", "post_shortcode", "shortcode", "post_url", "url")


@dataclass(frozen=True)
class Campaign:
    name: str
    brand: str = ""


@dataclass(frozen=True)
class Creator:
    handle: str
    posts: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.handle.strip().lstrip("@"):
            raise ConfigError("every [[creators]] entry needs a handle")
        # A numeric post id written without quotes is a TOML integer, exact at any length.
        posts = tuple(str(p) if type(p) is int else p for p in self.posts)
        object.__setattr__(self, "posts", posts)
        if floats := [p for p in posts if isinstance(p, float)]:
            raise ConfigError(
                f"creator {self.handle!r}: post {floats[0]!r} is a number with a decimal"
                ' point; write post ids in quotes, e.g. "358496786"'
            )
        if not self.posts or not all(isinstance(p, str) and p.strip() for p in self.posts):
            raise ConfigError(f"creator {self.handle!r}: posts must be a non-empty list of post "
                              "ids, shortcodes or URLs")  # fmt: skip


@dataclass(frozen=True)
class CampaignConfig:
    campaign: Campaign | None = None
    creators: tuple[Creator, ...] = ()

    def __post_init__(self) -> None:
        if self.campaign is None:
            raise ConfigError('add a [campaign] table with name = "..." (and brand = "...")')
        creators = tuple(
            table_entry(Creator, c, f"creators[{i}]") for i, c in enumerate(self.creators)
        )
        object.__setattr__(self, "creators", creators)
        if not creators:
            raise ConfigError(
                'add at least one [[creators]] table: handle = "..." and posts = [...]'
            )
        handles = [normalise_handle(c.handle) for c in creators]
        if len(set(handles)) != len(handles):
            raise ConfigError("each creator may appear only once; merge their posts lists")


def load_campaign(path: str | Path, overrides: list[str] = ()) -> CampaignConfig:
    return load_config(CampaignConfig, path, overrides)


def normalise_handle(handle: object) -> str:
    return str(handle).strip().lstrip("@").casefold()


def post_ref(entry: str) -> str:
    """The id inside a post URL (Instagram /p/ /reel/ /tv/, YouTube), else the entry itself."""
    for pattern in _POST_URLS:
        match = pattern.search(entry)
        if match:
            return match.group(1)
    return entry.strip()


def post_index(scored: pd.DataFrame) -> dict[str, set[str]]:
    """Every key a post can be referred to by (id, shortcode, id in a URL) -> post ids."""
    index: dict[str, set[str]] = {}
    for column in (c for c in POST_KEY_COLUMNS if c in scored.columns):
        pairs = scored[["post_id", column]].dropna().astype(str).drop_duplicates()
        for post_id, value in pairs.itertuples(index=False):
            for key in {value.strip(), post_ref(value)}:
                index.setdefault(key, set()).add(post_id)
    return index


def matched_posts(
    creator: Creator, index: Mapping[str, set[str]]
) -> tuple[tuple[str, ...], list[str]]:
    """(post ids found, entries not found) for one creator."""
    found: dict[str, None] = {}
    missing = []
    for entry in creator.posts:
        ids = index.get(entry.strip(), set()) | index.get(post_ref(entry), set())
        found.update(dict.fromkeys(sorted(ids)))
        if not ids:
            missing.append(entry)
    return tuple(found), missing


def missing_warnings(creator: Creator, entries: Iterable[str]) -> list[str]:
    where = "looked for it as post id, shortcode and post URL"
    return [
        f"post {e!r} listed for {creator.handle} is not in the export ({where}); it is left out"
        for e in entries
    ]


def owner_warnings(scored: pd.DataFrame, creators, matched) -> list[str]:
    if "post_owner" not in scored:
        return []
    owners = scored.dropna(subset=["post_owner"]).groupby("post_id")["post_owner"].first()
    out = []
    for creator in creators:
        for post in matched[creator.handle][0]:
            owner = owners.get(post)
            if owner is not None and normalise_handle(owner) != normalise_handle(creator.handle):
                out.append(f"post {post!r} is listed for {creator.handle} but the export says "
                           f"it was posted by {owner}")  # fmt: skip
    return out


def table_entry(cls: type, value: Any, where: str) -> Any:
    """A [[table]] entry from TOML (a dict) -> its dataclass; load_config leaves lists as-is."""
    if isinstance(value, cls):
        return value
    if not isinstance(value, Mapping):
        raise ConfigError(f"{where}: expected a table, got {value!r}")
    return from_dict(cls, dict(value), where=where)
