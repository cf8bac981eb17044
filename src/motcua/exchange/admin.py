"""The exchange in the admin: partners and their filings read-only (registered by the service,
which also registers the provider's client); subscriptions added through the service, whose
signing secret is shown once; the outbox to watch."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.http import HttpRequest
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from motcua.core.actors import Actor
from motcua.exchange import services, webhooks
from motcua.exchange.models import Delivery, ExchangePartner, Filing, Subscription


class _ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(ExchangePartner)
class PartnerAdmin(_ReadOnly):
    list_display = ("name", "client_id", "active", "created_at")


@admin.register(Filing)
class FilingAdmin(_ReadOnly):
    list_display = ("code", "kind", "partner", "at")
    list_filter = ("kind", "partner")
    search_fields = ("code",)


class SubscriptionForm(forms.ModelForm):
    url = forms.URLField(label=gettext_lazy("Địa chỉ nhận"), max_length=500, assume_scheme="https")
    events = forms.MultipleChoiceField(
        label=gettext_lazy("Loại sự kiện"),
        choices=[(t, t) for t in services.EVENT_TYPES],
        initial=list(services.EVENT_TYPES),
        widget=forms.CheckboxSelectMultiple,
    )

    class Meta:
        model = Subscription
        fields = ("partner", "url", "events")

    def clean_url(self) -> str:
        url = str(self.cleaned_data["url"]).strip()
        if problem := webhooks.url_problem(url):
            raise forms.ValidationError(problem)
        return url


@admin.register(Subscription)
class SubscriptionAdmin(admin.ModelAdmin):
    form = SubscriptionForm
    list_display = ("partner", "url", "active", "created_at")
    list_filter = ("active", "partner")

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: Subscription, form: Any, change: bool) -> None:
        created = services.subscription_add(
            actor=Actor.from_user(request.user),
            partner_id=obj.partner_id,
            url=obj.url,
            events=list(form.cleaned_data["events"]),
        )
        obj.pk = created.id
        messages.warning(
            request,
            _("Khóa ký của địa chỉ nhận (chỉ hiện một lần): %(secret)s")
            % {"secret": created.secret},
        )


@admin.register(Delivery)
class DeliveryAdmin(_ReadOnly):
    list_display = ("event_id", "event_type", "subscription", "status", "attempts", "created_at")
    list_filter = ("status", "event_type")
    readonly_fields = ("payload", "last_error")
