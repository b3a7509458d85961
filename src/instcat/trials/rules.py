"""What a trial's dates and reference product must satisfy (400s naming the field)."""

from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

from instcat.catalogue.vendors import DOMESTIC_COUNTRY
from instcat.errors import InvalidInput

# China keeps UTC+8 all year (no daylight saving), so a fixed offset is exact and needs
# no time-zone database on the server.
CHINA = timezone(timedelta(hours=8), "Asia/Shanghai")


def china_today() -> date:
    """Today's date in China."""
    return datetime.now(UTC).astimezone(CHINA).date()


def check_dates(started: date, ended: date, *, ended_changed: bool = True) -> None:
    """A trial ends no later than today (in China) and does not end before it starts."""
    if ended_changed and ended > (today := china_today()):
        raise InvalidInput.field(
            "ended_on", f"must not be after today's date in China ({today.isoformat()})"
        )
    if started > ended:
        raise InvalidInput(
            "started_on: must not be after ended_on",
            [
                ("started_on", f"must not be after ended_on ({ended.isoformat()})"),
                ("ended_on", f"must not be before started_on ({started.isoformat()})"),
            ],
        )


def check_reference(product: Any, reference: Any, reference_id: int) -> None:
    """The reference (None: not found) must be another, imported product of the same category.

    `product` and `reference` carry `id`, `category_id` and `country` (their vendor's);
    imported means not domestic under the vendor rule (the vendor's country is not CN).
    """
    if reference is None:
        raise InvalidInput.field("reference_product_id", f"unknown product {reference_id}")
    if reference.id == product.id:
        raise InvalidInput.field("reference_product_id", "a product cannot be its own reference")
    if reference.category_id != product.category_id:
        raise InvalidInput.field(
            "reference_product_id", "the reference must be in the product's category"
        )
    if reference.country == DOMESTIC_COUNTRY:
        raise InvalidInput.field(
            "reference_product_id",
            "the reference must be an imported product (its vendor is not in China)",
        )
