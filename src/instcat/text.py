"""Search text: Chinese, English, aliases and pinyin (full and initials) folded into one string."""

import re
import unicodedata
from collections.abc import Iterable

from pypinyin import Style, lazy_pinyin

_HAN = re.compile(r"[\u3400-\u9fff]")
_SPACES = re.compile(r"\s+")


def fold(text: str) -> str:
    """Lower-case, width-folded, single-spaced text (ＮＭＲ and nmr match)."""
    return _SPACES.sub(" ", unicodedata.normalize("NFKC", text).casefold()).strip()


def pinyin_forms(text: str) -> list[str]:
    """Full pinyin and initials of the Chinese characters in `text` ('' when there are none)."""
    if not _HAN.search(text):
        return []
    syllables = [s for s in lazy_pinyin(text, errors="ignore") if s.strip()]
    initials = [s[0] for s in lazy_pinyin(text, style=Style.FIRST_LETTER, errors="ignore") if s]
    return ["".join(syllables), " ".join(syllables), "".join(initials)]


def search_text(parts: Iterable[str | None]) -> str:
    """The folded haystack for a record: every part, plus pinyin of its Chinese parts."""
    pieces: list[str] = []
    for part in parts:
        if not part:
            continue
        pieces.append(fold(part))
        pieces.extend(pinyin_forms(part))
    # A separator that no query contains keeps matches inside one part.
    return "|" + "|".join(pieces) + "|"


def query_forms(query: str) -> list[str]:
    """What a search query may match: itself, and without spaces (he ci → heci)."""
    folded = fold(query)
    forms = [folded]
    squeezed = folded.replace(" ", "")
    if squeezed != folded:
        forms.append(squeezed)
    return forms


def like_pattern(term: str) -> str:
    """A LIKE pattern for `term` anywhere, with LIKE's wildcards escaped (escape char '\\')."""
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"
