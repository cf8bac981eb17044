"""Vietnamese name keys for record linkage: one spelling of each name, whatever the keyboard.

The same name reaches us typed in many ways: "Hoà" or "Hòa" (new- or old-style tone placement),
NFC or NFD, upper or lower case, family name first or last. `canonical` removes the differences
that do not change the name; `fold` drops all marks for the accent-free comparison; `name_keys`
splits a full name into the keys the linkage model compares. Pure functions, no Django.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Final

from motcua.core.text import fold as _fold_text

# --- Tone placement ---------------------------------------------------------------------------

# The five tone marks as combining characters (NFD); the level tone has none.
_TONE_MARKS: Final = frozenset("\u0300\u0301\u0303\u0309\u0323")

_VOWELS: Final = frozenset("aăâeêioôơuưy")
# Vowels carrying a shape mark (breve, circumflex, horn) always take the tone in their cluster.
_SHAPED_VOWELS: Final = frozenset("ăâêôơư")


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


_NO_CONSONANT: Final = frozenset([""])  # an initial or final may be missing: ăn, hoa
_INITIALS: Final = _NO_CONSONANT | _words(
    "b c ch d đ g gh gi h k kh l m n ng ngh nh p ph qu r s t th tr v x"
)
# "k" only for place names of the Central Highlands (Đắk Lắk); harmless elsewhere.
_FINALS: Final = _NO_CONSONANT | _words("c ch k m n ng nh p t")

# Vowel clusters (tone removed) we know how to place a tone in; anything else is left alone.
_CLUSTERS: Final = _VOWELS | _words(
    "ai ao au ay âu ây eo êu ia iê iu oa oă oe oi oo ôi ơi ua uâ uê ui uô uơ uy ưa ưi ươ ưu yê"
    " oai oao oay oeo iêu yêu uôi ươi ươu uya uyê uyu uây"
)

# A syllable inside a token: letters plus any combining marks NFC could not compose.
_SYLLABLE: Final = re.compile(r"(?:[^\W\d_]|[\u0300-\u036f])+")


def _split_syllable(bare: str) -> tuple[str, str, str] | None:
    """(initial, vowel cluster, final) of a toneless lower-case syllable, None if not Vietnamese."""
    start = 0
    while start < len(bare) and bare[start] not in _VOWELS:
        start += 1
    # "qu" and "gi" are initial consonants when another vowel follows: quý, giữa (but gì).
    if bare[start + 1 : start + 2] in _VOWELS and bare[: start + 1] in ("qu", "gi"):
        start += 1
    end = start
    while end < len(bare) and bare[end] in _VOWELS:
        end += 1
    initial, cluster, final = bare[:start], bare[start:end], bare[end:]
    if initial in _INITIALS and cluster in _CLUSTERS and final in _FINALS:
        return initial, cluster, final
    return None


def _tone_index(cluster: str, final: str) -> int:
    """Where the tone goes in a vowel cluster, old style: hòa, thúy, hoàng, người, hoài."""
    shaped = [i for i, vowel in enumerate(cluster) if vowel in _SHAPED_VOWELS]
    if shaped:
        return shaped[-1]  # ươ takes it on the ơ: người, rượu
    if final:
        return len(cluster) - 1  # hoàng, huỳnh, toán
    if len(cluster) == 3:
        return 1  # hoài, khuỷu, ngoẹo
    return 0  # open oa, oe, uy, ai, ia, ua...: hòa, khỏe, thúy, mía, múa


def _place_tone(syllable: str) -> str:
    """`syllable` (NFC, lower case) with its one tone mark moved to the canonical vowel."""
    decomposed = unicodedata.normalize("NFD", syllable)
    tones = [c for c in decomposed if c in _TONE_MARKS]
    if len(tones) != 1:
        return syllable  # no tone to move, or garbage we should not guess at
    bare = unicodedata.normalize("NFC", decomposed.replace(tones[0], ""))
    parts = _split_syllable(bare)
    if parts is None:
        return syllable
    initial, cluster, final = parts
    at = len(initial) + _tone_index(cluster, final)
    return unicodedata.normalize("NFC", bare[: at + 1] + tones[0] + bare[at + 1 :])


def _raw_tokens(text: str) -> list[str]:
    # Compose after case folding: NFD input, and a few case mappings, leave decomposed letters.
    return unicodedata.normalize("NFC", text.casefold()).split()


@lru_cache(maxsize=1 << 18)
def _canonical_token(token: str) -> str:
    # Cached: names reuse a few thousand syllables, so this runs once per distinct token.
    if token.isascii():
        return token  # no marks at all, nothing to move
    return _SYLLABLE.sub(lambda m: _place_tone(m.group()), token)


def canonical(text: str) -> str:
    """NFC, case-folded, single-spaced, tones in the old-style place: "HOÀ  Thuý" -> "hòa thúy"."""
    return " ".join([_canonical_token(token) for token in _raw_tokens(text)])


def fold(text: str) -> str:
    """Accent-free key: "Đặng  Đình Đức" -> "dang dinh duc".

    All marks go, so where the tone sat does not matter and canonicalising first would be wasted
    work: fold(canonical(x)) == fold(x).
    """
    return _fold_text(text)


# --- Family names -----------------------------------------------------------------------------

# Folded. Kinh names first, then names of the Hoa, Tày, Nùng, Thái, Mường, H'Mông, Dao, Khmer,
# Chăm and Central Highlands peoples. Completeness matters more than rarity: a family name missing
# here, followed by a given name that is listed (Mai, Sơn, Hà...), would be rotated by mistake.
# Left out on purpose because they are far more common as middle or given names: thi, van, an,
# quang, hong, cong, phuong, nhu, bang, trang, tan.
FAMILY_NAMES: Final[frozenset[str]] = _words(
    """
    nguyen tran le pham hoang huynh phan vu vo dang bui do ho ngo duong ly dinh dao doan
    truong lam mai trinh cao luong ha ta phung luu chau to vuong thai quach kieu la tang trieu
    chu giang dam than nghiem mac khuc hua ton tu lac thach danh son kim vang sung thao mua
    hau ma au bach banh be cam can chung cu cung dau diep dong giap han khong khuat khuong kha
    khuu lai lanh lo lu luc mach man nguy nham ninh nong ong on phi pho quan sam thieu tieu
    tiet tong ung uong vi xa tao lau chao ban ksor siu nay rmah nie eban mlo kpa bya
    """
)

# Huỳnh and Võ are the southern spellings of Hoàng and Vũ (a naming taboo under the Nguyễn lords),
# so records of one family can carry either.
_SPELLING_VARIANTS: Final[Mapping[str, str]] = {"huynh": "hoang", "vo": "vu"}
FAMILY_GROUPS: Final[Mapping[str, str]] = {
    name: _SPELLING_VARIANTS.get(name, name) for name in FAMILY_NAMES
}


def family_group(folded_family: str) -> str:
    """The spelling group of a folded family name: "huynh" -> "hoang"; unknown names are their
    own group."""
    return FAMILY_GROUPS.get(folded_family, folded_family)


# --- Name keys --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class NameKeys:
    accented: str  # canonical full name, family name first
    folded: str
    family: str  # folded; "" for a one-word name
    middle: str  # folded words between family and given name, space-joined; may be ""
    given: str  # folded last word
    given_accented: str
    family_group: str
    sorted_tokens: str  # folded words sorted: the same for any word order


_EMPTY_KEYS: Final = NameKeys("", "", "", "", "", "", "", "")


@lru_cache(maxsize=1 << 18)
def _token_forms(token: str) -> tuple[str, str] | None:
    """(canonical, folded) of a raw token; None for one that folds to nothing (a lone mark)."""
    accented = _canonical_token(token)
    folded = _fold_text(accented)
    return (accented, folded) if folded else None


# Family names common enough that one found last means the name was written family-last; rarer
# ones are too often given names (Mai, Sơn, Thảo, Tư...).
COMMON_FAMILY_NAMES: Final[frozenset[str]] = _words(
    "nguyen tran le pham hoang huynh phan vu vo dang bui do ho ngo duong ly"
)


def _family_written_last(folded: list[str]) -> bool:
    """Some sector data writes the family name last ("Văn An Nguyễn"). A first word that is,
    or is one slip away from, a common family name ("Nguyễb Thị Thảo") keeps the name as it is."""
    first, last = folded[0], folded[-1]
    return (
        len(folded) > 1
        and last in COMMON_FAMILY_NAMES
        and first not in FAMILY_NAMES
        and not any(_at_most_one_edit(first, name) for name in COMMON_FAMILY_NAMES)
    )


def _at_most_one_edit(a: str, b: str) -> bool:
    """Damerau-Levenshtein distance ≤ 1: equal, or one substitution, insertion, deletion or
    swap of neighbours."""
    if abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        diffs = [i for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y]
        return len(diffs) <= 1 or (
            len(diffs) == 2
            and diffs[1] == diffs[0] + 1
            and a[diffs[0]] == b[diffs[1]]
            and a[diffs[1]] == b[diffs[0]]
        )
    shorter, longer = sorted((a, b), key=len)
    return any(longer[:i] + longer[i + 1 :] == shorter for i in range(len(longer)))


@lru_cache(maxsize=1 << 20)
def name_keys(full_name: str) -> NameKeys:
    """Keys of a full name: "Văn An Nguyễn" and "NGUYỄN VĂN AN" give those of "Nguyễn Văn An"."""
    forms = [f for token in _raw_tokens(full_name) if (f := _token_forms(token)) is not None]
    if not forms:
        return _EMPTY_KEYS
    if _family_written_last([f for _, f in forms]):
        forms.insert(0, forms.pop())
    words, folded = zip(*forms, strict=True)
    family = folded[0] if len(folded) > 1 else ""
    return NameKeys(
        accented=" ".join(words),
        folded=" ".join(folded),
        family=family,
        middle=" ".join(folded[1:-1]),
        given=folded[-1],
        given_accented=words[-1],
        family_group=family_group(family),
        sorted_tokens=" ".join(sorted(folded)),
    )
