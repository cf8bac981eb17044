"""The portal's proactive services (Dịch vụ chủ động): what the state offers the signed-in
citizen because of a life event or an age reached; accept or decline each."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from motcua.core.actors import Actor
from motcua.core.errors import Conflict
from motcua.core.forms import errors_onto
from motcua.dossiers import selectors as dossiers
from motcua.dossiers import services
from motcua.web.citizen import DRAFT_PARAM, _draft_save, _page, citizen_required

ACTIVE = ("offered", "accepted")  # still something for the citizen to do
OFFER_PARAM = "de-nghi"  # ?de-nghi=<offer id>: the package form pre-filled from the offer


class DeclineForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("Lý do (không bắt buộc)"),
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


@citizen_required
def offers_view(request: HttpRequest, actor: Actor) -> HttpResponse:
    offers = dossiers.offers_of(actor=actor)
    return _page(
        request,
        "web/offers.html",
        {
            "waiting": [o for o in offers if o.status in ACTIVE],
            "done": [o for o in offers if o.status not in ACTIVE],
        },
    )


def package_url(kind: str, offer_id: int) -> str | None:
    """The package form of `kind`, pre-filled from the offer; None while the portal has no
    such form."""
    for kwargs, args in (({"kind": kind}, ()), ({}, (kind,))):
        try:
            base = reverse("package_start", kwargs=kwargs or None, args=args or None)
        except NoReverseMatch:
            continue
        return f"{base}?{OFFER_PARAM}={offer_id}"
    return None


def _link_url(name: str) -> str:
    try:
        return reverse(name)
    except NoReverseMatch:
        return reverse("offers")


@require_POST
@citizen_required
def offer_accept_view(request: HttpRequest, actor: Actor, offer_id: int) -> HttpResponseBase:
    """Take up an offer: a renewal opens its check-your-answers page, already filled in (one
    click files it); a package opens its form pre-filled; an information offer its page."""
    try:
        accepted = services.offer_accept(actor=actor, offer_id=offer_id)
    except Conflict as error:
        messages.warning(request, error.message)
        return redirect("offers")
    if accepted.next == "check":
        key = accepted.idempotency_key
        _draft_save(
            request,
            key,
            {
                "procedure": accepted.procedure_code,
                "data": accepted.form_data,
                "held": {},
                "agency_id": accepted.agency_id,
                "declaration": accepted.declaration,
                "fee_exemption": accepted.fee_exemption,
            },
        )
        check = reverse("submit_check", args=[accepted.procedure_code])
        return redirect(f"{check}?{DRAFT_PARAM}={key}")
    if accepted.next == "dossier" and accepted.dossier_id:
        return redirect("citizen_dossier", dossier_id=accepted.dossier_id)
    if accepted.next == "package":
        url = package_url(accepted.package_kind, accepted.offer_id)
        if url is not None:
            return redirect(url)
        messages.warning(
            request, _("Biểu mẫu hồ sơ liên thông chưa sẵn sàng; vui lòng thử lại sau.")
        )
        return redirect("offers")
    if accepted.next == "link" and accepted.link:
        return redirect(_link_url(accepted.link))
    messages.success(request, _("Đã ghi nhận."))
    return redirect("offers")


@citizen_required
def offer_decline_view(request: HttpRequest, actor: Actor, offer_id: int) -> HttpResponse:
    """Asks before declining; only the page's button declines."""
    offer = dossiers.offer_get(actor=actor, offer_id=offer_id)
    if request.method != "POST":
        return _page(request, "web/offers_decline.html", {"offer": offer, "form": DeclineForm()})
    form = DeclineForm(request.POST)
    if form.is_valid():
        try:
            services.offer_decline(
                actor=actor, offer_id=offer_id, reason=form.cleaned_data["reason"]
            )
        except Conflict as error:
            errors_onto(form, error)
        else:
            messages.success(
                request, _("Đã ghi nhận bạn từ chối: %(title)s.") % {"title": offer.title}
            )
            return redirect("offers")
    return _page(request, "web/offers_decline.html", {"offer": offer, "form": form}, status=422)
