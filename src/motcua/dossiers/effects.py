"""What a decision on a dossier changes in the state's records (hiệu lực của quyết định).

A procedure's workflow names the effects of its transitions (catalog data, versioned with the
procedure: `{"issue_result": ["birth_register"]}`). `run_effects` runs them inside the step's
transaction (dossiers.services `_act`), so the decision and its consequence commit together or
not at all. Each effect here calls the owning app's service with the dossier's code as the
reference, once per dossier (a `DossierEffect` row says it ran, with what it produced), and a
refusal by that service becomes the step's refusal, field by field on the declaration."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop

from motcua.benefits import services as benefits
from motcua.catalog.selectors import AgencyView, TransitionView, agency_get
from motcua.core.actors import Actor
from motcua.core.errors import NotFound, ValidationFailed
from motcua.dossiers.models import Dossier, DossierEffect
from motcua.identity import services as identity
from motcua.insurance import services as insurance
from motcua.registry import services as registry
from motcua.registry.selectors import VIEW_PERMISSION as REGISTRY_VIEW
from motcua.registry.selectors import citizen_get, household_of, pin_province_code

REGISTRY_CHANGE = registry.CHANGE_PERMISSION


@dataclass(frozen=True)
class Context:
    """What an effect runs with: the dossier, the actor it acts as, the agency that decided,
    the day of the decision, and the legal basis naming the dossier."""

    dossier: Dossier
    actor: Actor
    agency: AgencyView
    today: date
    legal_basis: str

    @property
    def reference(self) -> str:
        return self.dossier.code

    def value(self, name: str) -> str:
        """A declaration field as text ("" when not answered)."""
        found = self.dossier.declaration.get(name)
        return "" if found is None else str(found)

    def day(self, name: str) -> date | None:
        try:
            return date.fromisoformat(self.value(name))
        except ValueError:
            return None


Outputs = dict[str, str]


@dataclass(frozen=True)
class Effect:
    name: str
    # The permissions the service needs, and nothing more (see `_acting_for_the_agency`).
    permissions: frozenset[str]
    run: Callable[[Context], Outputs]
    # The service's field → where it came from: "declaration.<field>" or "applicant".
    fields: dict[str, str]
    # What it did, in words, with the outputs as named placeholders.
    done: Promise
    # Output names whose values are dates (shown dd/mm/yyyy).
    dates: frozenset[str] = field(default_factory=frozenset)


EFFECTS: dict[str, Effect] = {}


def _effect(
    name: str,
    *,
    permissions: set[str],
    fields: dict[str, str],
    done: Promise,
    dates: tuple[str, ...] = (),
) -> Callable[[Callable[[Context], Outputs]], Callable[[Context], Outputs]]:
    def register(run: Callable[[Context], Outputs]) -> Callable[[Context], Outputs]:
        EFFECTS[name] = Effect(name, frozenset(permissions), run, fields, done, frozenset(dates))
        return run

    return register


def _d(name: str) -> str:
    return f"declaration.{name}"


def _required_day(context: Context, name: str) -> date:
    found = context.day(name)
    if found is None:
        raise ValidationFailed({_d(name): _("Ngày không hợp lệ (YYYY-MM-DD)")})
    return found


# --- the registry -----------------------------------------------------------------------------


@_effect(
    "birth_register",
    permissions={REGISTRY_CHANGE},
    fields={
        "full_name": _d("ho_ten_tre"),
        "sex": _d("gioi_tinh"),
        "birth_date": _d("ngay_sinh"),
        "birth_place": _d("noi_sinh"),
        "ethnicity": _d("dan_toc"),
        "mother_pin": _d("me_pin"),
        "father_pin": _d("cha_pin"),
    },
    done=gettext_lazy("Đã đăng ký khai sinh, số định danh cá nhân của trẻ: %(pin)s"),
)
def _birth_register(context: Context) -> Outputs:

    # The registry keeps the birth place as an administrative unit: the commune that registers
    # the birth (the facility or address as declared stays in the declaration).
    unit = context.agency.unit_code
    pin = registry.citizen_register_birth(
        actor=context.actor,
        full_name=context.value("ho_ten_tre"),
        sex=context.value("gioi_tinh"),
        birth_date=_required_day(context, "ngay_sinh"),
        birth_place=unit,
        registered_in=pin_province_code(unit),
        mother_pin=context.value("me_pin"),
        father_pin=context.value("cha_pin"),
        ethnicity=context.value("dan_toc") or "Kinh",
        legal_basis=context.legal_basis,
        reference=context.reference,
    )
    return {"pin": pin}


@_effect(
    "death_record",
    permissions={REGISTRY_CHANGE},
    fields={"pin": _d("nguoi_chet_pin"), "death_date": _d("ngay_chet")},
    done=gettext_lazy("Đã ghi nhận người có số định danh %(pin)s chết ngày %(death_date)s"),
    dates=("death_date",),
)
def _death_record(context: Context) -> Outputs:

    pin, died = context.value("nguoi_chet_pin"), _required_day(context, "ngay_chet")
    registry.citizen_record_death(
        actor=context.actor,
        pin=pin,
        death_date=died,
        reason=context.value("nguyen_nhan_chet"),
        legal_basis=context.legal_basis,
        reference=context.reference,
    )
    transaction.on_commit(lambda: _signed_out(pin))
    return {"pin": pin, "death_date": died.isoformat()}


def _signed_out(pin: str) -> None:
    """The deceased's e-ID stops: sign-in already refuses a deceased person, and their live
    sessions and relying parties' tokens end."""
    identity.sessions_end_for_pin(pin=pin)


@_effect(
    "marriage_register",
    permissions={REGISTRY_CHANGE},
    fields={"pin_a": "applicant", "pin_b": _d("ben_kia_pin"), "married_on": _d("ngay_hen_ky")},
    done=gettext_lazy("Đã đăng ký kết hôn ngày %(married_on)s"),
    dates=("married_on",),
)
def _marriage_register(context: Context) -> Outputs:

    registry.marriage_register(
        actor=context.actor,
        pin_a=context.dossier.applicant_pin,
        pin_b=context.value("ben_kia_pin"),
        married_on=context.today,
        legal_basis=context.legal_basis,
        reference=context.reference,
    )
    return {"married_on": context.today.isoformat()}


# The residence form's relation to the household head, in the registry's words.
HOUSEHOLD_RELATIONS = {
    "vo_chong": "spouse",
    "con": "child",
    "cha_me": "parent",
    "ong_ba": "grandparent",
    "chau": "grandchild",
    "anh_chi_em": "sibling",
    "khac": "other",
}

_MOVE_FIELDS = {
    "pin": _d("nguoi_dang_ky_pin"),
    "household_id": _d("chu_ho_pin"),
    "relation": _d("quan_he_voi_chu_ho"),
    "address": _d("dia_chi_thuong_tru_moi"),
    "ward": _d("dia_chi_thuong_tru_moi"),
}


@_effect(
    "residence_register_permanent",
    permissions={REGISTRY_CHANGE, REGISTRY_VIEW},
    fields=_MOVE_FIELDS,
    done=gettext_lazy("Đã đăng ký thường trú cho người có số định danh %(pin)s từ ngày %(since)s"),
    dates=("since",),
)
def _residence_permanent(context: Context) -> Outputs:
    """The person registered (a parent registers their child: `nguoi_dang_ky_pin`, else the
    applicant) joins the household of the head named, or founds one at the address given in
    the police's ward. Members listed to register along (`dang_ky_kem_thanh_vien`) are the
    officials' to register on their own dossiers: their relation to the head is not declared."""
    pin = context.value("nguoi_dang_ky_pin") or context.dossier.applicant_pin
    head = context.value("chu_ho_pin")
    relation = HOUSEHOLD_RELATIONS.get(context.value("quan_he_voi_chu_ho"))
    if head and head != pin and relation:
        try:
            household = household_of(actor=context.actor, pin=head, purpose=context.legal_basis)
        except NotFound as error:
            raise ValidationFailed({"household_id": error.message}) from error
        move = registry.ResidenceMove(
            kind="permanent", since=context.today, household_id=household.id, relation=relation
        )
    else:
        move = registry.ResidenceMove(
            kind="permanent",
            since=context.today,
            ward=context.agency.unit_code,
            address=context.value("dia_chi_thuong_tru_moi"),
        )
    registry.residence_move(
        actor=context.actor,
        pin=pin,
        move=move,
        legal_basis=context.legal_basis,
        reference=context.reference,
    )
    return {"pin": pin, "since": context.today.isoformat()}


@_effect(
    "residence_register_temporary",
    permissions={REGISTRY_CHANGE},
    fields={
        "pin": "applicant",
        "since": _d("tu_ngay"),
        "address": _d("dia_chi_tam_tru"),
        "ward": _d("dia_chi_tam_tru"),
    },
    done=gettext_lazy("Đã đăng ký tạm trú từ ngày %(since)s"),
    dates=("since",),
)
def _residence_temporary(context: Context) -> Outputs:

    since = _required_day(context, "tu_ngay")
    registry.residence_move(
        actor=context.actor,
        pin=context.dossier.applicant_pin,
        move=registry.ResidenceMove(
            kind="temporary",
            since=since,
            ward=context.agency.unit_code,
            address=context.value("dia_chi_tam_tru"),
        ),
        reason=context.value("ly_do"),
        legal_basis=context.legal_basis,
        reference=context.reference,
    )
    return {"since": since.isoformat()}


# Residence Law Art. 24 grounds on the form, in the registry's words.
DELETION_GROUNDS = {"chet_mat_tich": "death", "dinh_cu_nuoc_ngoai": "abroad"}


@_effect(
    "residence_delete",
    permissions={REGISTRY_CHANGE},
    fields={
        "pin": _d("nguoi_bi_xoa_pin"),
        "on": _d("ngay_phat_sinh"),
        "grounds": _d("ly_do"),
    },
    done=gettext_lazy("Đã xóa đăng ký thường trú của người có số định danh %(pin)s từ %(on)s"),
    dates=("on",),
)
def _residence_delete(context: Context) -> Outputs:

    pin, on = context.value("nguoi_bi_xoa_pin"), _required_day(context, "ngay_phat_sinh")
    registry.residence_delete(
        actor=context.actor,
        pin=pin,
        on=on,
        grounds=DELETION_GROUNDS.get(context.value("ly_do"), "other"),
        reason=context.value("ghi_chu"),
        legal_basis=context.legal_basis,
        reference=context.reference,
    )
    return {"pin": pin, "on": on.isoformat()}


@_effect(
    "absence_declare",
    permissions={REGISTRY_CHANGE},
    fields={
        "pin": _d("nguoi_tam_vang_pin"),
        "since": _d("tu_ngay"),
        "until": _d("den_ngay"),
        "destination": _d("dia_chi_noi_den"),
        "reason": _d("ly_do"),
    },
    done=gettext_lazy("Đã ghi nhận tạm vắng từ %(since)s đến %(until)s"),
    dates=("since", "until"),
)
def _absence_declare(context: Context) -> Outputs:

    pin = context.value("nguoi_tam_vang_pin") or context.dossier.applicant_pin
    since, until = _required_day(context, "tu_ngay"), _required_day(context, "den_ngay")
    registry.absence_declare(
        actor=context.actor,
        pin=pin,
        since=since,
        until=until,
        destination=context.value("dia_chi_noi_den"),
        reason=context.value("ly_do"),
        legal_basis=context.legal_basis,
        reference=context.reference,
    )
    return {"pin": pin, "since": since.isoformat(), "until": until.isoformat()}


@_effect(
    "card_issue",
    permissions={REGISTRY_CHANGE},
    fields={"pin": "applicant"},
    done=gettext_lazy("Đã cấp thẻ căn cước ngày %(issued_on)s, có giá trị đến %(expires_on)s"),
    dates=("issued_on", "expires_on"),
)
def _card_issue(context: Context) -> Outputs:

    expires_on = registry.idcard_issue(
        actor=context.actor,
        pin=context.dossier.applicant_pin,
        issued_on=context.today,
        legal_basis=context.legal_basis,
        reference=context.reference,
    )
    return {
        "issued_on": context.today.isoformat(),
        # A card issued at 60 or later has no expiry date.
        "expires_on": expires_on.isoformat() if expires_on else "",
    }


@_effect(
    "cmnd_confirm",
    permissions={REGISTRY_VIEW},
    fields={"cmnd": _d("so_cmnd"), "pin": "applicant"},
    done=gettext_lazy(
        "Đã xác nhận số Chứng minh nhân dân %(cmnd)s và số định danh cá nhân %(pin)s"
    ),
)
def _cmnd_confirm(context: Context) -> Outputs:
    """A confirmation from the registry's data: nothing changes, the paper says the number."""

    pin = context.dossier.applicant_pin
    record = citizen_get(actor=context.actor, pin=pin, purpose=context.legal_basis)
    if not record.cmnd:
        raise ValidationFailed(
            {"cmnd": _("Cơ sở dữ liệu quốc gia về dân cư không có số Chứng minh nhân dân cũ")}
        )
    declared = context.value("so_cmnd")
    if declared and declared != record.cmnd:
        raise ValidationFailed(
            {"cmnd": _("Số Chứng minh nhân dân đã khai khác số trong Cơ sở dữ liệu")}
        )
    return {"cmnd": record.cmnd, "pin": pin}


# --- social insurance and social assistance ---------------------------------------------------


@_effect(
    "health_card_issue",
    permissions={insurance.ISSUE_PERMISSION, REGISTRY_VIEW},
    fields={"pin": _d("tre_pin"), "facility": _d("noi_kcb_ban_dau")},
    done=gettext_lazy(
        "Đã cấp thẻ bảo hiểm y tế số %(number)s, có giá trị từ %(valid_from)s đến %(valid_to)s"
    ),
    dates=("valid_from", "valid_to"),
)
def _health_card_issue(context: Context) -> Outputs:

    card = insurance.health_card_issue(
        actor=context.actor,
        pin=context.value("tre_pin"),
        valid_from=context.today,
        facility=context.value("noi_kcb_ban_dau"),
        reference=context.reference,
    )
    return {
        "pin": card.pin,
        "number": card.code,
        "valid_from": card.valid_from.isoformat(),
        "valid_to": card.valid_to.isoformat(),
    }


_BENEFIT_FIELDS = {
    "deceased_pin": _d("nguoi_chet_pin"),
    "beneficiary_pin": "applicant",
}


def _decided(context: Context, decide: Callable[..., Any]) -> Outputs:
    deceased = context.value("nguoi_chet_pin")
    decide(
        actor=context.actor,
        deceased_pin=deceased,
        beneficiary_pin=context.dossier.applicant_pin,
        decided_on=context.today,
        reference=context.reference,
    )
    return {"deceased_pin": deceased, "decided_on": context.today.isoformat()}


@_effect(
    "funeral_allowance",
    permissions={insurance.DECIDE_PERMISSION, REGISTRY_VIEW},
    fields=_BENEFIT_FIELDS,
    done=gettext_lazy("Đã quyết định hưởng trợ cấp mai táng ngày %(decided_on)s"),
    dates=("decided_on",),
)
def _funeral_allowance(context: Context) -> Outputs:

    return _decided(context, insurance.funeral_allowance_decide)


@_effect(
    "survivor_benefit",
    permissions={insurance.DECIDE_PERMISSION, REGISTRY_VIEW},
    fields=_BENEFIT_FIELDS,
    done=gettext_lazy("Đã quyết định hưởng trợ cấp tuất một lần ngày %(decided_on)s"),
    dates=("decided_on",),
)
def _survivor_benefit(context: Context) -> Outputs:

    return _decided(context, insurance.survivor_benefit_decide)


@_effect(
    "funeral_support",
    permissions={benefits.DECIDE_PERMISSION, REGISTRY_VIEW},
    fields=_BENEFIT_FIELDS,
    done=gettext_lazy("Đã quyết định hỗ trợ chi phí mai táng ngày %(decided_on)s"),
    dates=("decided_on",),
)
def _funeral_support(context: Context) -> Outputs:

    return _decided(context, benefits.funeral_support_decide)


# --- running them -------------------------------------------------------------------------------


class EffectRefused(ValidationFailed):
    """The owning app refused an effect: the step is refused, nothing is written. `errors` holds
    the app's messages on the declaration fields they came from, and "effect" names it."""

    code = "effect_refused"

    def __init__(self, effect: str, errors: dict[str, str]) -> None:
        self.effect = effect
        label = effect_label(effect)
        super().__init__(
            {"effect": _("Không thực hiện được: %(effect)s") % {"effect": label}, **errors},
            message=_("Không thực hiện được: %(effect)s") % {"effect": label},
        )


def _acting_for_the_agency(actor: Actor, effect: Effect) -> Actor:
    # The official holds no registry (or insurance, benefits) permission of their own: the
    # competent agency's decision on this dossier is what authorises the change. So the effect
    # runs as the same person (same ref, so every audit and access-log row names the official)
    # carrying exactly the permissions this one effect needs — reached only through a step the
    # official's role in the dossier's agency allows, which `_act` has checked before.
    return Actor(kind=actor.kind, ref=actor.ref, permissions=effect.permissions, pin=actor.pin)


def _mapped(effect: Effect, errors: dict[str, str]) -> dict[str, str]:
    mapped: dict[str, str] = {}
    for key, message in errors.items():
        where = effect.fields.get(key, "effect_detail")
        mapped[where] = f"{mapped[where]}; {message}" if where in mapped else message
    return mapped


def run_effects(
    *, actor: Actor, dossier: Dossier, transition: TransitionView, now: datetime
) -> list[DossierEffect]:
    """Run the transition's effects on the (locked) dossier, in the caller's transaction; the
    ones that ran already for this dossier are skipped (a retried step never registers twice).
    Returns the effects recorded now. Raises EffectRefused on the first refusal."""
    recorded: list[DossierEffect] = []
    if not transition.effects:
        return recorded
    done = set(
        DossierEffect.objects.filter(dossier=dossier, name__in=transition.effects).values_list(
            "name", flat=True
        )
    )
    agency = agency_get(dossier.agency_id)
    legal_basis = gettext_noop("Quyết định của %(agency)s; hồ sơ %(code)s") % {
        "agency": agency.name,
        "code": dossier.code,
    }
    for name in transition.effects:
        if name in done:
            continue
        effect = EFFECTS[name]
        context = Context(
            dossier=dossier,
            actor=_acting_for_the_agency(actor, effect),
            agency=agency,
            today=timezone.localdate(now),
            legal_basis=legal_basis,
        )
        try:
            outputs = effect.run(context)
        except ValidationFailed as error:
            raise EffectRefused(
                name, _mapped(effect, error.errors or {"": error.message})
            ) from error
        except NotFound as error:
            raise EffectRefused(name, {"effect_detail": error.message}) from error
        recorded.append(
            DossierEffect.objects.create(
                dossier=dossier, name=name, action=transition.action, outputs=outputs, at=now
            )
        )
    return recorded


# --- in words -----------------------------------------------------------------------------------


def effect_label(name: str) -> str:
    """The effect in a few words, for messages ("Đăng ký khai sinh")."""
    return str(LABELS.get(name, name))


LABELS: dict[str, Promise] = {
    "birth_register": gettext_lazy("Đăng ký khai sinh vào Cơ sở dữ liệu quốc gia về dân cư"),
    "death_record": gettext_lazy("Ghi nhận người đã chết vào Cơ sở dữ liệu quốc gia về dân cư"),
    "marriage_register": gettext_lazy("Ghi nhận kết hôn vào Cơ sở dữ liệu quốc gia về dân cư"),
    "residence_register_permanent": gettext_lazy("Đăng ký thường trú"),
    "residence_register_temporary": gettext_lazy("Đăng ký tạm trú"),
    "residence_delete": gettext_lazy("Xóa đăng ký thường trú"),
    "absence_declare": gettext_lazy("Ghi nhận khai báo tạm vắng"),
    "card_issue": gettext_lazy("Cấp thẻ căn cước"),
    "cmnd_confirm": gettext_lazy("Xác nhận số Chứng minh nhân dân cũ"),
    "health_card_issue": gettext_lazy("Cấp thẻ bảo hiểm y tế"),
    "funeral_allowance": gettext_lazy("Quyết định trợ cấp mai táng"),
    "survivor_benefit": gettext_lazy("Quyết định trợ cấp tuất một lần"),
    "funeral_support": gettext_lazy("Quyết định hỗ trợ chi phí mai táng"),
}


def _shown(value: str, is_date: bool) -> str:
    if not value:
        return "—"
    if is_date:
        try:
            return date.fromisoformat(value).strftime("%d/%m/%Y")
        except ValueError:
            return value
    return value


def effect_outcome(name: str, outputs: dict[str, Any]) -> str:
    """What the effect did, in a sentence with what it produced ("Đã đăng ký khai sinh, số định
    danh cá nhân của trẻ: 0822…")."""
    effect = EFFECTS.get(name)
    if effect is None:
        return effect_label(name)
    values = {k: _shown(str(v or ""), k in effect.dates) for k, v in outputs.items()}
    try:
        return str(effect.done) % values
    except (KeyError, TypeError, ValueError):
        return effect_label(name)
