"""The statistics stored with a trial's paired results."""

from typing import Any

from instcat.errors import InvalidInput
from instcat.trials.schemas import PairedIn


def paired_statistics(paired: PairedIn) -> dict[str, Any]:
    """Method-comparison statistics of the paired results.

    Values the statistics cannot be computed from (their differences, SD or an interval
    would overflow or underflow) are a 400 naming `paired`: only finite statistics are
    stored. Parts that are merely undefined for the data are nulls explained in `notes`.
    """
    # Imported here: scipy is only loaded once a trial with paired results needs it.
    from instcat.stats import StatisticsError, compare_methods

    try:
        return compare_methods(paired.candidate, paired.reference, paired.margin).as_dict()
    except StatisticsError as refused:
        raise InvalidInput.field("paired", str(refused)) from None


def equivalent_of(statistics: dict[str, Any] | None) -> bool | None:
    """The TOST verdict in stored statistics (None when there are none)."""
    if not statistics:
        return None
    return bool(statistics.get("tost", {}).get("equivalent"))


def evidence_columns(statistics: dict[str, Any] | None) -> dict[str, Any]:
    """The trial columns grading reads, from stored statistics (None: there are none)."""
    if not statistics:
        return {
            "equivalent": None,
            "pair_count": None,
            "proportional_bias": None,
            "constant_bias": None,
            "linear": None,
        }
    regression = statistics.get("passing_bablok") or {}
    linearity = regression.get("linearity") or {}
    return {
        "equivalent": equivalent_of(statistics),
        "pair_count": statistics.get("n"),
        "proportional_bias": statistics.get("proportional_bias"),
        "constant_bias": statistics.get("constant_bias"),
        "linear": linearity.get("linear"),
    }


def paired_columns(paired: PairedIn | None) -> dict[str, Any]:
    """The trial columns that follow from its paired results (or from having none)."""
    if paired is None:
        return {"paired": None, "statistics": None, "has_paired": False, **evidence_columns(None)}
    statistics = paired_statistics(paired)
    return {
        "paired": paired.model_dump(),
        "statistics": statistics,
        "has_paired": True,
        **evidence_columns(statistics),
    }
