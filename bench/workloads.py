"""Request paths for each read workload, drawn from the generated database."""

import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine

API = "/api/v1"


def sync_url(url: str) -> str:
    """The same database through a synchronous driver (the harness itself is not async)."""
    if url.startswith("sqlite+aiosqlite:"):
        return "sqlite:" + url.removeprefix("sqlite+aiosqlite:")
    if url.startswith("postgresql://"):
        return "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return url


def engine_for(url: str) -> Engine:
    return create_engine(sync_url(url))


@dataclass(frozen=True)
class Spec:
    key: str
    kind: str
    direction: str


def _specs(connection: Any) -> dict[int, list[Spec]]:
    rows = connection.execute(
        text(
            "SELECT category_id, key, kind, direction FROM spec_definition "
            "ORDER BY category_id, position"
        )
    )
    result: dict[int, list[Spec]] = {}
    for category_id, key, kind, direction in rows:
        result.setdefault(category_id, []).append(Spec(key, kind, direction))
    return result


class _Filters:
    """Filters a buyer would set: 'at least as good as' a product of the category, with a
    threshold drawn afresh for every request (so that searches rarely repeat)."""

    def __init__(self, connection: Any, category_id: int, spec: Spec) -> None:
        self.spec, self.values, self.member = spec, [], None
        if spec.kind == "number" and spec.direction in ("higher_better", "lower_better"):
            self.values = sorted(
                v
                for (v,) in connection.execute(
                    text(
                        "SELECT v.num_value FROM product_spec_value v "
                        "JOIN product p ON p.id = v.product_id "
                        "WHERE p.category_id = :c AND v.key = :k AND v.num_value IS NOT NULL"
                    ),
                    {"c": category_id, "k": spec.key},
                )
            )
        elif spec.kind == "set":
            self.member = connection.execute(
                text(
                    "SELECT v.text_value FROM product_spec_value v "
                    "JOIN product p ON p.id = v.product_id "
                    "WHERE p.category_id = :c AND v.key = :k "
                    "GROUP BY v.text_value ORDER BY count(*) DESC, v.text_value LIMIT 1"
                ),
                {"c": category_id, "k": spec.key},
            ).scalar()

    @property
    def usable(self) -> bool:
        return bool(self.values) or self.member is not None

    def draw(self, r: random.Random) -> str:
        key, values = self.spec.key, self.values
        if self.member is not None:
            return urlencode({f"spec.{key}.includes": self.member})
        if self.spec.direction == "higher_better":
            value = values[int(len(values) * r.uniform(0.1, 0.5))]
            return urlencode({f"spec.{key}.gte": repr(value)})
        value = values[min(len(values) - 1, int(len(values) * r.uniform(0.5, 0.9)))]
        return urlencode({f"spec.{key}.lte": repr(value)})


def search_paths(url: str, count: int, seed: int = 1) -> list[str]:
    """Product searches: a category plus two spec filters, 20 results."""
    r = random.Random(seed)
    engine = engine_for(url)
    paths = []
    with engine.connect() as connection:
        codes = dict(connection.execute(text("SELECT id, code FROM category")).all())
        specs = _specs(connection)
        candidates = [c for c, s in specs.items() if len(s) >= 2]
        filters: dict[int, list[_Filters]] = {}
        for category_id in candidates:
            made = (_Filters(connection, category_id, s) for s in specs[category_id])
            usable = [f for f in made if f.usable]
            if len(usable) >= 2:
                filters[category_id] = usable
        for _ in range(count):
            category_id = r.choice(sorted(filters))
            first, second = (f.draw(r) for f in r.sample(filters[category_id], 2))
            code = codes[category_id]
            paths.append(f"{API}/products?category={code}&{first}&{second}&limit=20")
    engine.dispose()
    return paths


def alternatives_paths(url: str, count: int, seed: int = 2) -> list[str]:
    """Alternatives for random imported products."""
    r = random.Random(seed)
    engine = engine_for(url)
    with engine.connect() as connection:
        ids = list(
            connection.execute(
                text(
                    "SELECT p.id FROM product p JOIN vendor v ON v.id = p.vendor_id "
                    "WHERE v.country <> 'CN' ORDER BY p.id"
                )
            ).scalars()
        )
    engine.dispose()
    return [f"{API}/alternatives?reference={r.choice(ids)}" for _ in range(count)]


def category_warmup_paths(url: str) -> list[str]:
    """One alternatives request per category (its lowest-id imported product): requested
    before the measured run, so that each worker has loaded every category's grading index
    (a cost paid once per category and data revision) while the measured references stay
    mostly uncached."""
    engine = engine_for(url)
    with engine.connect() as connection:
        ids = list(
            connection.execute(
                text(
                    "SELECT min(p.id) FROM product p JOIN vendor v ON v.id = p.vendor_id "
                    "WHERE v.country <> 'CN' GROUP BY p.category_id ORDER BY 1"
                )
            ).scalars()
        )
    engine.dispose()
    return [f"{API}/alternatives?reference={pid}" for pid in ids]


def category_paths(url: str, count: int, seed: int = 3) -> list[str]:
    """Category details (spec definitions and latest market figures)."""
    r = random.Random(seed)
    engine = engine_for(url)
    with engine.connect() as connection:
        codes = list(connection.execute(text("SELECT code FROM category ORDER BY code")).scalars())
    engine.dispose()
    return [f"{API}/categories/{r.choice(codes)}" for _ in range(count)]


def write_paths(folder: Path, name: str, paths: list[str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.paths"
    path.write_text("\n".join(paths) + "\n")
    return path
