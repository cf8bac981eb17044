"""The portal's status sync: status changes of the dossiers a partner filed go to its
subscriptions, signed, once per event, retried with backoff until the receiver answers, given
up after a number of attempts; never to an address inside the network."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from motcua.catalog.selectors import procedure_current
from motcua.core.actors import SYSTEM, Actor
from motcua.core.errors import NotFound, ValidationFailed
from motcua.dossiers.selectors import dossier_id_by_code
from motcua.dossiers.services import Submission
from motcua.dossiers.tests.factories import (
    BIRTH,
    as_citizen,
    submit,
    uploads_for,
    valid_declaration,
)
from motcua.dossiers.tests.helpers import World, act, desk_of
from motcua.exchange import services, webhooks
from motcua.exchange.auth import CitizenCaller, PartnerCaller
from motcua.exchange.models import Delivery, DeliveryStatus, Subscription
from motcua.exchange.tests.helpers import Portal, new_key, receiver
from motcua.identity.tests.factories import Person

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _loopback(settings: Any) -> None:
    settings.EXCHANGE_WEBHOOK_ALLOW_LOOPBACK = True


def _as_portal(portal: Portal, person: Person) -> CitizenCaller:
    partner = PartnerCaller(
        portal.id, portal.name, portal.client_id, Actor(kind="partner", ref=portal.name)
    )
    return CitizenCaller(partner, person.pin, 2, timezone.now())


def _filed_through(portal: Portal, world: World, person: Person) -> str:
    procedure = procedure_current(BIRTH)
    submitted = services.exchange_dossier_submit(
        caller=_as_portal(portal, person),
        submission=Submission(
            procedure_code=BIRTH,
            agency_id=world.commune.pk,
            declaration=valid_declaration(procedure),
            idempotency_key=new_key(),
            files=uploads_for(procedure, person.pin),
        ),
    )
    return submitted.code


def _received(person: Person, code: str, world: World) -> None:
    act(
        desk_of(world.commune).receiver,
        dossier_id_by_code(actor=as_citizen(person), code=code),
        "receive",
    )


def _run() -> int:
    services.deliveries_scan()
    return services.deliveries_send()


def test_a_status_change_reaches_the_partner_signed(
    world: World, portal: Portal, mother: Person
) -> None:
    with receiver() as hook:
        subscription = services.subscription_add(actor=SYSTEM, partner_id=portal.id, url=hook.url)
        code = _filed_through(portal, world, mother)
        _received(mother, code, world)

        assert _run() == 2
        assert [r.json()["national_status_code"] for r in hook.received] == [1, 4]
        last = hook.received[-1]
        body = last.json()
        assert body["dossier"] == code and body["status"] == "processing"
        assert body["type"] == "dossier.status_changed" and body["status_label"] == "Đang xử lý"
        assert body["appointment"] and body["at"]
        assert last.headers["X-Motcua-Event-Id"] == body["event_id"]
        assert webhooks.signature_valid(
            subscription.secret, last.headers["X-Motcua-Signature"], last.body
        )
        assert not webhooks.signature_valid(
            "whsec_not-the-secret", last.headers["X-Motcua-Signature"], last.body
        )
        assert not webhooks.signature_valid(
            subscription.secret, last.headers["X-Motcua-Signature"], last.body + b" "
        )


def test_the_secret_is_stored_sealed_and_shown_once(portal: Portal) -> None:
    created = services.subscription_add(
        actor=SYSTEM, partner_id=portal.id, url="http://localhost:9/hook"
    )
    stored = Subscription.objects.get(pk=created.id).secret_encrypted

    assert created.secret.startswith("whsec_") and created.secret not in stored
    assert webhooks.secret_open(stored) == created.secret


def test_only_the_filing_partners_subscriptions_receive(
    world: World, portal: Portal, mother: Person
) -> None:
    other = services.exchange_partner_register(
        actor=SYSTEM, name="Cổng tỉnh", redirect_uris=["https://tinh.example/cb"]
    )[0]
    with receiver() as ours, receiver() as theirs:
        services.subscription_add(actor=SYSTEM, partner_id=portal.id, url=ours.url)
        services.subscription_add(actor=SYSTEM, partner_id=other.id, url=theirs.url)
        _filed_through(portal, world, mother)
        submit(mother, world.commune)  # filed in the portal, not by a partner

        _run()
        assert len(ours.received) == 1 and theirs.received == []


def test_a_failing_receiver_is_retried_and_gets_the_event_once_when_it_recovers(
    world: World, portal: Portal, mother: Person
) -> None:
    with receiver() as hook:
        hook.answers = [500, 503]
        services.subscription_add(actor=SYSTEM, partner_id=portal.id, url=hook.url)
        _filed_through(portal, world, mother)

        assert _run() == 0
        delivery = Delivery.objects.get()
        assert (delivery.status, delivery.attempts, delivery.last_error) == (
            "pending",
            1,
            "HTTP 500",
        )
        assert delivery.next_attempt_at > timezone.now() + timedelta(seconds=20)
        assert services.deliveries_send() == 0  # not due yet: backoff

        for expected_attempts in (2, 3):
            Delivery.objects.update(next_attempt_at=timezone.now())
            services.deliveries_send()
            assert Delivery.objects.get().attempts == expected_attempts

        delivery = Delivery.objects.get()
        assert (delivery.status, delivery.delivered_at is not None) == ("delivered", True)
        assert len(hook.received) == 3
        assert len({r.headers["X-Motcua-Event-Id"] for r in hook.received}) == 1
        Delivery.objects.update(next_attempt_at=timezone.now())
        assert _run() == 0 and len(hook.received) == 3


def test_a_receiver_that_never_recovers_is_given_up(
    world: World, portal: Portal, mother: Person, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(services, "MAX_ATTEMPTS", 3)
    with receiver() as hook:
        hook.answers = [500] * 10
        services.subscription_add(actor=SYSTEM, partner_id=portal.id, url=hook.url)
        _filed_through(portal, world, mother)
        for _ in range(5):
            _run()
            Delivery.objects.update(next_attempt_at=timezone.now())

        delivery = Delivery.objects.get()
        assert (delivery.status, delivery.attempts) == (DeliveryStatus.FAILED, 3)
        assert len(hook.received) == 3


def test_a_replayed_event_never_makes_a_second_delivery(
    world: World, portal: Portal, mother: Person
) -> None:
    with receiver() as hook:
        services.subscription_add(actor=SYSTEM, partner_id=portal.id, url=hook.url)
        _filed_through(portal, world, mother)
        _run()
        services.deliveries_scan()
        services.Cursor.objects.all().delete()  # the cursor lost: every event read again
        services.deliveries_scan()
        Delivery.objects.update(next_attempt_at=timezone.now())
        services.deliveries_send()

        assert Delivery.objects.count() == 1 and len(hook.received) == 1


def test_the_cursor_stays_behind_young_events_and_moves_past_settled_ones(
    world: World, portal: Portal, mother: Person
) -> None:
    _filed_through(portal, world, mother)
    services.deliveries_scan()
    assert services.Cursor.objects.get().position == 0  # the submit event is seconds old

    later = timezone.now() + services.SCAN_GRACE + timedelta(seconds=1)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(services.timezone, "now", lambda: later)
        services.deliveries_scan()
    assert services.Cursor.objects.get().position > 0


@pytest.mark.parametrize(
    "url",
    [
        "https://10.0.0.5/hook",
        "https://169.254.169.254/latest/meta-data/",
        "https://192.168.1.1/hook",
        "https://[fd00::1]/hook",
        "http://cong.example.vn/hook",
        "https://user:pw@cong.example.vn/hook",
        "ftp://cong.example.vn/hook",
    ],
)
def test_an_internal_or_plain_http_url_is_refused(portal: Portal, url: str) -> None:
    with pytest.raises(ValidationFailed) as refused:
        services.subscription_add(actor=SYSTEM, partner_id=portal.id, url=url)
    assert "url" in refused.value.errors
    assert not Subscription.objects.exists()


def test_localhost_is_refused_outside_development(portal: Portal, settings: Any) -> None:
    settings.EXCHANGE_WEBHOOK_ALLOW_LOOPBACK = False
    for url in ("http://localhost:8001/hook", "https://127.0.0.1/hook", "https://[::1]/hook"):
        with pytest.raises(ValidationFailed):
            services.subscription_add(actor=SYSTEM, partner_id=portal.id, url=url)


def test_an_address_that_turned_internal_is_not_posted_to(
    world: World, portal: Portal, mother: Person, settings: Any
) -> None:
    with receiver() as hook:
        services.subscription_add(actor=SYSTEM, partner_id=portal.id, url=hook.url)
        _filed_through(portal, world, mother)
        settings.EXCHANGE_WEBHOOK_ALLOW_LOOPBACK = False  # as in production
        _run()

        assert hook.received == []
        assert "https" in Delivery.objects.get().last_error


def test_another_partner_cannot_manage_a_subscription(portal: Portal) -> None:
    created = services.subscription_add(
        actor=SYSTEM, partner_id=portal.id, url="http://localhost:9/hook"
    )
    stranger = Actor(kind="partner", ref="Cổng khác")
    with pytest.raises(NotFound):
        services.subscription_disable(actor=stranger, subscription_id=created.id)
    with pytest.raises(NotFound):
        services.subscription_add(actor=stranger, partner_id=portal.id, url="http://localhost/")
    services.subscription_disable(
        actor=Actor(kind="partner", ref=portal.name), subscription_id=created.id
    )
    assert not Subscription.objects.get(pk=created.id).active


def test_the_demo_seed_registers_a_partner_with_a_subscription() -> None:
    demo = services.exchange_demo_seed(
        actor=SYSTEM,
        name="Cổng thử nghiệm",
        redirect_uri="http://localhost:8001/callback",
        webhook_url="http://localhost:8001/webhook",
    )
    assert demo.credentials.client_secret and demo.subscription.secret.startswith("whsec_")
