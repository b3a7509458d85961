"""Spec definitions: checking product specs and parsing spec filters (pure, no I/O)."""

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

ALLOWED_DIRECTIONS = {
    "number": {"higher_better", "lower_better", "equals"},
    "set": {"includes", "equals"},
    "text": {"equals"},
}
MAX_SET_ITEMS = 50
MAX_TEXT = 500
FILTER_OPS = ("gte", "lte", "eq", "includes")
_FILTER_PARAM = re.compile(r"^spec\.([^.]+)\.([^.]+)$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True, slots=True)
class SpecDef:
    """What the comparison and validation logic needs to know about one spec."""

    key: str
    kind: str
    direction: str
    critical: bool = False
    unit: str | None = None


@dataclass(frozen=True, slots=True)
class SpecFilter:
    key: str
    op: str
    number: float | None = None
    values: tuple[str, ...] = ()
    text: str | None = None


def direction_problem(kind: str, direction: str) -> str | None:
    """Why a kind/direction pair makes no sense, or None."""
    if direction not in ALLOWED_DIRECTIONS.get(kind, set()):
        allowed = ", ".join(sorted(ALLOWED_DIRECTIONS.get(kind, set())))
        return f"a {kind} spec takes direction {allowed}"
    return None


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def check_specs(
    definitions: Mapping[str, SpecDef], specs: Mapping[str, Any]
) -> list[tuple[str, str]]:
    """Field errors for a product's specs against its category's definitions."""
    errors: list[tuple[str, str]] = []
    for key, value in specs.items():
        field = f"specs.{key}"
        spec = definitions.get(key)
        if spec is None:
            known = ", ".join(sorted(definitions)) or "none"
            errors.append((field, f"unknown spec for this category (known: {known})"))
            continue
        if spec.kind == "number":
            if not _is_number(value):
                errors.append((field, f"must be a finite number in {spec.unit or 'the spec unit'}"))
        elif spec.kind == "set":
            if not isinstance(value, list) or not all(
                isinstance(v, str) and v.strip() for v in value
            ):
                errors.append((field, "must be a list of non-empty strings"))
            elif len(value) > MAX_SET_ITEMS:
                errors.append((field, f"at most {MAX_SET_ITEMS} values"))
            elif any(len(v) > MAX_TEXT or "\x00" in v for v in value):
                errors.append((field, f"values are at most {MAX_TEXT} characters, no NUL"))
        elif not isinstance(value, str) or not value.strip():
            errors.append((field, "must be a non-empty string"))
        elif len(value) > MAX_TEXT or "\x00" in value:
            errors.append((field, f"at most {MAX_TEXT} characters, no NUL"))
    return errors


def normalise_specs(specs: Mapping[str, Any]) -> dict[str, Any]:
    """Numbers as floats-or-ints as given, sets de-duplicated in order, text stripped."""
    result: dict[str, Any] = {}
    for key, value in specs.items():
        if isinstance(value, list):
            seen: dict[str, None] = {}
            for item in value:
                seen.setdefault(item.strip(), None)
            result[key] = list(seen)
        elif isinstance(value, str):
            result[key] = value.strip()
        else:
            result[key] = value
    return result


def index_rows(specs: Mapping[str, Any]) -> Iterable[tuple[str, float | None, str | None]]:
    """The searchable rows of a product's specs: (key, number, text)."""
    for key, value in specs.items():
        if isinstance(value, list):
            for item in value:
                yield key, None, item.casefold()
        elif isinstance(value, str):
            yield key, None, value.casefold()
        else:
            yield key, float(value), None


def parse_filters(
    params: Iterable[tuple[str, str]], definitions: Mapping[str, SpecDef]
) -> tuple[list[SpecFilter], list[tuple[str, str]]]:
    """Turn `spec.<key>.<op>=<value>` query parameters into filters, or field errors."""
    filters: list[SpecFilter] = []
    errors: list[tuple[str, str]] = []
    for name, raw in params:
        if not name.startswith("spec."):
            continue
        match = _FILTER_PARAM.match(name)
        if not match:
            errors.append((name, "spec filters look like spec.<key>.<gte|lte|eq|includes>"))
            continue
        key, op = match.groups()
        if _CONTROL.search(raw) or len(raw) > 2000:
            errors.append((name, "at most 2000 characters, no control characters"))
            continue
        spec = definitions.get(key)
        if spec is None:
            errors.append((name, f"unknown spec key {key!r}"))
            continue
        if op not in FILTER_OPS:
            errors.append((name, f"unknown operator {op!r}; use gte, lte, eq or includes"))
            continue
        if op == "includes":
            if spec.kind != "set":
                errors.append((name, "includes applies to set-valued specs only"))
                continue
            values = tuple(v.strip().casefold() for v in raw.split(",") if v.strip())
            if not values or len(values) > MAX_SET_ITEMS:
                errors.append((name, f"give 1 to {MAX_SET_ITEMS} comma-separated values"))
                continue
            filters.append(SpecFilter(key, op, values=values))
            continue
        if spec.kind == "number":
            try:
                number = float(raw)
            except ValueError:
                number = math.nan
            if not math.isfinite(number):
                errors.append((name, "must be a finite number"))
                continue
            filters.append(SpecFilter(key, op, number=number))
        elif op == "eq" and spec.kind == "text":
            filters.append(SpecFilter(key, op, text=raw.strip().casefold()))
        else:
            errors.append((name, f"{op} applies to number specs (and eq to text specs)"))
    return filters, errors
