"""Spec checking and spec-filter parsing, on plain values."""

import pytest

from instcat.catalogue.specs import SpecDef, check_specs, direction_problem, parse_filters

DEFS = {
    "max_pressure_bar": SpecDef("max_pressure_bar", "number", "higher_better", True, "bar"),
    "detectors": SpecDef("detectors", "set", "includes"),
    "column_oven": SpecDef("column_oven", "text", "equals"),
}


def test_valid_specs_have_no_errors() -> None:
    specs = {"max_pressure_bar": 600, "detectors": ["UV", "DAD"], "column_oven": "yes"}
    assert check_specs(DEFS, specs) == []


@pytest.mark.parametrize(
    ("specs", "field"),
    [
        ({"nope": 1}, "specs.nope"),
        ({"max_pressure_bar": "600"}, "specs.max_pressure_bar"),
        ({"max_pressure_bar": True}, "specs.max_pressure_bar"),
        ({"max_pressure_bar": float("inf")}, "specs.max_pressure_bar"),
        ({"detectors": "UV"}, "specs.detectors"),
        ({"detectors": [1, 2]}, "specs.detectors"),
        ({"column_oven": 3}, "specs.column_oven"),
    ],
)
def test_wrong_specs_name_the_field(specs: dict, field: str) -> None:
    errors = check_specs(DEFS, specs)
    assert [f for f, _message in errors] == [field]


def test_directions_must_fit_the_kind() -> None:
    assert direction_problem("number", "higher_better") is None
    assert direction_problem("set", "includes") is None
    assert direction_problem("number", "includes") is not None
    assert direction_problem("text", "lower_better") is not None


def test_filters_parse_numbers_and_sets() -> None:
    filters, errors = parse_filters(
        [
            ("spec.max_pressure_bar.gte", "600"),
            ("spec.detectors.includes", "UV, DAD"),
            ("q", "ignored"),
        ],
        DEFS,
    )
    assert errors == []
    assert [(f.key, f.op, f.number, f.values) for f in filters] == [
        ("max_pressure_bar", "gte", 600.0, ()),
        ("detectors", "includes", None, ("uv", "dad")),
    ]


@pytest.mark.parametrize(
    "param",
    [
        ("spec.unknown.gte", "1"),
        ("spec.max_pressure_bar.between", "1"),
        ("spec.max_pressure_bar.gte", "abc"),
        ("spec.max_pressure_bar.gte", "nan"),
        ("spec.max_pressure_bar.includes", "1"),
        ("spec.detectors.gte", "1"),
        ("spec.detectors.includes", " , "),
        ("spec.max_pressure_bar", "1"),
    ],
)
def test_bad_filters_are_errors_naming_the_parameter(param: tuple[str, str]) -> None:
    filters, errors = parse_filters([param], DEFS)
    assert filters == []
    assert errors[0][0] == param[0]
