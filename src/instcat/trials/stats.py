"""The statistics stored with a trial's paired results."""

from typing import Any

from instcat.trials.schemas import PairedIn


def paired_statistics(paired: PairedIn) -> dict[str, Any] | None:
    """Method-comparison statistics of the paired results (None when they cannot be computed)."""
    from instcat.substitution.statistics import StatisticsError, compare_methods

    try:
        return compare_methods(paired.candidate, paired.reference, paired.margin).as_dict()
    except StatisticsError:
        return None


def equivalent_of(statistics: dict[str, Any] | None) -> bool | None:
    """The TOST verdict in stored statistics (None when they could not be computed)."""
    if not statistics:
        return None
    return bool(statistics.get("tost", {}).get("equivalent"))


def paired_columns(paired: PairedIn | None) -> dict[str, Any]:
    """The trial columns that follow from its paired results (or from having none)."""
    if paired is None:
        return {"paired": None, "statistics": None, "has_paired": False, "equivalent": None}
    statistics = paired_statistics(paired)
    return {
        "paired": paired.model_dump(),
        "statistics": statistics,
        "has_paired": True,
        "equivalent": equivalent_of(statistics),
    }
