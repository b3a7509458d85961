"""What every part of the generator shares: the anchor date, names, the error."""

from datetime import UTC, datetime

# Generated timestamps and dates lie before this moment, so a seed always gives the same data.
ANCHOR = datetime(2026, 6, 30, 12, tzinfo=UTC)
SYNTHETIC_PREFIX = "syn-"
NOTE = "Synthetic record for load and scale testing; not a real company, product or figure."
