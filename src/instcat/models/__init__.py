"""All tables, imported so that the metadata knows them."""

from instcat.models.catalogue import (
    Category,
    MarketFigure,
    Product,
    ProductSpecValue,
    SpecDefinition,
    Vendor,
)
from instcat.models.feedback import Feedback, IdempotencyRecord
from instcat.models.lists import (
    SubstitutionEntry,
    SubstitutionList,
    SubstitutionReference,
    SubstitutionVendor,
)
from instcat.models.revision import DataRevision
from instcat.models.trials import Trial, TrialCheck, TrialReview
from instcat.models.users import AuditEvent, User

__all__ = [
    "AuditEvent",
    "Category",
    "DataRevision",
    "Feedback",
    "IdempotencyRecord",
    "MarketFigure",
    "Product",
    "ProductSpecValue",
    "SpecDefinition",
    "SubstitutionEntry",
    "SubstitutionList",
    "SubstitutionReference",
    "SubstitutionVendor",
    "Trial",
    "TrialCheck",
    "TrialReview",
    "User",
    "Vendor",
]
