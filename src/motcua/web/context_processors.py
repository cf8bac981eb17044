"""What the one base layout needs on every page: which part of the platform the page belongs to,
who is signed in there, the part's navigation and its sign-out."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.http import HttpRequest
from django.urls import reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from motcua.web.portal import SESSION_KEY


@dataclass(frozen=True)
class NavItem:
    label: str | Promise
    url: str
    current: bool = False


@dataclass(frozen=True)
class Layout:
    area: str  # "portal", "eid" or "backoffice"
    area_name: str | Promise
    home_url: str
    person: str = ""
    logout_url: str = ""
    nav: list[NavItem] = field(default_factory=list)


def layout(request: HttpRequest) -> dict[str, Layout]:
    path = request.path_info
    if path.startswith(("/can-bo/", "/admin/")):
        built = _backoffice(request)
    elif path.startswith(("/id/", "/o/")):
        built = _eid(request)
    else:
        built = _portal(request)
    return {"layout": built}


def _items(path: str, items: list[tuple[str | Promise, str]]) -> list[NavItem]:
    # The longest matching prefix is the current item, so "/" does not light up everywhere.
    matches = [url for _label, url in items if path.startswith(url)]
    current = max(matches, key=len, default="")
    return [NavItem(label, url, url == current) for label, url in items]


def _portal(request: HttpRequest) -> Layout:
    citizen = request.session.get(SESSION_KEY) or {}
    items: list[tuple[str | Promise, str]] = [
        (_("Trang chủ"), reverse("home")),
        (_("Thủ tục hành chính"), reverse("procedures")),
        (_("Tra cứu hồ sơ"), reverse("dossier_lookup")),
    ]
    if citizen:
        items.append((_("Hồ sơ của tôi"), reverse("my_dossiers")))
        items.append((_("Dịch vụ chủ động"), reverse("offers")))
        items.append((_("Tài khoản"), reverse("identity:account")))
    return Layout(
        area="portal",
        area_name=_("Cổng dịch vụ công"),
        home_url=reverse("home"),
        person=str(citizen.get("name", "")),
        logout_url=reverse("portal_logout") if citizen else "",
        nav=_items(request.path_info, items),
    )


def _eid(request: HttpRequest) -> Layout:
    user = getattr(request, "user", None)
    state = request.session.get("eid") or {}
    signed_in = bool(user is not None and user.is_authenticated and state)
    items: list[tuple[str | Promise, str]] = [(_("Cổng dịch vụ công"), reverse("home"))]
    if signed_in:
        items += [
            (_("Tài khoản"), reverse("identity:account")),
            (_("Ai đã xem dữ liệu của tôi"), reverse("identity:access")),
        ]
    return Layout(
        area="eid",
        area_name=_("Định danh điện tử"),
        home_url=reverse("identity:account") if signed_in else reverse("identity:login"),
        person=str(state.get("name") or user.get_username()) if signed_in and user else "",
        logout_url=reverse("identity:logout") if signed_in else "",
        nav=_items(request.path_info, items),
    )


def _backoffice(request: HttpRequest) -> Layout:
    user = getattr(request, "user", None)
    official = bool(
        user is not None and user.is_authenticated and user.is_staff and user.is_verified()
    )
    items: list[tuple[str | Promise, str]] = []
    if official and user is not None:
        items.append((_("Hồ sơ chờ xử lý"), reverse("backoffice:start")))
        if user.has_perm("linkage.run_linkage") or user.has_perm("linkage.review_pair"):
            items.append((_("Liên kết dữ liệu"), reverse("backoffice:linkage_jobs")))
        if user.is_superuser:
            items.append((_("Quản trị"), reverse("admin:index")))
    return Layout(
        area="backoffice",
        area_name=_("Một cửa điện tử — cán bộ"),
        home_url=reverse("backoffice:start"),
        person=(user.get_full_name() or user.get_username()) if official and user else "",
        logout_url=reverse("backoffice:logout") if official else "",
        nav=_items(request.path_info, items),
    )
