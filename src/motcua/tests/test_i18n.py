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
NAMES = {
    "Motcua", "OpenID", "Connect", "API", "JSON", "PDF", "CSV", "Excel", "QR", "TOTP", "VNeID",
    "Parquet",
}  # fmt: skip
WORD = re.compile(r"[^\W\d_]{2,}")
HUMAN_ATTRIBUTES = {"alt", "title", "placeholder", "aria-label", "data-confirm", "content"}
# Letters that only Vietnamese text uses (with the plain vowels, they spell a Vietnamese word).
VIETNAMESE = re.compile(
    "[àáảãạăằắẳẵặâầấẩẫậèéẻẽẹêềếểễệìíỉĩịòóỏõọôồốổỗộơờớởỡợùúủũụưừứửữựỳýỷỹỵđ]", re.IGNORECASE
)
GETTEXT = {
    "_", "gettext", "gettext_lazy", "gettext_noop", "ngettext", "ngettext_lazy", "pgettext",
    "pgettext_lazy",
}  # fmt: skip
# Calls whose text a person reads, and which argument holds it: a bare literal there is
# untranslated by construction, whatever its language.
MESSAGE_ARGUMENT = {
    "ValidationFailed": 0, "PermissionDenied": 0, "NotFound": 0, "Conflict": 0, "DomainError": 0,
    "ValidationError": 0, "add_error": 1,
}  # fmt: skip
MESSAGE_KEYWORDS = {"message", "label", "help_text", "verbose_name", "verbose_name_plural"}
DJANGO_MESSAGES = {"debug", "info", "success", "warning", "error"}  # messages.<level>(request, ...)
SPEAKING_MODULES = re.compile(
    r"(views|forms|services|selectors|api|models|middleware|context_processors|errors|"
    r"authorize|passkeys|backoffice|citizen|portal|linkage_views|admin_site|sessions|motcua)"
    r"(/[a-z_]+)?\.py$"
)
# The pages' own modules: no Vietnamese literal at all outside gettext. Elsewhere a Vietnamese
# literal may be data (an agency's name, a law's title), but never a message.
PRESENTATION = re.compile(
    r"(views|forms|context_processors|middleware|templatetags/[a-z_]+|backoffice|citizen|"
    r"portal|linkage_views|admin_site|authorize|passkeys)\.py$"
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
    text, inside, width = [], 0, False
    for token in Lexer(source).tokenize():
        command = token.contents.split()[0] if token.token_type == TokenType.BLOCK else ""
        if token.contents == "block width":  # a class name for the layout, not text
            command, width = "comment", True
        elif command == "endblock" and width:
            command, width = "endcomment", False
        if command in ("blocktranslate", "blocktrans", "comment", "verbatim"):
            inside += 1
        elif command in ("endblocktranslate", "endblocktrans", "endcomment", "endverbatim"):
            inside -= 1
        elif token.token_type == TokenType.TEXT and not inside:
            text.append(token.contents)
        elif token.token_type == TokenType.VAR:
            text.extend(re.findall(r'default:"([^"]*)"', token.contents))
        # Tags and variables become a placeholder that is no word, so attribute values stay whole.
        if token.token_type in (TokenType.BLOCK, TokenType.VAR) and not inside:
            text.append("0")
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


def _is_text(node: ast.AST | None) -> bool:
    return (
        isinstance(node, ast.Constant) and isinstance(node.value, str) and bool(_words(node.value))
    )


def _message_nodes(node: ast.AST) -> list[ast.AST]:
    """The expressions that become text a person reads, in a call or an assignment."""
    if isinstance(node, ast.Call):
        name, func = _call_name(node), node.func
        index = MESSAGE_ARGUMENT.get(name)
        if isinstance(func, ast.Attribute) and getattr(func.value, "id", "") == "messages":
            index = 1 if name in DJANGO_MESSAGES else None
        found = [node.args[index]] if index is not None and len(node.args) > index else []
        found += [k.value for k in node.keywords if k.arg in MESSAGE_KEYWORDS]
        if name == "ValidationFailed" and node.args and isinstance(node.args[0], ast.Dict):
            found += node.args[0].values  # field -> message
        return [n for n in found if n is not None]
    if isinstance(node, ast.Assign):  # errors["field"] = "..."
        return [
            node.value
            for target in node.targets
            if isinstance(target, ast.Subscript) and getattr(target.value, "id", "") == "errors"
        ]
    return []


def _untranslated_in_module(tree: ast.AST, *, presentation: bool) -> list[tuple[int, str]]:
    translated: set[int] = set()
    docstrings: set[int] = set()
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr):
            docstrings.add(id(body[0].value))
        if isinstance(node, ast.Call) and _call_name(node) in GETTEXT:
            translated.update(id(n) for arg in node.args for n in ast.walk(arg))
        if isinstance(node, ast.Dict):  # keys are values to match (data), not text to show
            docstrings.update(id(key) for key in node.keys if key is not None)
        for message in _message_nodes(node):
            literals = [message, *getattr(message, "values", [])]  # a literal or an f-string
            found += [(n.lineno, n.value) for n in literals if _is_text(n)]
    for node in ast.walk(tree) if presentation else ():
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
    presentation = bool(PRESENTATION.search(str(module.relative_to(SRC))))
    found = _untranslated_in_module(ast.parse(module.read_text()), presentation=presentation)
    assert not found, f"untranslated text in {module.relative_to(SRC)}: {found}"


def test_the_checks_catch_what_they_look_for() -> None:
    page = '<p title="Tìm">{% translate "Có" %} <b>Sign in</b>{% if a %}{% endif %}</p>'
    assert _untranslated_in_template(page) == ["Tìm", "Sign", "in"]
    counted = "{% blocktranslate %}Có {{ n }} hồ sơ{% endblocktranslate %}"
    assert _untranslated_in_template(counted) == []
    assert _untranslated_in_template("{% block width %}motcua-full-width{% endblock %}") == []
    source = (
        '"""Tài liệu."""\n'
        'raise NotFound("gone")\n'
        'form.add_error("pin", "Sai số")\n'
        'form.add_error("pin", _("Sai số"))\n'
        'errors["pin"] = "Sai"\n'
        'raise ValidationFailed({"pin": "Sai", "ok": _("Đúng")})\n'
        'messages.success(request, "Đã lưu")\n'
        'x = _("Không có")\n'
        'y = "Không có"\n'
        'raise ValidationError(_("Sai"), code="invalid")\n'
    )
    tree = ast.parse(source)
    assert [line for line, _t in _untranslated_in_module(tree, presentation=False)] == [
        2, 3, 5, 6, 7
    ]  # fmt: skip
    assert [line for line, _t in _untranslated_in_module(tree, presentation=True)][-1] == 9


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
