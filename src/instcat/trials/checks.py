"""Metric checks: whether a candidate value meets its acceptance criterion (pure)."""

NEEDS_REFERENCE = ("abs_diff_le", "rel_diff_le_pct")


def criterion_problem(op: str, reference: float | None) -> str | None:
    """Why a criterion cannot be evaluated against this reference value, or None."""
    if op in NEEDS_REFERENCE and reference is None:
        return f"criterion {op} needs a reference value"
    if op == "rel_diff_le_pct" and reference == 0:
        return "rel_diff_le_pct cannot be computed against a reference of 0"
    return None


def check_passed(op: str, value: float, candidate: float, reference: float | None) -> bool:
    """Evaluate one criterion: le / ge on the candidate, or its distance from the reference."""
    if op == "le":
        return candidate <= value
    if op == "ge":
        return candidate >= value
    if reference is None:
        raise ValueError(f"criterion {op} needs a reference value")
    difference = abs(candidate - reference)
    if op == "abs_diff_le":
        return difference <= value
    if op == "rel_diff_le_pct":
        if reference == 0:
            raise ValueError("rel_diff_le_pct cannot be computed against a reference of 0")
        return difference / abs(reference) * 100 <= value
    raise ValueError(f"unknown criterion {op!r}")
