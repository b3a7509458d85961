"""The body checks on their own: bracket depth outside strings, repeated keys, JSON types."""

import pytest

from instcat.bodies import is_json_media_type, nested_too_deep, repeated_key


@pytest.mark.parametrize(
    ("body", "limit", "too_deep"),
    [
        (b"[[[]]]", 3, False),
        (b"[[[[]]]]", 3, True),
        (b'{"a": {"b": [1, {"c": []}]}}', 5, False),
        (b'{"a": {"b": [1, {"c": []}]}}', 4, True),
        (b'["[[[[[[", "]]]]"]', 1, False),  # brackets in strings are text
        (b'["\\"[[[[[[", 1]', 1, False),  # an escaped quote does not end the string
        (b'["\\\\", [[[]]]]', 3, True),  # an escaped backslash does: the brackets count
        (b"[]" * 10_000, 1, False),  # many brackets, one level
        (b"[" * 100_000, 32, True),  # not even JSON: still refused before any parsing
        (b"", 32, False),
    ],
)
def test_nesting_is_measured_outside_strings(body, limit, too_deep):
    assert nested_too_deep(body, limit) is too_deep


@pytest.mark.parametrize(
    ("body", "key"),
    [
        (b'{"name": "a", "name": "b"}', "name"),
        (b'{"a": 1, "b": {"c": 1, "d": 2, "c": 3}}', "c"),
        (b'[{"x": 1}, {"x": 2, "x": 3}]', "x"),
        (b'{"a": {"b": 1}, "c": {"b": 2}, "b": 3}', None),  # the same key in different objects
        (b'{"\\u006e": 1, "n": 2}', "n"),  # the same key, spelt differently
        (b'{"a": NaN}', None),
        (b'{"a": ', None),  # malformed: left to the decoder
        (b"[1, 2]", None),
    ],
)
def test_repeated_keys_are_found_in_any_object(body, key):
    assert repeated_key(body) == key


@pytest.mark.parametrize(
    ("media_type", "accepted"),
    [
        ("application/json", True),
        ("APPLICATION/JSON", True),
        ("application/merge-patch+json", True),
        ("application/vnd.instcat+json", True),
        ("text/json", False),
        ("text/plain", False),
        ("application/jsonp", False),
        ("application/x-www-form-urlencoded", False),
        ("", False),
    ],
)
def test_json_media_types(media_type, accepted):
    assert is_json_media_type(media_type) is accepted
