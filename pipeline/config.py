"""Frozen dataclass configs loaded from TOML, with dotted command-line overrides.

Every config in the project is a tree of frozen dataclasses. `load_config` reads a TOML
file, applies overrides such as ``train.lr=3e-5``, rejects unknown keys and lets each
dataclass validate itself in ``__post_init__``.
"""

from __future__ import annotations

import dataclasses
import tomllib
import types
import typing
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")


class ConfigError(ValueError):
    """A config file or override that cannot be used; the message says how to fix it."""


def load_config(cls: type[T], path: str | Path | None = None, overrides: list[str] = ()) -> T:
    """Build `cls` from a TOML file (optional) plus ``section.key=value`` overrides."""
    raw: dict[str, Any] = {}
    if path is not None:
        try:
            raw = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        except FileNotFoundError as e:
            raise ConfigError(f"config file not found: {path}") from e
        except UnicodeDecodeError as e:
            raise ConfigError(f"{path}: not UTF-8 text (TOML files are UTF-8): {e}") from e
        except OSError as e:  # a directory, no permission...
            raise ConfigError(f"{path}: cannot read the config file: {e.strerror or e}") from e
        except tomllib.TOMLDecodeError as e:
            raise ConfigError(f"{path}: not valid TOML: {e}") from e
    for item in overrides:
        _apply_override(raw, item)
    where = str(path or "config")
    try:
        return from_dict(cls, raw, where=where)
    except ConfigError as e:  # a __post_init__ check knows the field, not the file
        if path is None or str(e).startswith(where):
            raise
        raise ConfigError(f"{where}: {e}") from e


def from_dict(cls: type[T], raw: dict[str, Any], where: str = "config") -> T:
    """Recursively turn a plain dict into the dataclass `cls`, rejecting unknown keys."""
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}
    unknown = sorted(set(raw) - set(fields))
    if unknown:
        raise ConfigError(
            f"{where}: unknown key(s) {', '.join(unknown)}; allowed: {', '.join(sorted(fields))}"
        )
    kwargs = {name: _convert(hints[name], value, f"{where}.{name}") for name, value in raw.items()}
    try:
        return cls(**kwargs)
    except TypeError as e:
        raise ConfigError(f"{where}: {e}") from e


def to_dict(config: Any) -> dict[str, Any]:
    """The config as plain data, for logging a run or writing a manifest."""
    return dataclasses.asdict(config)


def _convert(hint: Any, value: Any, where: str) -> Any:
    if dataclasses.is_dataclass(hint):
        if not isinstance(value, dict):
            raise ConfigError(f"{where}: expected a table, got {value!r}")
        return from_dict(hint, value, where)
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        options = [a for a in typing.get_args(hint) if a is not type(None)]
        return value if value is None else _convert(options[0], value, where)
    if origin in (tuple, list):
        if not isinstance(value, list | tuple):
            raise ConfigError(f"{where}: expected a list, got {value!r}")
        return tuple(value)
    if hint is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if hint in (int, float, str, bool) and not isinstance(value, hint):
        raise ConfigError(f"{where}: expected {hint.__name__}, got {value!r}")
    return value


def _apply_override(raw: dict[str, Any], item: str) -> None:
    """``a.b.c=value``: the value is parsed as TOML when it can be, else kept as a string."""
    key, sep, text = item.partition("=")
    if not sep or not key:
        raise ConfigError(f"override {item!r} must look like section.key=value")
    try:
        value = tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        value = text
    *parents, leaf = key.lstrip("-").split(".")
    node = raw
    for part in parents:
        node = node.setdefault(part, {})
        if not isinstance(node, dict):
            raise ConfigError(f"override {item!r}: {part} is not a table")
    node[leaf] = value


def split_overrides(args: list[str]) -> list[str]:
    """Extra CLI args like ``--train.lr=3e-5`` -> ``train.lr=3e-5``."""
    out = []
    for arg in args:
        if not arg.startswith("--") or "=" not in arg:
            raise ConfigError(f"unexpected argument {arg!r}; overrides look like --train.lr=3e-5")
        out.append(arg[2:])
    return out
