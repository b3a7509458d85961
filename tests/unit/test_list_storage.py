"""The packed integers of stored list entries: mask widths and the base64 round trip."""

import json

import msgspec
import numpy as np
import pytest

from instcat.substitution.compact import REFERENCE_ID, mask_type, unpacked


@pytest.mark.parametrize(
    ("keys", "width"), [(0, 1), (1, 1), (8, 1), (9, 2), (16, 2), (17, 4), (32, 4), (33, 8), (64, 8)]
)
def test_a_gap_mask_takes_the_narrowest_width_that_holds_every_key(keys: int, width: int) -> None:
    dtype = mask_type(keys)
    assert dtype.itemsize == width and dtype.kind == "u"
    if keys:
        highest = 1 << (keys - 1)
        assert int(np.array([highest], dtype=np.uint64).astype(dtype)[0]) == highest


@pytest.mark.parametrize("keys", [3, 12, 20, 40])
def test_packed_masks_and_ids_come_back_through_json(keys: int) -> None:
    rng = np.random.default_rng(keys)
    masks = rng.integers(0, 1 << keys, size=57, dtype=np.int64)
    ids = rng.integers(1, 2**31 - 1, size=57)
    stored = msgspec.json.encode(
        {
            "references": ids.astype(REFERENCE_ID).tobytes(),
            "gaps": masks.astype(mask_type(keys)).tobytes(),
        }
    )
    read = json.loads(stored)  # as the database driver hands it back
    assert unpacked(read["references"], REFERENCE_ID) == ids.tolist()
    assert unpacked(read["gaps"], mask_type(keys)) == masks.tolist()


def test_nothing_packed_is_an_empty_list() -> None:
    assert unpacked(msgspec.json.decode(msgspec.json.encode(b"")), REFERENCE_ID) == []
