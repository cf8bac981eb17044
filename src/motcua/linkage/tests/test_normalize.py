"""Vietnamese name normalisation: tone placement, folding, family names, name keys."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from motcua.linkage.normalize import (
    FAMILY_GROUPS,
    FAMILY_NAMES,
    NameKeys,
    canonical,
    family_group,
    fold,
    name_keys,
)

GRAVE, ACUTE, TILDE, HOOK, DOT = "\u0300", "\u0301", "\u0303", "\u0309", "\u0323"
TONES = (GRAVE, ACUTE, TILDE, HOOK, DOT)


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def nfd(text: str) -> str:
    return unicodedata.normalize("NFD", text)


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("hoà", "hòa"),
        ("hòa", "hòa"),
        ("thuý", "thúy"),
        ("thúy", "thúy"),
        ("khoẻ", "khỏe"),
        ("Khỏe", "khỏe"),
        ("hoài", "hoài"),
        ("hòai", "hoài"),
        ("khủyu", "khuỷu"),
        ("ngọeo", "ngoẹo"),
        ("hòang", "hoàng"),
        ("thúyêt", "thuyết"),
        ("huỳnh", "huỳnh"),
        ("Qùynh", "quỳnh"),
        ("quý", "quý"),
        ("gịưa", "giựa"),
        ("giũa", "giũa"),
        ("gìa", "già"),
        ("gì", "gì"),
        ("ngừơi", "người"),
        ("rựơu", "rượu"),
        ("Ngùyên", "nguyền"),
        ("nguyễn", "nguyễn"),
        ("Nguỹên", "nguyễn"),
        ("quốc", "quốc"),
        ("thủơ", "thuở"),
    ],
)
def test_canonical_places_the_tone_old_style(typed: str, expected: str) -> None:
    assert canonical(typed) == nfc(expected)


def test_hoa_thuy_khoe_in_both_styles_are_the_same() -> None:
    assert canonical("hòa") == canonical("hoà")
    assert canonical("thúy") == canonical("thuý")
    assert canonical("Khỏe") == canonical("khoẻ")


def test_giua_and_quynh_keep_their_initials() -> None:
    assert canonical("giữa") == "giữa"
    assert canonical("Quỳnh") == "quỳnh"
    assert canonical("Giang") == "giang"


def test_upper_case_input_gets_the_same_placement() -> None:
    assert canonical("HOÀ") == "hòa"
    assert canonical("THUÝ") == "thúy"
    assert canonical("NGUYỄN THỊ KHOẺ") == "nguyễn thị khỏe"
    assert canonical("NGƯỜI") == "người"


def test_nfd_input_equals_nfc_input() -> None:
    for name in ("Nguyễn Văn Hoà", "Trần Thị Thuý Quỳnh", "Đặng Đình Đức", "người"):
        assert canonical(nfd(name)) == canonical(nfc(name))
        assert unicodedata.is_normalized("NFC", canonical(nfd(name)))


def test_whitespace_and_case() -> None:
    assert canonical("  NGUYỄN\t văn \n  An  ") == "nguyễn văn an"
    assert canonical("") == ""
    assert canonical("   ") == ""


def test_non_vietnamese_tokens_are_left_alone() -> None:
    assert canonical("Marie-Claire 42") == "marie-claire 42"
    assert canonical("Đắk Lắk") == "đắk lắk"
    assert canonical("café") == "café"  # no Vietnamese cluster "é" with final "f"
    assert canonical("(hoà),") == "(hòa),"


def test_fold_removes_marks_and_d_bar() -> None:
    assert fold("Đặng Đình Đức") == "dang dinh duc"
    assert fold("  NGUYỄN  Thị   Hoà ") == "nguyen thi hoa"
    assert fold("hòa") == fold("hoà") == "hoa"


def test_name_keys_of_a_three_word_name() -> None:
    assert name_keys("Nguyễn Văn An") == NameKeys(
        accented="nguyễn văn an",
        folded="nguyen van an",
        family="nguyen",
        middle="van",
        given="an",
        given_accented="an",
        family_group="nguyen",
        sorted_tokens="an nguyen van",
    )


def test_name_keys_of_a_long_name_has_all_middle_words() -> None:
    keys = name_keys("Tôn Nữ Thị Thuý Hằng")
    assert (keys.family, keys.middle, keys.given) == ("ton", "nu thi thuy", "hang")
    assert keys.given_accented == "hằng"
    assert keys.accented == "tôn nữ thị thúy hằng"


def test_name_keys_of_a_two_word_name() -> None:
    keys = name_keys("Lê Hoà")
    assert (keys.family, keys.middle, keys.given) == ("le", "", "hoa")
    assert keys.given_accented == "hòa"
    assert keys.family_group == "le"


def test_name_keys_of_a_one_word_name() -> None:
    keys = name_keys("Hoà")
    assert (keys.family, keys.middle, keys.given) == ("", "", "hoa")
    assert keys.accented == "hòa"
    assert keys.family_group == ""
    assert keys.sorted_tokens == "hoa"


def test_blank_name_gives_empty_keys() -> None:
    assert name_keys("") == name_keys("  \t ") == NameKeys("", "", "", "", "", "", "", "")


def test_family_name_last_is_rotated_to_the_front() -> None:
    assert name_keys("Văn An Nguyễn") == name_keys("Nguyễn Văn An")
    assert name_keys("VĂN AN NGUYỄN") == name_keys("nguyễn văn an")
    assert name_keys("Thị Thuý Hằng Lê").accented == "lê thị thúy hằng"


def test_a_given_name_that_is_a_family_name_is_not_rotated() -> None:
    keys = name_keys("Nguyễn Thị Mai")
    assert (keys.family, keys.middle, keys.given) == ("nguyen", "thi", "mai")
    assert name_keys("Lò Văn Sơn").family == "lo"


def test_family_groups_join_northern_and_southern_spellings() -> None:
    assert family_group(name_keys("Huỳnh Văn Ba").family) == family_group("hoang") == "hoang"
    assert family_group("vo") == family_group("vu") == "vu"
    assert name_keys("Võ Thị Sáu").family_group == name_keys("Vũ Thị Sáu").family_group
    assert family_group("nguyen") == "nguyen"
    assert family_group("unlisted") == "unlisted"
    assert set(FAMILY_GROUPS) == FAMILY_NAMES


def test_family_names_are_folded() -> None:
    assert all(name == fold(name) for name in FAMILY_NAMES)
    assert {"nguyen", "tran", "le", "huynh", "hoang", "vo", "vu"} <= FAMILY_NAMES
    assert not {"thi", "van"} & FAMILY_NAMES


def test_sorted_tokens_ignore_word_order() -> None:
    assert name_keys("An Nguyễn Văn").sorted_tokens == "an nguyen van"
    assert name_keys("Nguyễn Văn An").sorted_tokens == "an nguyen van"


# --- Properties -------------------------------------------------------------------------------

_VIETNAMESE_LETTERS = sorted(
    {nfc(base + tone) for base in "aăâeêioôơuưy" for tone in ("", *TONES)}
    | set("bcdđghklmnpqrstvx")
)
vietnamese_text = st.text(
    alphabet=st.sampled_from(
        _VIETNAMESE_LETTERS + [c.upper() for c in _VIETNAMESE_LETTERS] + [" ", "\t"]
    ),
    max_size=30,
)
any_text = st.one_of(vietnamese_text, st.text(max_size=30), vietnamese_text.map(nfd))


@given(any_text)
def test_canonical_is_idempotent(text: str) -> None:
    assert canonical(canonical(text)) == canonical(text)


@given(any_text)
def test_canonical_is_nfc(text: str) -> None:
    assert unicodedata.is_normalized("NFC", canonical(text))


@given(vietnamese_text)
def test_fold_ignores_canonicalisation(text: str) -> None:
    assert fold(canonical(text)) == fold(text)


_INITIALS = ["", "b", "ch", "đ", "h", "kh", "l", "ng", "nh", "s", "t", "th", "tr", "x"]
_FINALS = ["", "", "c", "ch", "n", "ng", "nh", "t"]  # open syllables twice as likely


@given(
    initial=st.sampled_from(_INITIALS),
    cluster=st.sampled_from(["oa", "oe", "uy"]),
    final=st.sampled_from(_FINALS),
    tone=st.sampled_from(TONES),
    upper=st.booleans(),
)
def test_tone_position_in_oa_oe_uy_does_not_matter(
    initial: str, cluster: str, final: str, tone: str, upper: bool
) -> None:
    on_first = nfc(initial + cluster[0] + tone + cluster[1] + final)
    on_second = nfc(initial + cluster + tone + final)
    if upper:
        on_first, on_second = on_first.upper(), on_second.upper()
    assert canonical(on_first) == canonical(on_second)
    # Old style: the first vowel in an open syllable, the last one before a final consonant.
    expected = on_second if final else on_first
    assert canonical(on_first) == expected.lower()


@pytest.mark.parametrize(
    ("name", "family", "given"),
    [
        ("Nguyễb Thị Thảo", "nguyeb", "thao"),  # a typo in the family name is not a reordering
        ("Pahn Thị Hậu", "pahn", "hau"),
        ("Bli Hữu Nguyên", "bli", "nguyen"),  # Nguyên is a given name too
        ("Thị Thảo Nguyễn", "nguyen", "thao"),
    ],
)
def test_only_a_common_family_name_written_last_is_moved(
    name: str, family: str, given: str
) -> None:
    keys = name_keys(name)
    assert (keys.family, keys.given) == (family, given)
