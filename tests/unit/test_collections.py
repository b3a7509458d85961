"""Loaded indexes are kept out of the cyclic collector's passes without keeping garbage."""

import gc
import weakref
from collections.abc import Iterator

import pytest

from instcat.substitution import service
from instcat.substitution.service import keep_out_of_collections


class Node:
    """An object in a reference cycle: only the cyclic collector frees it."""

    def __init__(self) -> None:
        self.me = self


@pytest.fixture(autouse=True)
def fresh_state(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(service, "_collections", service._Collections())
    yield
    gc.unfreeze()
    gc.collect()


def test_garbage_is_collected_before_the_rest_is_frozen() -> None:
    keep_out_of_collections(loaded=1000, held=1000)  # the first load: a full pass
    dropped = weakref.ref(Node())
    kept = Node()
    keep_out_of_collections(loaded=10, held=1010)
    assert dropped() is None
    # Frozen: in none of the generations the collector passes over.
    assert not any(found is kept for found in gc.get_objects())


def test_cycles_dropped_after_freezing_wait_for_the_next_full_pass() -> None:
    keep_out_of_collections(loaded=1000, held=1000)
    frozen = Node()
    keep_out_of_collections(loaded=10, held=1010)  # `frozen` is frozen now
    dropped = weakref.ref(frozen)
    del frozen
    gc.collect()
    assert dropped() is not None  # frozen: no pass looks at it
    keep_out_of_collections(loaded=500, held=1510)  # 510 loaded since the full pass
    assert dropped() is not None
    keep_out_of_collections(loaded=600, held=2110)  # 1,110 > the 1,000 held then
    assert dropped() is None
