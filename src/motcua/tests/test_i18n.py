"""Every word a person reads goes through gettext, and the English catalog has them all.

Three checks: templates hold no text outside {% translate %} / {% blocktranslate %}; the modules
that speak to people (views, forms, services, selectors, API, models, ...) hold no Vietnamese
literal outside gettext and hand no bare literal to an error or a message; and xgettext run over
the source (Django's makemessages, on a copy) finds no msgid without its English translation."""

from __future__ import annotations

import ast
import re
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import polib
import pytest
from django.template.base import Lexer, TokenType

SRC = Path(__file__).resolve().parents[1]
TEMPLATES = sorted(p for p in SRC.glob("**/templates/**/*.html") if "/tests/" not in str(p))

# Words that are the same in every language: names of the platform and of standards.
NAMES = {"Motcua", "OpenID", "Connect", "API", "JSON", "PDF", "CSV", "Excel", "QR", "TOTP", "VNeID"}
WORD = re.compile(r"[^\W\d_]{2,}")
HUMAN_ATTRIBUTES = {"alt", "title", "placeholder", "aria-label", "data-confirm", "content"}
# Letters that only Vietnamese text uses (with the plain vowels, they spell a Vietnamese word).
VIETNAMESE = re.compile(
    "[àáảãạăằắẳẵặâầấẩẫậèéẻẽẹêềếểễệìíỉĩịòóỏõọôồốổỗộơờớởỡợùúủũụưừứửữựỳýỷỹỵđ]", re.IGNORECASE
)
GETTEXT = {"_", "gettext", "gettext_lazy", "ngettext", "ngettext_lazy", "pgettext", "pgettext_lazy"}
# Calls whose text a person reads: a bare literal there is untranslated by construction.
SPEAKING_CALLS = {
    "ValidationFailed", "PermissionDenied", "NotFound", "Conflict", "DomainError",
    "ValidationError", "add_error", "success", "error", "info", "warning",
}  # fmt: skip
SPEAKING_MODULES = re.compile(
    r"(views|forms|services|selectors|api|models|middleware|context_processors|errors|"
    r"authorize|passkeys|backoffice|citizen|portal|linkage_views|admin_site|sessions|motcua)"
    r"(/[a-z_]+)?\.py$"
)


def _words(text: str) -> list[str]:
    return [w for w in WORD.findall(text) if w not in NAMES]


class _TextOf(HTMLParser):
    """The text a person reads in a piece of HTML: text nodes and the human attributes."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style", "svg"):
            self._skip += 1
        meta_content = tag == "meta"
        for name, value in attrs:
            if name in HUMAN_ATTRIBUTES and value and not (name == "content" and meta_content):
                self.found.extend(_words(value))

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "svg"):
            self._skip = max(0, self._skip - 1)

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.found.extend(_words(data))


def _untranslated_in_template(source: str) -> list[str]:
    text, inside = [], 0
    for token in Lexer(source).tokenize():
        command = token.contents.split()[0] if token.token_type == TokenType.BLOCK else ""
        if command in ("blocktranslate", "blocktrans", "comment", "verbatim"):
            inside += 1
        elif command in ("endblocktranslate", "endblocktrans", "endcomment", "endverbatim"):
            inside -= 1
        elif token.token_type == TokenType.TEXT and not inside:
            text.append(token.contents)
        elif token.token_type == TokenType.VAR:
            text.extend(re.findall(r'default:"([^"]*)"', token.contents))
        # Tags and variables are replaced by a placeholder so that attribute values stay whole.
        if token.token_type in (TokenType.BLOCK, TokenType.VAR) and not inside:
            text.append("x")
    parser = _TextOf()
    parser.feed("".join(text))
    return parser.found


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda p: str(p.relative_to(SRC)))
def test_templates_hold_no_untranslated_text(template: Path) -> None:
    found = _untranslated_in_template(template.read_text())
    assert not found, f"text outside {{% translate %}} in {template.relative_to(SRC)}: {found}"


def _speaking_modules() -> list[Path]:
    return sorted(
        p
        for p in SRC.glob("**/*.py")
        if not {"tests", "migrations", "bench"} & set(p.relative_to(SRC).parts)
        and SPEAKING_MODULES.search(str(p.relative_to(SRC)))
    )


def _call_name(call: ast.Call) -> str:
    func = call.func
    return func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")


def _untranslated_in_module(tree: ast.AST) -> list[tuple[int, str]]:
    translated: set[int] = set()
    docstrings: set[int] = set()
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr):
            docstrings.add(id(body[0].value))
        if isinstance(node, ast.Call) and _call_name(node) in GETTEXT:
            translated.update(id(n) for arg in node.args for n in ast.walk(arg))
        if isinstance(node, ast.Call) and _call_name(node) in SPEAKING_CALLS:
            bare = [*node.args, *(k.value for k in node.keywords)]
            found += [
                (a.lineno, a.value)
                for a in bare
                if isinstance(a, ast.Constant) and isinstance(a.value, str) and _words(a.value)
            ]
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and id(node) not in translated | docstrings
            and VIETNAMESE.search(node.value)
        ):
            found.append((node.lineno, node.value))
    return sorted(set(found))


@pytest.mark.parametrize("module", _speaking_modules(), ids=lambda p: str(p.relative_to(SRC)))
def test_messages_to_people_go_through_gettext(module: Path) -> None:
    found = _untranslated_in_module(ast.parse(module.read_text()))
    assert not found, f"untranslated text in {module.relative_to(SRC)}: {found}"


def test_the_checks_catch_what_they_look_for() -> None:
    assert _untranslated_in_template('<p title="Tìm">{% translate "Có" %} <b>Sign in</b></p>') == [
        "Tìm",
        "Sign",
        "in",
    ]
    assert (
        _untranslated_in_template("{% blocktranslate %}Có {{ n }} hồ sơ{% endblocktranslate %}")
        == []
    )
    module = ast.parse('raise NotFound("gone")\nx = _("Không có")\ny = "Không có"\n"""Tài liệu."""')
    assert [line for line, _text in _untranslated_in_module(module)] == [1, 3]


@pytest.mark.skipif(not shutil.which("xgettext"), reason="gettext's tools are installed at set-up")
def test_english_catalog_translates_every_message(tmp_path: Path) -> None:
    copy = tmp_path / "motcua"
    shutil.copytree(SRC, copy, ignore=shutil.ignore_patterns("__pycache__", "*.mo"))
    subprocess.run(
        [sys.executable, "-m", "django", "makemessages", "-l", "en", "-i", "tests", "-i",
         "migrations", "-i", "bench", "--no-location"],
        cwd=copy, check=True, capture_output=True, env={"PATH": "/usr/bin:/bin"},
    )  # fmt: skip
    catalog = polib.pofile(str(copy / "locale" / "en" / "LC_MESSAGES" / "django.po"))
    missing = [e.msgid for e in catalog if not e.obsolete and (not e.translated() or e.fuzzy)]
    assert not missing, f"{len(missing)} messages have no English: {missing[:20]}"
