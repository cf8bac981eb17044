"""Text keys shared by every app: what "the same text" means for search."""

from __future__ import annotations

import unicodedata

# Đ has no decomposition in Unicode, so stripping combining marks alone would keep it.
_LETTERS_WITHOUT_DECOMPOSITION = str.maketrans({"đ": "d", "Đ": "d"})


def fold(text: str) -> str:
    """Accent-free, lower-case, single-spaced: "Đăng  ký Khai sinh" -> "dang ky khai sinh"."""
    decomposed = unicodedata.normalize("NFD", text.translate(_LETTERS_WITHOUT_DECOMPOSITION))
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(bare.casefold().split())


def nfc(text: str) -> str:
    """Text is stored in NFC, whatever the browser or keyboard sent."""
    return unicodedata.normalize("NFC", text).strip()
