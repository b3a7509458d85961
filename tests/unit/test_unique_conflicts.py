"""Only the named unique constraint's refusal becomes a 409; other integrity errors pass."""

import sqlite3
from types import SimpleNamespace

import pytest
from sqlalchemy.exc import IntegrityError

from instcat.common import unique_or_conflict
from instcat.errors import Conflict


def _postgres(sqlstate: str, constraint: str | None) -> Exception:
    error = Exception("from the server")
    error.sqlstate = sqlstate  # type: ignore[attr-defined]
    error.diag = SimpleNamespace(constraint_name=constraint)  # type: ignore[attr-defined]
    return error


def _raised(cause: Exception) -> None:
    with unique_or_conflict("product", ["vendor_id", "model"], "taken"):
        raise IntegrityError("INSERT ...", {}, cause)


@pytest.mark.parametrize(
    "cause",
    [
        sqlite3.IntegrityError("UNIQUE constraint failed: product.vendor_id, product.model"),
        _postgres("23505", "uq_product_vendor_id_model"),
    ],
    ids=["sqlite", "postgresql"],
)
def test_the_constraint_named_is_a_conflict(cause):
    with pytest.raises(Conflict, match="taken"):
        _raised(cause)


@pytest.mark.parametrize(
    "cause",
    [
        sqlite3.IntegrityError("UNIQUE constraint failed: vendor.slug"),
        sqlite3.IntegrityError("NOT NULL constraint failed: product.model"),
        sqlite3.IntegrityError("FOREIGN KEY constraint failed"),
        _postgres("23505", "uq_vendor_slug"),
        _postgres("23502", None),
        _postgres("23503", "fk_product_vendor_id_vendor"),
    ],
)
def test_any_other_integrity_error_is_raised_as_it_is(cause):
    with pytest.raises(IntegrityError):
        _raised(cause)
