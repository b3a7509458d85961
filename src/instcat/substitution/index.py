"""Loading one category's grading index: a few column selects, no ORM objects."""

from dataclasses import dataclass, field
from typing import Any

import msgspec
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from instcat.catalogue.lookup import as_spec_defs, spec_rows
from instcat.catalogue.search import product_dicts
from instcat.models import Product, Vendor
from instcat.substitution.evidence import DOMESTIC
from instcat.substitution.grading import newest_first
from instcat.substitution.ranking import MEETS, STATUSES, Assessment, CategoryIndex
from instcat.substitution.snapshot import feedback_summary, load_feedback, load_trials

ACTIVE = "active"
_encode = msgspec.json.encode
_STATUS_ENDS = [f'{status}"}}'.encode() for status in STATUSES]  # by status code


@dataclass
class CategoryFacts:
    """A category's index plus what candidates show beside their grade."""

    index: CategoryIndex
    # Published feedback per product: `snapshot.load_feedback` rows (count, means).
    feedback: dict[int, Any]
    service: dict[str, tuple[float | None, list[str]]]
    # Every product of the category as the API writes it (ProductRead JSON), by id.
    shown: dict[int, msgspec.Raw]
    vendor_of: dict[int, str]
    # Spec columns for product search, built the first time a search filters on the key.
    search_columns: dict[str, Any] = field(default_factory=dict)
    # What a candidate shows that does not depend on the reference, encoded on first use.
    _feedback_json: dict[int, msgspec.Raw] = field(default_factory=dict)
    _service_json: dict[str, msgspec.Raw] = field(default_factory=dict)
    # Per product position: the start of each spec's comparison as the API writes it
    # (`{"key":…,"critical":…,"candidate":…`), in definition order, encoded on first use.
    _spec_json: dict[int, list[bytes]] = field(default_factory=dict)
    # Per product: its trials encoded, and the reference each was run against.
    _trials_json: dict[int, tuple[list[msgspec.Raw], list[int | None]]] = field(
        default_factory=dict
    )

    def feedback_json(self, product_id: int) -> msgspec.Raw:
        """The product's published-feedback summary as the API writes it (FeedbackSummary)."""
        found = self._feedback_json.get(product_id)
        if found is None:
            summary = feedback_summary(self.feedback.get(product_id))
            found = self._feedback_json[product_id] = msgspec.Raw(msgspec.json.encode(summary))
        return found

    def service_json(self, product_id: int) -> msgspec.Raw:
        """The service figures of the product's vendor (ServiceFigures)."""
        vendor = self.vendor_of[product_id]
        found = self._service_json.get(vendor)
        if found is None:
            hours, regions = self.service.get(vendor, (None, []))
            figures = {"response_hours": hours, "regions": regions}
            found = self._service_json[vendor] = msgspec.Raw(msgspec.json.encode(figures))
        return found

    def comparisons_json(
        self, assessment: Assessment, positions: list[int]
    ) -> list[tuple[msgspec.Raw, list[str]]]:
        """For each product at `positions`, its spec-by-spec comparison with the reference
        (a list of SpecComparison, encoded) and its gaps, as `grading.grade` gives them."""
        definitions = self.index.definitions
        compared, rows = assessment.statuses(positions, definitions)
        reference = assessment.reference
        # What follows a candidate's value: the reference's value, then the status.
        after = [
            b',"reference":' + _encode(reference[definitions[i].key]) + b',"status":"'
            for i in compared
        ]
        gap_keys = [None if definitions[i].critical else definitions[i].key for i in compared]
        explained = []
        for position, codes in zip(positions, rows, strict=True):
            starts = self._spec_json.get(position)
            if starts is None:
                specs = self.index.specs[position]
                starts = self._spec_json[position] = [
                    b'{"key":%b,"critical":%b,"candidate":%b'
                    % (
                        _encode(d.key),
                        b"true" if d.critical else b"false",
                        _encode(specs.get(d.key)),
                    )
                    for d in definitions
                ]
            parts = [
                starts[i] + middle + _STATUS_ENDS[code]
                for i, middle, code in zip(compared, after, codes, strict=True)
            ]
            gaps = [key for key, code in zip(gap_keys, codes, strict=True) if key and code != MEETS]
            explained.append((msgspec.Raw(b"[" + b",".join(parts) + b"]"), gaps))
        return explained

    def trials_json(self, product_id: int, reference_id: int) -> list[msgspec.Raw]:
        """The product's trials as candidates show them (TrialEvidence), in `grading.grade`'s
        order: trials against this reference first, then the rest, newest first in each."""
        found = self._trials_json.get(product_id)
        if found is None:
            ordered = newest_first(self.index.trials.get(product_id, []))
            encoded = [msgspec.Raw(msgspec.json.encode(t.as_dict())) for t in ordered]
            found = self._trials_json[product_id] = (
                encoded,
                [t.reference_product_id for t in ordered],
            )
        encoded, against = found
        if reference_id not in against:
            return encoded  # shared: answers are encoded, never changed
        pairs = list(zip(against, encoded, strict=True))
        first = [raw for ref, raw in pairs if ref == reference_id]
        return first + [raw for ref, raw in pairs if ref != reference_id]


async def load_category_facts(session: AsyncSession, category_id: int) -> CategoryFacts:
    """Everything needed to grade the products of one category against any reference."""
    in_category = Product.category_id == category_id
    products = await product_dicts(await session.connection(), [in_category])
    definitions = list(as_spec_defs(await spec_rows(session, [category_id])).values())
    vendors = await session.execute(
        select(Vendor.slug, Vendor.response_hours, Vendor.service_regions).where(
            Vendor.id.in_(select(Product.vendor_id).where(in_category).scalar_subquery())
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
