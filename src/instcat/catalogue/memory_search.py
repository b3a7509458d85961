"""Product search over loaded category indexes.

Gives the same products in the same order as the SQL search (`search.search_page`): spec
filters compare the rows `specs.index_rows` makes of each product, exactly as the
`product_spec_value` table holds them. Tests hold the two equal on generated data.
"""

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import msgspec
import numpy as np
import numpy.typing as npt

from instcat.catalogue.search import SearchCriteria, subtree_with_specs
from instcat.catalogue.specs import SpecFilter, index_rows, parse_filters
from instcat.db import Database
from instcat.errors import InvalidInput

Bools = npt.NDArray[np.bool_]


def _rows_of(key: str, value: Any) -> tuple[float | None, frozenset[str]]:
    """The number and the texts the search table indexes for one spec value (raises as
    `index_rows` does for a value it cannot index)."""
    number, texts = None, set()
    for _, row_number, row_text in index_rows({key: value}):
        if row_number is not None:
            number = row_number
        if row_text is not None:
            texts.add(row_text)
    return number, frozenset(texts)


class SpecColumns:
    """One spec key of one category's products, as the search table indexes it."""

    def __init__(self, specs: Sequence[Mapping[str, Any]], key: str) -> None:
        self.numbers = np.full(len(specs), np.nan)
        positions: dict[frozenset[str], list[int]] = {}
        # Set and text values repeat across a category: index each distinct one once.
        seen: dict[Any, tuple[float | None, frozenset[str]]] = {}
        for i, product_specs in enumerate(specs):
            if key not in product_specs:
                continue
            value = product_specs[key]
            if type(value) is int or type(value) is float:
                self.numbers[i] = value  # one numeric row, float(value)
                continue
            memo: tuple[type, Any] | None = (
                type(value),
                tuple(value) if isinstance(value, list) else value,
            )
            try:
                found = seen.get(memo)
            except TypeError:  # unhashable: index it on its own
                memo, found = None, None
            if found is None:
                try:
                    found = _rows_of(key, value)
                except (TypeError, ValueError):
                    continue  # a value the search table could not have indexed either
                if memo is not None:
                    seen[memo] = found
            number, texts = found
            if number is not None:
                self.numbers[i] = number
            if texts:
                positions.setdefault(texts, []).append(i)
        # Products by the set of texts they hold (products with none are in no group).
        self.groups = {texts: np.array(at, dtype=np.intp) for texts, at in positions.items()}

    def matches(self, spec_filter: SpecFilter, among: Bools) -> Bools:
        """Which products have a row satisfying the filter."""
        if spec_filter.op == "includes" or spec_filter.text is not None:
            wanted = frozenset(spec_filter.values or (spec_filter.text or "",))
            found = np.zeros(len(self.numbers), dtype=bool)
            for texts, positions in self.groups.items():
                if wanted <= texts:
                    found[positions] = True
            return found & among
        number = spec_filter.number
        with np.errstate(invalid="ignore"):
            compared: Bools
            if spec_filter.op == "gte":
                compared = self.numbers >= number
            elif spec_filter.op == "lte":
                compared = self.numbers <= number
            else:
                compared = self.numbers == number
            return compared


def matching_ids(
    ids: npt.NDArray[np.int64],
    base: Bools,
    columns: Mapping[str, SpecColumns],
    filters: Iterable[SpecFilter],
) -> npt.NDArray[np.int64]:
    """Ids of the products in `base` that pass every filter."""
    mask = base.copy()
    for spec_filter in filters:
        mask &= columns[spec_filter.key].matches(spec_filter, mask)
    return ids[mask]


async def search_in_memory(
    db: Database, revision: int | None, criteria: SearchCriteria
) -> bytes | None:
    """A category search (no text, no vendor) answered from the category indexes that
    alternatives keep, when they are loaded for the current revision; None when the SQL
    search must answer. A search never loads an index itself: loading one holds the event
    loop for up to a second, and while writes keep changing the revision it would be
    loaded again and again."""
    category, status, domestic = criteria.category, criteria.status, criteria.domestic
    if criteria.q or criteria.vendor or not category or revision is None:
        return None
    subtree = db.indexes.get(("category-subtree", category), revision)
    if subtree is None:
        async with db.engine.connect() as connection:
            subtree = await subtree_with_specs(connection, category)
        db.indexes.put(("category-subtree", category), revision, subtree)
    category_ids, definitions = subtree
    filters, errors = parse_filters(criteria.spec_params, definitions)
    if errors:
        raise InvalidInput("Invalid spec filter.", errors)
    cached = [db.indexes.get(("category-facts", cid), revision) for cid in category_ids]
    loaded = [facts for facts in cached if facts is not None]
    if len(loaded) < len(cached):
        return None
    found, owners = [], []
    for number, facts in enumerate(loaded):
        index, columns = facts.index, facts.search_columns
        for spec_filter in filters:
            if spec_filter.key not in columns:
                columns[spec_filter.key] = SpecColumns(index.specs, spec_filter.key)
        base = np.ones(len(index.ids), dtype=bool)
        if status is not None:
            base &= index.active if status == "active" else ~index.active
        if domestic is not None:
            base &= index.domestic_vendor == domestic
        ids = matching_ids(index.ids, base, columns, filters)
        found.append(ids)
        owners.append(np.full(len(ids), number))
    ids, owner = np.concatenate(found), np.concatenate(owners)
    limit, offset = criteria.limit, criteria.offset
    order = np.argsort(ids, kind="stable")[offset:][:limit]
    page = [loaded[int(owner[i])].shown[int(ids[i])] for i in order]
    return msgspec.json.encode({"items": page, "total": len(ids), "limit": limit, "offset": offset})
