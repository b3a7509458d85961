"""All tables, imported so that the metadata knows them."""

from instcat.models.catalogue import (
    Category,
    MarketFigure,
    Product,
    ProductSpecValue,
    SpecDefinition,
    Vendor,
)
from instcat.models.users import AuditEvent, User

__all__ = [
    "AuditEvent",
    "Category",
    "MarketFigure",
    "Product",
    "ProductSpecValue",
    "SpecDefinition",
    "User",
    "Vendor",
]
