"""Spec definitions of the synthetic categories, and how product spec values are drawn."""

import random
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from instcat.catalogue.schemas import CategoryCreate, SpecDefinitionIn
from instcat.catalogue.specs import SpecDef
from instcat.devdata import words
from instcat.devdata.base import NOTE, SYNTHETIC_PREFIX


@dataclass(frozen=True, slots=True)
class SpecModel:
    """How values of one spec are drawn: its definition plus a range or a list of options."""

    key: str
    kind: str
    direction: str
    critical: bool
    lo: float = 1.0
    hi: float = 100.0
    integer: bool = False
    # Sets and text: most common (for sets also most basic) first.
    options: tuple[str, ...] = ("standard", "extended")

    def draw(self, r: random.Random, quality: float) -> Any:
        """A value for a product of this quality (0 = worst, 1 = best)."""
        u = min(1.0, max(0.0, quality + r.gauss(0.0, 0.15)))
        if self.kind == "number":
            return self._number(r, u)
        if self.kind == "set":
            chosen = list(self.options[: 1 + round(u * (len(self.options) - 1))])
            if len(chosen) > 2 and r.random() < 0.25:
                chosen.pop(r.randrange(1, len(chosen)))
            return chosen
        return self.options[0] if r.random() < 0.35 + 0.5 * u else r.choice(self.options)

    def _number(self, r: random.Random, u: float) -> int | float:
        if self.direction == "equals":
            t = r.random()
        else:
            t = u if self.direction == "higher_better" else 1.0 - u
        if self.lo > 0:
            value = self.lo * (self.hi / self.lo) ** t
        else:
            value = self.lo + (self.hi - self.lo) * t
        if self.integer:
            return max(round(float(value)), 1)
        return float(f"{value:.3g}")


def model_from_examples(
    key: str, kind: str, direction: str, critical: bool, examples: Sequence[Any]
) -> SpecModel:
    """A spec model whose range or options come from existing products' values."""
    if kind == "number":
        numbers = [float(v) for v in examples if isinstance(v, int | float)]
        if not numbers:
            return SpecModel(key, kind, direction, critical)
        lo, hi = min(numbers), max(numbers)
        integer = lo >= 1 and all(n.is_integer() for n in numbers)
        if lo > 0:
            lo, hi = lo / 1.25, hi * 1.25
        else:
            spread = (hi - lo) or abs(hi) or 1.0
            lo, hi = lo - 0.1 * spread, hi + 0.1 * spread
        return SpecModel(key, kind, direction, critical, lo, hi, integer)
    members: Counter[str] = Counter()
    for value in examples:
        members.update(value if isinstance(value, list) else [value])
    options = tuple(m for m, _ in members.most_common()) or ("standard", "extended")
    return SpecModel(key, kind, direction, critical, options=options)


def synthetic_category(r: random.Random, number: int) -> tuple[CategoryCreate, list[SpecModel]]:
    """Category `syn-NNN`: a real instrument type with 3 to 8 spec definitions."""
    types = words.INSTRUMENT_TYPES
    name_zh, name_en, aliases = types[(number - 1) % len(types)]
    variant = (number - 1) // len(types) + 1
    if variant > 1:
        name_zh, name_en = f"{name_zh}（{variant}型）", f"{name_en}, type {variant}"
    numbers = [("number", t) for t in words.NUMBER_SPECS]
    others = [("set", t) for t in words.SET_SPECS] + [("text", t) for t in words.TEXT_SPECS]
    first = r.choice(numbers)
    rest = [t for t in numbers + others if t is not first]
    chosen = [first, *r.sample(rest, r.randint(2, 7))]
    specs: list[SpecDefinitionIn] = []
    models: list[SpecModel] = []
    for position, (kind, template) in enumerate(chosen):
        critical = position == 0 or r.random() < 0.25
        if kind == "number":
            key, zh, en, unit, direction, lo, hi, integer = cast(words.NumberSpec, template)
            model = SpecModel(key, kind, direction, critical, lo, hi, integer)
        else:
            key, zh, en, options = cast(words.ChoiceSpec, template)
            unit, direction = None, "includes" if kind == "set" else "equals"
            model = SpecModel(key, kind, direction, critical, options=tuple(options))
        # Validated from plain values: the templates' kind and direction are plain strings.
        spec = SpecDefinitionIn.model_validate(
            {
                "key": key,
                "name_zh": zh,
                "name_en": en,
                "unit": unit,
                "kind": kind,
                "direction": direction,
                "critical": critical,
            }
        )
        specs.append(spec)
        models.append(model)
    category = CategoryCreate(
        code=f"{SYNTHETIC_PREFIX}{number:03d}",
        name_zh=name_zh,
        name_en=name_en,
        aliases=list(aliases),
        description=NOTE,
        specs=specs,
    )
    return category, models


@dataclass(slots=True)
class CategoryInfo:
    """What product generation needs to know about a category."""

    id: int
    code: str
    name_zh: str
    name_en: str
    aliases: list[str]
    models: list[SpecModel]
    weight: float = 1.0
    definitions: dict[str, SpecDef] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.definitions = {
            m.key: SpecDef(m.key, m.kind, m.direction, m.critical) for m in self.models
        }
