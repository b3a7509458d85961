"""Loading one category's grading index: a few column selects, no ORM objects."""

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import msgspec
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from instcat.catalogue.lookup import as_spec_defs, spec_rows
from instcat.catalogue.search import product_dicts
from instcat.models import Product, Vendor
from instcat.substitution.evidence_rows import feedback_summary, load_feedback, load_trials
from instcat.substitution.grading import Shortfall, newest_first, shown_json
from instcat.substitution.ranking import (
    MEETS,
    STATUSES,
    UNKNOWN,
    Assessment,
    CategoryIndex,
)
from instcat.substitution.rules import DOMESTIC, GRADES, explained

ACTIVE = "active"
_encode = msgspec.json.encode
_STATUS_NAMES = [status.encode() for status in STATUSES]  # by status code
# Between a candidate's product and its basis, by grade code.
_GRADE = [b',"grade":"%b",' % g.encode() for g in GRADES]


@lru_cache(maxsize=16_384)
def _explained_json(code: int, gaps: tuple[str, ...], lang: str) -> bytes:
    """`"basis":…,"caveats":…,"why":…,"specs":[` of a candidate (`rules.explained`): the
    same few evidence codes and gaps recur in every answer."""
    return _encode(explained(code, gaps, lang))[1:-1] + b',"specs":['


@dataclass
class CategoryFacts:
    """A category's index plus what candidates show beside their grade."""

    index: CategoryIndex
    # Published feedback per product: `evidence_rows.load_feedback` rows (count, means).
    feedback: dict[int, Any]
    service: dict[str, tuple[float | None, list[str]]]
    # Every product of the category as the API writes it (ProductRead JSON), by id.
    shown: dict[int, msgspec.Raw]
    vendor_of: dict[int, str]
    # Spec columns for product search, built the first time a search filters on the key.
    search_columns: dict[str, Any] = field(default_factory=dict)
    # How a candidate's answer ends whatever the reference (feedback, service), encoded on
    # first use. Kept per product, so a candidate costs one lookup: the vendor's service
    # figures repeat in each of its products' (about 190 bytes a product; kept per vendor,
    # an answer took 2-5 % longer).
    _evidence: dict[int, bytes] = field(default_factory=dict)
    # Per product position: the start of each spec's comparison as the API writes it
    # (`{"key":…,"critical":…,"candidate":…`), in definition order, encoded on first use.
    _spec_json: dict[int, list[bytes]] = field(default_factory=dict)
    # Per product position: its critical values as reasons show them, made on first use.
    _reason_values: dict[int, list[bytes]] = field(default_factory=dict)
    # Per product: its trials encoded (joined, and one by one), and the reference each was
    # run against.
    _trials_json: dict[int, tuple[bytes, list[bytes], list[int | None]]] = field(
        default_factory=dict
    )

    def _evidence_json(self, product_id: int) -> bytes:
        """How a candidate's answer ends, whatever the reference: its published-feedback
        summary (FeedbackSummary) and its vendor's service figures (ServiceFigures)."""
        found = self._evidence.get(product_id)
        if found is None:
            summary = feedback_summary(self.feedback.get(product_id))
            hours, regions = self.service.get(self.vendor_of[product_id], (None, []))
            figures = {"response_hours": hours, "regions": regions}
            found = self._evidence[product_id] = b',"feedback":%b,"service":%b}' % (
                _encode(summary),
                _encode(figures),
            )
        return found

    def _spec_starts(self, position: int) -> list[bytes]:
        """The start of each spec's comparison for the product at `position`, as the API
        writes it (`{"key":…,"critical":…,"candidate":…`), in definition order."""
        starts = self._spec_json.get(position)
        if starts is None:
            specs = self.index.specs[position]
            starts = self._spec_json[position] = [
                b'{"key":%b,"critical":%b,"candidate":%b'
                % (_encode(d.key), b"true" if d.critical else b"false", _encode(specs.get(d.key)))
                for d in self.index.definitions
            ]
        return starts

    def _critical_shown(self, position: int) -> list[bytes]:
        """The values of the product at `position` as reasons show them (`shown_json`), for
        each critical spec in definition order."""
        shown = self._reason_values.get(position)
        if shown is None:
            specs = self.index.specs[position]
            shown = self._reason_values[position] = [
                shown_json(specs.get(d.key)) for d in self.index.critical
            ]
        return shown

    def _trials_of(self, product_id: int, reference_id: int) -> bytes:
        """The product's trials as candidates show them (a list of TrialEvidence), in
        `grading.grade`'s order: trials against this reference first, then the rest, newest
        first in each."""
        found = self._trials_json.get(product_id)
        if found is None:
            ordered = newest_first(self.index.trials.get(product_id, []))
            encoded = [_encode(t.as_dict()) for t in ordered]
            found = self._trials_json[product_id] = (
                b"[%b]" % b",".join(encoded),
                encoded,
                [t.reference_product_id for t in ordered],
            )
        joined, encoded, against = found
        if reference_id not in against:
            return joined
        pairs = list(zip(against, encoded, strict=True))
        first = [raw for ref, raw in pairs if ref == reference_id]
        return b"[%b]" % b",".join(first + [raw for ref, raw in pairs if ref != reference_id])

    def candidates_json(
        self,
        assessment: Assessment,
        product_ids: Sequence[int],
        reference_id: int,
        lang: str = "zh",
    ) -> msgspec.Raw:
        """The candidates `product_ids` as a JSON list of `Candidate`: each one's grade with
        its basis, caveats and why (in `lang`), its spec-by-spec comparison with the
        reference and its gaps as `grading.grade` gives them, its trials, feedback and
        service. Written as bytes straight away: this is the hot path of every alternatives
        answer."""
        index = self.index
        definitions = index.definitions
        positions = [index.position[pid] for pid in product_ids]
        compared, rows = assessment.statuses(positions, definitions)
        grades = assessment.codes[positions].tolist() if positions else []
        evidence = assessment.evidence[positions].tolist() if positions else []
        reference = assessment.reference
        last = len(compared) - 1
        # What follows a candidate's value in each compared spec, by status code: the
        # reference's value, the status, and the comma before the next spec.
        follows = [
            [
                b',"reference":%b,"status":"%b"}%b'
                % (_encode(reference[definitions[i].key]), status, b"," if j < last else b"")
                for status in _STATUS_NAMES
            ]
            for j, i in enumerate(compared)
        ]
        gap_keys = [
            None if definitions[i].critical else _encode(definitions[i].key) for i in compared
        ]
        gap_names = [definitions[i].key for i in compared]
        # From the end of the specs to the start of the trials, by row of status codes.
        between: dict[tuple[int, ...], tuple[bytes, tuple[str, ...]]] = {}
        out: list[bytes] = []
        for product_id, position, codes, grade, code in zip(
            product_ids, positions, rows, grades, evidence, strict=True
        ):
            row = tuple(codes)
            found = between.get(row)
            if found is None:
                missed = [j for j, c in enumerate(row) if gap_keys[j] is not None and c != MEETS]
                found = between[row] = (
                    b'],"gaps":[%b],"trials":' % b",".join(gap_keys[j] or b"" for j in missed),
                    tuple(gap_names[j] for j in missed),
                )
            gaps, names = found
            said = _explained_json(code, names, lang)
            starts = self._spec_starts(position)
            out += (b'{"product":', self.shown[product_id], _GRADE[grade], said)
            for i, after, code in zip(compared, follows, row, strict=True):
                out += (starts[i], after[code])
            out += (
                gaps,
                self._trials_of(product_id, reference_id),
                self._evidence_json(product_id),
                b",",
            )
        if out:
            out.pop()  # the comma after the last candidate
        return msgspec.Raw(b"[%b]" % b"".join(out))

    def excluded_json(self, assessment: Assessment, product_ids: Sequence[int]) -> msgspec.Raw:
        """The products `product_ids` that are not substitutes, as a JSON list of `Excluded`
        with the reasons `grading.shortfalls` gives (only the critical specs need comparing)."""
        index = self.index
        critical = index.critical
        positions = [index.position[pid] for pid in product_ids]
        compared, rows = assessment.statuses(positions, critical)
        wording = [
            Shortfall(
                critical[i].key, assessment.reference[critical[i].key], critical[i].unit
            ).json_parts()
            for i in compared
        ]
        out: list[bytes] = []
        for product_id, position, codes in zip(product_ids, positions, rows, strict=True):
            shown = self._critical_shown(position)
            reasons = [
                unknown if code == UNKNOWN else opening + shown[i] + closing
                for (unknown, opening, closing), i, code in zip(
                    wording, compared, codes, strict=True
                )
                if code != MEETS
            ]
            out.append(b'{"product_id":%d,"reasons":[%b]}' % (product_id, b",".join(reasons)))
        return msgspec.Raw(b"[%b]" % b",".join(out))


async def load_category_facts(session: AsyncSession, category_id: int) -> CategoryFacts:
    """Everything needed to grade the products of one category against any reference."""
    in_category = col(Product.category_id) == category_id
    products = await product_dicts(await session.connection(), [in_category])
    definitions = list(as_spec_defs(await spec_rows(session, [category_id])).values())
    vendors = await session.execute(
        select(col(Vendor.slug), col(Vendor.response_hours), col(Vendor.service_regions)).where(
            col(Vendor.id).in_(select(col(Product.vendor_id)).where(in_category).scalar_subquery())
        )
    )
    service = {slug: (hours, list(regions)) for slug, hours, regions in vendors}

    trials = await load_trials(session, None, in_category)
    feedback = await load_feedback(session, in_category)
    index = CategoryIndex.build(
        definitions,
        [
            (p["id"], p["specs"], p["domestic"], p["made_in"] == DOMESTIC, p["status"] == ACTIVE)
            for p in products
        ],
        trials,
        {pid: feedback_summary(row)["overall"] for pid, row in feedback.items()},
    )
    return CategoryFacts(
        index=index,
        feedback=feedback,
        service=service,
        # Encoded once here; answers embed them as they are.
        shown={p["id"]: msgspec.Raw(msgspec.json.encode(p)) for p in products},
        vendor_of={p["id"]: p["vendor"] for p in products},
    )
