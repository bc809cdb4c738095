"""Field values of an export record: labels and timestamps, read leniently but never guessed.

A label is "spam", "genuine", missing, or "?" (the reader rejects the row and says why); a
timestamp becomes ISO 8601 (UTC with "Z" where the input has a zone or is a unix epoch) or
None where it cannot be read. Flags and numbers of a scored table read back from CSV or
JSONL get their types back (`parse_flags`, `restore_types`).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import pandas as pd

LABELS = {"spam": "spam", "1": "spam", "1.0": "spam", "true": "spam"}
LABELS |= {k: "genuine" for k in ("genuine", "ham", "not_spam", "not-spam", "0", "0.0", "false")}
NO_LABEL = {"", "null", "none", "nan"}
FLAG_WORDS = {"true": True, "1": True, "1.0": True, "false": False, "0": False, "0.0": False}
# 9+ digits: from 1973 on, so a bare year is not one; 19 at most (nanoseconds), as a longer
# run is no timestamp and float() makes inf of 309+ digits, which no division brings down.
_EPOCH = re.compile(r"\d{9,19}(\.\d+)?")
# What str() makes of a JSON number of 1e16+ (nanoseconds: "1.7672256001234568e+18"). Ten
# significant digits place any epoch unit of 2000-2100 to the second; fewer ("1.77E+09", as a
# spreadsheet shows it) is a rounded date, left unparsed (created_at_raw keeps it).
_SCIENTIFIC = re.compile(r"\d\.\d{9,17}[eE]\+?\d{1,2}")
# yyyyMMdd, yyyyMMddHHmm, yyyyMMddHHmmss: as an epoch the 14-digit form lands in year 2611.
_COMPACT = {8: "%Y%m%d", 12: "%Y%m%d%H%M", 14: "%Y%m%d%H%M%S"}
# An epoch outside these years is a misread (or no timestamp at all), not a comment's date.
_EPOCH_YEARS = range(2000, 2101)
_FORMATS = ("%a %b %d %H:%M:%S %z %Y", "%Y-%m-%d %H:%M:%S %z", "%d.%m.%Y %H:%M")
# A day with no time of day: kept as a date, so no burst is read into a whole day's comments.
_DATE_ONLY = re.compile(r"\d{4}-\d{2}-\d{2}|\d{8}")
# "Z" in any case, or " UTC" / " utc" spelled out, ends an ISO timestamp in UTC.
_UTC_SUFFIX = re.compile(r"(?:z| ?utc)$", re.IGNORECASE)


def parse_labels(values: pd.Series) -> pd.Series:
    """'spam', 'genuine', <NA> for no label, or '?' for a value that is neither."""
    keys = values.str.strip().str.lower()
    labels = keys.map(lambda k: None if k in NO_LABEL else LABELS.get(k, "?"), na_action="ignore")
    return labels.astype("string")


def label_reason(value: str) -> str:
    return f"unknown label {value!r}; expected spam/genuine/ham/not_spam, 1/0 or true/false"


def parse_timestamps(values: pd.Series) -> pd.Series:
    # Exports repeat timestamps a lot (and the parse is per value), so parse each once.
    table = {v: normalise_timestamp(v) for v in values.dropna().unique()}
    return values.map(table, na_action="ignore").astype("string")


def normalise_timestamp(value: str) -> str | None:
    """ISO 8601; UTC with "Z" when the input has a zone or is a unix epoch; a date alone
    ("2024-03-01", "20240301") stays a date; None if unreadable or outside the plausible
    years (Go's zero time 0001-01-01, a 1970-01-01 placeholder)."""
    text = value.strip()
    try:
        moment = _parse_time(text)
    except (ValueError, OverflowError, OSError):
        return None
    if moment is None or moment.year not in _EPOCH_YEARS:
        return None
    return moment.date().isoformat() if _DATE_ONLY.fullmatch(text) else _iso(moment)


def _parse_time(text: str) -> datetime | None:
    if text.isdigit() and len(text) in _COMPACT:
        compact = _compact(text)
        if compact is not None:
            return compact
    if _EPOCH.fullmatch(text) or _SCIENTIFIC.fullmatch(text):
        return _from_epoch(float(text))
    try:
        return datetime.fromisoformat(_UTC_SUFFIX.sub("Z", text))
    except ValueError:
        return _parse_other(text)


def _compact(text: str) -> datetime | None:
    """yyyyMMdd[HHmm[ss]] where it is a real date in the plausible years, else None. No
    epoch of those lengths is plausible (12 digits of milliseconds: 1976; 14: year 2611)."""
    try:
        moment = datetime.strptime(text, _COMPACT[len(text)])
    except ValueError:
        return None
    return moment if moment.year in _EPOCH_YEARS else None


def _from_epoch(number: float) -> datetime | None:
    # Seconds, milliseconds, microseconds or nanoseconds, told apart by size.
    while number >= 1e11:
        number /= 1000
    moment = datetime.fromtimestamp(number, tz=UTC)
    return moment if moment.year in _EPOCH_YEARS else None


def _parse_other(text: str) -> datetime | None:
    for fmt in _FORMATS:
        try:
            return datetime.strptime(text, fmt)
        except ValueError:
            pass
    try:
        return parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None


def _iso(moment: datetime) -> str:
    if moment.tzinfo is None:
        return moment.isoformat()
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat() + "Z"


def parse_flags(values: pd.Series) -> pd.Series:
    """Flags as pandas booleans (<NA> where missing or unreadable): bools or numbers as they
    are, or the words a CSV or JSONL copy of a scored table holds ("true", "False")."""
    if pd.api.types.is_bool_dtype(values) or pd.api.types.is_numeric_dtype(values):
        return values.astype("boolean")
    words = values.astype("string").str.strip().str.lower()
    return words.map(FLAG_WORDS, na_action="ignore").astype("boolean")


def restore_types(values: pd.Series) -> pd.Series:
    """A column read back from text as the booleans or numbers it was written as, where every
    value is one ("true"/"false", "0.97"); else as it is."""
    present = values.dropna()
    if present.empty:
        return values
    words = present.astype("string").str.strip().str.lower()
    if words.isin(["true", "false"]).all():
        return parse_flags(values)
    numbers = pd.to_numeric(present, errors="coerce")
    if numbers.notna().all():
        return pd.to_numeric(values, errors="coerce")
    return values
