"""Search text folding: Chinese, English, aliases and pinyin."""

from instcat.text import fold, like_pattern, pinyin_forms, query_forms, search_text


def test_pinyin_forms_give_full_spaced_and_initials() -> None:
    assert pinyin_forms("核磁") == ["heci", "he ci", "hc"]
    assert pinyin_forms("NMR") == []


def test_search_text_holds_every_form_in_lower_case() -> None:
    haystack = search_text(["核磁共振波谱仪", "Nuclear Magnetic Resonance", None, "NMR"])
    for needle in ("核磁", "hecigongzhen", "hcgzbpy", "nuclear magnetic", "nmr"):
        assert needle in haystack


def test_full_width_and_case_fold_together() -> None:
    assert fold("ＮＭＲ  Spectrometer") == "nmr spectrometer"


def test_query_forms_also_try_without_spaces() -> None:
    assert query_forms("He Ci") == ["he ci", "heci"]


def test_like_wildcards_in_queries_are_literal() -> None:
    assert like_pattern("50%_x") == "%50\\%\\_x%"
