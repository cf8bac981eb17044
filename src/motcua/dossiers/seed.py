"""Synthetic dossiers for demos and benchmarks: generation and bulk loading with COPY.

The rows look like what the services would have written over the last two years:

- receipt codes `AGENCY-YYMMDD-NNNN`, numbered per agency and day in the order of submission,
  continuing any counter already in `core_sequence` and leaving it at the highest number used,
  so that a later real submission never collides with a generated code;
- the current version of one of the procedures of the agency's kind;
- applicants drawn from the registry (heads of households), with a declaration drawn from the
  procedure's form;
- a status reached along the procedure's own workflow, with one timeline event per step (the
  submission first), the assignee of the `assign` step, supplements that stop the clock and move
  the appointment, `finished_at` at the first finishing step and `late` as the services set it;
- appointments from the working-day calendar. Old dossiers are finished; open ones are recent
  (mostly the last few weeks), so some are overdue and some are due soon.

No files, apologies or ratings. Generation is deterministic for a seed, given the moment (`now`)
and what the database holds. Loading copies each batch in its own transaction; into an empty
table, the non-unique indexes are dropped with the first batch and built again with the last,
together with one audit row.
"""

from __future__ import annotations

import json
import math
from bisect import bisect
from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from itertools import accumulate
from random import Random
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from motcua.catalog.selectors import (
    CITIZEN,
    AgencyView,
    ProcedureSnapshot,
    Status,
    TransitionView,
    agency_get,
    officials_of,
    procedure_current,
    procedures_of_kind,
)
from motcua.core.actors import Actor
from motcua.core.audit import audit_record
from motcua.core.bulkload import CopyTable, SecondaryIndexes, copy_batch, may_skip_fk_triggers
from motcua.core.calendar import CIVIL_STATUS_CUTOFF, WorkCalendar, work_calendar
from motcua.core.sequences import sequences_of, sequences_raise
from motcua.dossiers.models import CLOSED, FINISHED, Channel, Dossier, DossierEvent
from motcua.registry.selectors import household_heads

SEED_ACTOR = Actor(kind="system", ref="seed")
DEFAULT_BATCH_SIZE = 10_000
DEFAULT_OPEN_SHARE = 0.05
HISTORY_DAYS = 730
APPLICANT_POOL = 100_000
# Open dossiers are recent: the chance that a dossier of a given age is still open falls by e
# every OPEN_DECAY_DAYS, and none older than OPEN_WINDOW_DAYS is.
OPEN_WINDOW_DAYS = 60
OPEN_DECAY_DAYS = 10.0
# Volume on a day that is not worked, relative to a working day (online submissions only).
DAY_OFF_VOLUME = 0.08
# Agencies of a whole province serve many more people than a ward's.
PROVINCE_AGENCY_WEIGHT = 4.0
WARD_KINDS = frozenset({"commune", "commune_police"})

NOT_RECEIVED = Status.NOT_RECEIVED.value
RESULT_ISSUED = Status.RESULT_ISSUED.value
RETURNED = Status.RETURNED.value
SUBMITTED = Status.SUBMITTED.value
SUPPLEMENT_REQUESTED = Status.SUPPLEMENT_REQUESTED.value
WITHDRAWN = Status.WITHDRAWN.value
# Statuses as plain text (what the rows hold), with how often a dossier ends up in each.
CLOSED_OUTCOMES = {
    Status.RETURNED.value: 86.0,
    Status.REJECTED.value: 3.0,
    Status.NOT_RECEIVED.value: 5.0,
    Status.WITHDRAWN.value: 6.0,
}
OPEN_STATES = {
    Status.SUBMITTED.value: 14.0,
    Status.RECEIVED.value: 8.0,
    Status.ASSIGNED.value: 8.0,
    Status.PROCESSING.value: 35.0,
    Status.SUPPLEMENT_REQUESTED.value: 10.0,
    Status.APPROVED.value: 12.0,
    Status.RESULT_ISSUED.value: 13.0,
}
SUPPLEMENT_ROUNDS = (0.86, 0.12, 0.02)  # P(0, 1, 2 supplements): a second one counts late
ON_TIME = 0.93
IN_PERSON = 0.3  # of the dossiers handed in during office hours; the others come online
BY_POST = 0.02
OFFICE_HOURS = (7.5 * 3600, 17 * 3600)
WAKING_HOURS = (6 * 3600, 23 * 3600)
IN_OFFICE_HOURS = 0.88
CLOSE_OF_BUSINESS = time(17, 0)
HOUR, DAY = 3600.0, 86400.0

NOTES = {
    "refuse": gettext_noop("Hồ sơ không thuộc thẩm quyền giải quyết của cơ quan"),
    "reject": gettext_noop("Không đủ điều kiện theo quy định"),
    "request_supplement": gettext_noop("Đề nghị bổ sung bản chụp giấy tờ còn thiếu"),
    "withdraw": gettext_noop("Tôi muốn rút hồ sơ để nộp lại sau"),
}
TEXTS = (
    "Theo giấy tờ kèm theo",
    "Bệnh viện Đa khoa tỉnh Đồng Tháp",
    "Trạm Y tế xã",
    "Ấp Tân Thuận, xã Bình Thành",
    "Số 12, đường Nguyễn Huệ, phường 1",
    "Đồng Tháp",
    "Tiền Giang",
    "Kinh",
    "Đi làm ăn xa",
    "Nhu cầu cá nhân",
    "Bổ sung hồ sơ vay vốn ngân hàng",
)

Row = tuple[Any, ...]


class SeedError(ValueError):
    """A bad argument to the seeding, in words the operator can act on."""


# --- what the generator needs to know --------------------------------------------------------


@dataclass(frozen=True)
class Move:
    """One workflow step as generated: who (a role, or the citizen) takes it."""

    action: str
    source: str
    target: str
    role: str
    note: str


@dataclass(frozen=True)
class ProcedurePlan:
    version_id: int
    code: str
    days: int
    cutoff: time | None
    fee: int
    exemptions: tuple[str, ...]  # codes of the fee exemptions
    fields: tuple[tuple[str, str, Any], ...]  # (name, kind, argument) of the declaration
    # The closed and the open statuses the workflow reaches, with cumulative weights.
    outcomes: tuple[tuple[str, ...], tuple[float, ...]]
    states: tuple[tuple[str, ...], tuple[float, ...]]
    paths: dict[str, tuple[Move, ...]]  # the steps after `submit` that reach each status
    withdrawals: tuple[tuple[Move, ...], ...]  # ways to a withdrawal, one per point of exit
    supplement: tuple[Move, Move] | None  # the request and the citizen's answer
    supplement_from: str  # where a supplement may be requested


@dataclass(frozen=True)
class AgencyPlan:
    id: int
    code: str
    procedures: tuple[ProcedurePlan, ...]
    procedure_weights: tuple[float, ...]  # cumulative
    officials: dict[str, tuple[str, ...]]  # role -> usernames (possibly none)


@dataclass
class DossierBatch:
    dossiers: list[Row] = field(default_factory=list)
    events: list[Row] = field(default_factory=list)
    counters: dict[str, int] = field(default_factory=dict)  # receipt scope -> highest number
    open: int = 0


def _bfs(transitions: Sequence[TransitionView], goal: str) -> tuple[TransitionView, ...] | None:
    """The shortest run of forward steps (no supplement, nothing the citizen does) from
    `submitted` to `goal`."""
    forward = [
        t for t in transitions if CITIZEN not in t.roles and t.target != SUPPLEMENT_REQUESTED
    ]
    paths: dict[str, tuple[TransitionView, ...]] = {SUBMITTED: ()}
    queue = deque([SUBMITTED])
    while queue:
        state = queue.popleft()
        if state == goal:
            return paths[state]
        for t in forward:
            if state in t.sources and t.target not in paths:
                paths[t.target] = (*paths[state], t)
                queue.append(t.target)
    return None


def _move(t: TransitionView, source: str) -> Move:
    role = CITIZEN if CITIZEN in t.roles else t.roles[0]
    note = NOTES.get(t.action, gettext_noop("Ghi chú")) if t.note_required else ""
    return Move(t.action, source, t.target, role, note)


def _moves(steps: Sequence[TransitionView]) -> tuple[Move, ...]:
    moves, state = [], SUBMITTED
    for t in steps:
        moves.append(_move(t, state))
        state = t.target
    return tuple(moves)


def procedure_plan(snapshot: ProcedureSnapshot) -> ProcedurePlan:
    """Which statuses the procedure's workflow can reach, and along which steps."""
    transitions = snapshot.transitions
    paths: dict[str, tuple[Move, ...]] = {}
    for status in {*CLOSED_OUTCOMES, *OPEN_STATES} - {SUPPLEMENT_REQUESTED}:
        found = _bfs(transitions, status)
        if found is not None:
            paths[status] = _moves(found)
    paths[SUBMITTED] = ()
    request = next((t for t in transitions if t.target == SUPPLEMENT_REQUESTED), None)
    answer = next(
        (t for t in transitions if SUPPLEMENT_REQUESTED in t.sources and CITIZEN in t.roles),
        None,
    )
    supplement = None
    supplement_from = ""
    if request is not None and answer is not None and request.sources[0] in paths:
        supplement_from = request.sources[0]
        supplement = (
            _move(request, supplement_from),
            _move(answer, SUPPLEMENT_REQUESTED),
        )
        paths[SUPPLEMENT_REQUESTED] = (*paths[supplement_from], supplement[0])
    withdraw = next((t for t in transitions if t.target == WITHDRAWN), None)
    happy = paths.get(RETURNED, ())
    withdrawals: list[tuple[Move, ...]] = []
    if withdraw is not None:
        prefixes = [(SUBMITTED, ())] + [(m.target, happy[: i + 1]) for i, m in enumerate(happy)]
        withdrawals = [
            (*prefix, _move(withdraw, state))
            for state, prefix in prefixes
            if state in withdraw.sources
        ]
    outcomes = [s for s in CLOSED_OUTCOMES if s in paths or (s == WITHDRAWN and withdrawals)]
    states = [s for s in OPEN_STATES if s in paths]
    if RETURNED not in paths:
        raise SeedError(_("%(code)s: quy trình không đi tới trả kết quả") % {"code": snapshot.code})
    return ProcedurePlan(
        version_id=snapshot.version_id,
        code=snapshot.code,
        days=snapshot.days,
        cutoff=CIVIL_STATUS_CUTOFF if snapshot.civil_status else None,
        fee=snapshot.fee,
        exemptions=tuple(e["code"] for e in snapshot.fee_exemptions),
        fields=tuple(_field_kind(n, p) for n, p in snapshot.form_schema["properties"].items()),
        outcomes=(tuple(outcomes), tuple(accumulate(CLOSED_OUTCOMES[s] for s in outcomes))),
        states=(tuple(states), tuple(accumulate(OPEN_STATES[s] for s in states))),
        paths=paths,
        withdrawals=tuple(withdrawals),
        supplement=supplement,
        supplement_from=supplement_from,
    )


def _field_kind(name: str, prop: dict[str, Any]) -> tuple[str, str, Any]:
    """How to answer one field of the form, decided once per procedure."""
    prefill = prop.get("x-prefill", "")
    pattern = prop.get("pattern", "")
    if prefill in ("applicant.pin", "applicant.full_name"):
        return name, prefill, None
    if "enum" in prop:
        return name, "enum", tuple(prop["enum"])
    if prop.get("type") == "boolean":
        return name, "bool", None
    if prop.get("type") == "integer":
        low = int(prop.get("minimum", 1))
        return name, "int", (low, int(prop.get("maximum", low + 4)))
    if prop.get("format") == "date":
        return name, "date", None
    if prop.get("format") == "email":
        return name, "email", None
    if pattern == "^[0-9]{12}$":
        return name, "pin", None
    if pattern.startswith("^[0-9]{") and "," not in pattern:
        return name, "digits", int(pattern[7:].split("}")[0])
    if pattern.startswith("^[0-9+ ]"):
        return name, "phone", None
    if pattern.startswith("^([01]"):
        return name, "time", None
    if pattern:
        return name, "digits", 10
    if "ho_ten" in name:
        return name, "name", prop.get("maxLength", 100)
    if prefill.endswith("address"):
        return name, "address", prop.get("maxLength", 300)
    return name, "text", prop.get("maxLength", 300)


# --- generation ------------------------------------------------------------------------------


def _largest_remainder(total: int, weights: Sequence[float]) -> list[int]:
    """`total` split in proportion to `weights`, in whole numbers that add up to it."""
    whole = sum(weights)
    if total == 0 or whole <= 0:
        return [0] * len(weights)
    shares = [total * w / whole for w in weights]
    counts = [int(s) for s in shares]
    by_remainder = sorted(range(len(weights)), key=lambda i: counts[i] - shares[i])
    for i in by_remainder[: total - sum(counts)]:
        counts[i] += 1
    return counts


@dataclass
class DossierGenerator:
    """Dossiers day by day, oldest first, yielded in batches of whole days' rows."""

    agencies: list[AgencyPlan]
    agency_weights: list[float]  # cumulative, over `agencies`
    applicants: list[tuple[str, str]]
    open_in: dict[int, int]  # index in `agencies` -> open dossiers there
    count: int
    open_share: float
    seed: int
    now: datetime
    history_days: int
    calendar: WorkCalendar
    counters: dict[str, int]  # receipt scope -> the number already used
    ids: Callable[[int], Sequence[int]]
    batch_size: int = DEFAULT_BATCH_SIZE

    def __post_init__(self) -> None:
        self.rng = Random(self.seed)  # noqa: S311 - synthetic data, not cryptography
        self.tz = ZoneInfo(settings.TIME_ZONE)
        self.now_ts = self.now.timestamp()
        self.today = self.now.astimezone(self.tz).date()
        self._id_pool: deque[int] = deque()

    def batches(self) -> Iterator[DossierBatch]:
        days = [self.today - timedelta(days=age) for age in range(self.history_days - 1, -1, -1)]
        volume = [1.0 if self.calendar.is_working_day(d) else DAY_OFF_VOLUME for d in days]
        recent = [self._recency(d) for d in days]
        fixed = sum(self.open_in.values())
        general = _largest_remainder(self.count - fixed, volume)
        extra = {
            index: _largest_remainder(k, [v * r for v, r in zip(volume, recent, strict=True)])
            for index, k in self.open_in.items()
        }
        # The chance that a dossier of a free agency is open, by age, so that about open_share
        # of the dossiers outside the fixed agencies are.
        free_share = 1.0 - sum(self._weight(i) for i in self.open_in)
        exposure = sum(n * r for n, r in zip(general, recent, strict=True)) * free_share
        scale = self.open_share * (self.count - fixed) * free_share / exposure if exposure else 0.0
        batch = DossierBatch()
        for i, day in enumerate(days):
            picks: list[tuple[int, bool]] = []
            p_open = min(1.0, scale * recent[i])
            for _pick in range(general[i]):
                index = bisect(self.agency_weights, self.rng.random() * self.agency_weights[-1])
                is_open = index not in self.open_in and self.rng.random() < p_open
                picks.append((index, is_open))
            for index, per_day in extra.items():
                picks.extend((index, True) for _ in range(per_day[i]))
            self._day(day, picks, batch)
            if len(batch.dossiers) >= self.batch_size or i == len(days) - 1:
                yield batch
                batch = DossierBatch()

    def _recency(self, day: date) -> float:
        age = (self.today - day).days
        return math.exp(-age / OPEN_DECAY_DAYS) if age < OPEN_WINDOW_DAYS else 0.0

    def _weight(self, index: int) -> float:
        low = self.agency_weights[index - 1] if index else 0.0
        return (self.agency_weights[index] - low) / self.agency_weights[-1]

    def _next_id(self) -> int:
        if not self._id_pool:
            self._id_pool.extend(self.ids(self.batch_size))
        return self._id_pool.popleft()

    def _day(self, day: date, picks: list[tuple[int, bool]], batch: DossierBatch) -> None:
        start = datetime.combine(day, time(0), tzinfo=self.tz).timestamp()
        working = self.calendar.is_working_day(day)
        timed = sorted((self._moment(start, working), index, o) for index, o in picks)
        stamp = day.strftime("%y%m%d")
        low, high = OFFICE_HOURS
        for t0, index, is_open in timed:
            agency = self.agencies[index]
            scope = f"receipt:{agency.code}:{stamp}"
            number = self.counters.get(scope, 0) + 1
            self.counters[scope] = batch.counters[scope] = number
            office = working and low <= t0 - start < high
            self._dossier(agency, f"{agency.code}-{stamp}-{number:04d}", t0, is_open, office, batch)

    def _moment(self, day_start: float, working: bool) -> float:
        """When a dossier came in on the day starting at `day_start`: mostly in office hours."""
        rng = self.rng
        if day_start + DAY > self.now_ts:  # today, up to now
            return day_start + (self.now_ts - day_start) * rng.random()
        low, high = OFFICE_HOURS if working and rng.random() < IN_OFFICE_HOURS else WAKING_HOURS
        return day_start + low + (high - low) * rng.random()

    def _local(self, ts: float) -> datetime:
        return datetime.fromtimestamp(ts, self.tz)

    def _dossier(
        self,
        agency: AgencyPlan,
        code: str,
        t0: float,
        is_open: bool,
        office: bool,
        batch: DossierBatch,
    ) -> None:
        rng = self.rng
        procedure = agency.procedures[
            bisect(agency.procedure_weights, rng.random() * agency.procedure_weights[-1])
        ]
        pin, name = self.applicants[int(rng.random() * len(self.applicants))]
        received = self._local(t0)
        due = self.calendar.appointment(received, procedure.days, cutoff=procedure.cutoff)
        status = _pick(rng, procedure.states if is_open else procedure.outcomes)
        moves = self._moves(procedure, status)
        times = self._times(procedure, moves, t0, due, status, is_open)
        # The clock stops from a supplement request to the answer; a second one counts late.
        requests = 0
        paused_on = None
        finished = None
        for move, at in zip(moves, times, strict=True):
            if procedure.supplement and move.action == procedure.supplement[0].action:
                requests += 1
                paused_on = self._local(at).date()
            elif paused_on is not None and move.source == SUPPLEMENT_REQUESTED:
                waited = self.calendar.working_days_between(paused_on, self._local(at).date())
                due = self.calendar.add_working_days(due, waited)
                paused_on = None
            if move.target in FINISHED and finished is None:
                finished = at
        late = requests > 1 or (finished is not None and self._local(finished).date() > due)
        roles = sorted({m.role for m in moves} - {CITIZEN})
        officials = {role: self._official(agency, role) for role in roles}
        assignee = ""
        dossier_id = self._next_id()
        citizen = f"citizen:{pin}"
        events = batch.events
        events.append((dossier_id, "submit", "", SUBMITTED, citizen, _utc(t0), ""))
        for move, at in zip(moves, times, strict=True):
            actor = citizen if move.role == CITIZEN else f"official:{officials[move.role]}"
            if move.action == "assign":
                assignee = self._official(agency, "processor")
                officials["processor"] = assignee
            events.append(
                (dossier_id, move.action, move.source, move.target, actor, _utc(at), move.note)
            )
        fee, exemption = procedure.fee, ""
        if fee and procedure.exemptions and rng.random() < 0.1:
            fee, exemption = 0, rng.choice(procedure.exemptions)
        batch.dossiers.append(
            (
                dossier_id,
                code,
                procedure.version_id,
                procedure.code,
                agency.id,
                pin,
                name,
                self._channel(office),
                status,
                self._declaration(procedure, pin, name, received.date()),
                fee,
                exemption,
                received,
                due,
                paused_on,
                requests,
                late,
                _utc(finished) if finished is not None else None,
                assignee,
                f"{code}-KQ1" if any(m.target == RESULT_ISSUED for m in moves) else "",
                len(moves) + 1,
                f"{rng.getrandbits(128):032x}",
            )
        )
        batch.open += status not in CLOSED

    def _moves(self, procedure: ProcedurePlan, status: str) -> tuple[Move, ...]:
        rng = self.rng
        if status == WITHDRAWN:
            return rng.choice(procedure.withdrawals)
        moves = procedure.paths[status]
        if procedure.supplement is None:
            return moves
        rounds = _rounds(rng.random())
        reached = [i for i, m in enumerate(moves) if m.target == procedure.supplement_from]
        if status == SUPPLEMENT_REQUESTED:
            # The last step is the open request; earlier rounds were answered.
            head, tail = moves[:-1], moves[-1:]
            return (*head, *procedure.supplement * min(rounds, 1), *tail)
        if not rounds or not reached:
            return moves
        at = reached[0] + 1
        return (*moves[:at], *procedure.supplement * rounds, *moves[at:])

    def _times(
        self,
        procedure: ProcedurePlan,
        moves: tuple[Move, ...],
        t0: float,
        due: date,
        status: str,
        is_open: bool,
    ) -> list[float]:
        """When each step was taken: in order, after the submission, never after now."""
        rng = self.rng
        if not moves:
            return []
        now = self.now_ts - 1
        if is_open:
            return sorted(t0 + (now - t0) * rng.random() for _ in moves)
        deadline = datetime.combine(due, CLOSE_OF_BUSINESS, tzinfo=self.tz).timestamp()
        if status == NOT_RECEIVED:
            finish = t0 + DAY * rng.random()
        elif status == WITHDRAWN or rng.random() < ON_TIME:
            finish = t0 + max(deadline - t0, HOUR / 2) * rng.random()
        else:
            finish = max(deadline, t0) + HOUR + 10 * DAY * rng.random()
        if finish >= now:
            finish = t0 + (now - t0) * rng.random()
        at = next(i for i, m in enumerate(moves) if m.target in FINISHED)
        before = sorted(t0 + (finish - t0) * rng.random() for _i in range(at))
        after, last = [], finish
        for _move_after in moves[at + 1 :]:
            last = min(now, last + 3 * DAY * rng.random())
            after.append(last)
        return [*before, finish, *after]

    def _official(self, agency: AgencyPlan, role: str) -> str:
        names = agency.officials.get(role)
        return self.rng.choice(names) if names else f"{role}.{agency.code.lower()}"

    def _channel(self, office: bool) -> int:
        """Handed in at the desk or by post only during office hours; online at any time."""
        if office:
            draw = self.rng.random()
            if draw < BY_POST:
                return Channel.POST
            if draw < BY_POST + IN_PERSON:
                return Channel.IN_PERSON
        return Channel.ONLINE

    def _declaration(self, procedure: ProcedurePlan, pin: str, name: str, on: date) -> str:
        rng = self.rng
        values: dict[str, Any] = {}
        for key, kind, argument in procedure.fields:
            if kind == "applicant.pin":
                values[key] = pin
            elif kind == "applicant.full_name":
                values[key] = name
            elif kind == "enum":
                values[key] = rng.choice(argument)
            elif kind == "bool":
                values[key] = rng.random() < 0.3
            elif kind == "int":
                values[key] = rng.randint(*argument)
            elif kind == "date":
                values[key] = (on - timedelta(days=rng.randrange(60))).isoformat()
            elif kind == "email":
                values[key] = f"nguoinop{rng.randrange(10**6)}@example.vn"
            elif kind == "pin":
                values[key] = self.applicants[int(rng.random() * len(self.applicants))][0]
            elif kind == "digits":
                values[key] = "".join(rng.choices("0123456789", k=argument))
            elif kind == "phone":
                values[key] = "09" + "".join(rng.choices("0123456789", k=8))
            elif kind == "time":
                values[key] = f"{rng.randrange(7, 22):02d}:{rng.randrange(60):02d}"
            elif kind == "name":
                values[key] = self.applicants[int(rng.random() * len(self.applicants))][1]
            elif kind == "address":
                values[key] = f"Số {rng.randrange(1, 300)}, ấp {rng.randrange(1, 12)}"[:argument]
            else:
                values[key] = rng.choice(TEXTS)[:argument]
        return json.dumps(values, ensure_ascii=False, separators=(",", ":"))


def _pick(rng: Random, choices: tuple[tuple[str, ...], tuple[float, ...]]) -> str:
    names, cumulative = choices
    return names[bisect(cumulative, rng.random() * cumulative[-1])]


def _rounds(draw: float) -> int:
    for rounds, chance in enumerate(SUPPLEMENT_ROUNDS):
        if draw < chance:
            return rounds
        draw -= chance
    return len(SUPPLEMENT_ROUNDS) - 1


def _utc(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


# --- loading ---------------------------------------------------------------------------------


def _agency_plans(agency_ids: Sequence[int]) -> tuple[list[AgencyPlan], list[float]]:
    plans: dict[str, ProcedurePlan] = {}
    agencies, weights = [], []
    for agency_id in dict.fromkeys(agency_ids):
        view: AgencyView = agency_get(agency_id)
        codes = sorted(code for code, _ in procedures_of_kind(view.kind))
        if not codes:
            continue  # this kind of agency handles no procedure online
        for code in codes:
            if code not in plans:
                plans[code] = procedure_plan(procedure_current(code))
        agencies.append(
            AgencyPlan(
                id=view.id,
                code=view.code,
                procedures=tuple(plans[c] for c in codes),
                # A few procedures make most of the work: weights 1, 1/2, 1/3 ...
                procedure_weights=tuple(accumulate(1 / (rank + 1) for rank in range(len(codes)))),
                officials={
                    role: tuple(username for username, _ in officials_of(view.id, role))
                    for role in ("receiver", "processor", "approver", "clerk")
                },
            )
        )
        weights.append(1.0 if view.kind in WARD_KINDS else PROVINCE_AGENCY_WEIGHT)
    return agencies, list(accumulate(weights))


def _reserved_ids(count: int) -> list[int]:
    """Ids from the table's own sequence, so that later ORM inserts never collide."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
            [Dossier._meta.db_table, count],
        )
        return [row[0] for row in cursor.fetchall()]


def _receipt_counters() -> dict[str, int]:
    return sequences_of("receipt:")


def dossier_generator(
    count: int,
    *,
    agencies: Sequence[int],
    open_share: float = DEFAULT_OPEN_SHARE,
    open_in: Mapping[int, int] | None = None,
    seed: int = 1,
    now: datetime | None = None,
    history_days: int = HISTORY_DAYS,
    batch_size: int = DEFAULT_BATCH_SIZE,
) -> DossierGenerator:
    """The generator `dossiers_load` copies from; bad arguments fail here, before any write."""
    open_in = dict(open_in or {})
    errors = []
    if count <= 0:
        errors.append(_("số hồ sơ phải lớn hơn 0: %(count)s") % {"count": count})
    if not 0 <= open_share <= 1:
        errors.append(_("tỉ lệ đang xử lý 0-1: %(open_share)s") % {"open_share": open_share})
    if any(n < 0 for n in open_in.values()) or sum(open_in.values()) > count:
        errors.append(_("số hồ sơ đang xử lý vượt tổng số"))
    if history_days < OPEN_WINDOW_DAYS:
        errors.append(_("cần ít nhất %(days)s ngày") % {"days": OPEN_WINDOW_DAYS})
    if errors:
        raise SeedError("; ".join(errors))
    plans, weights = _agency_plans([*agencies, *open_in])
    index = {plan.id: i for i, plan in enumerate(plans)}
    if not plans:
        raise SeedError(_("không có cơ quan nào giải quyết thủ tục"))
    if missing := [a for a in open_in if a not in index]:
        raise SeedError(
            _("cơ quan không giải quyết thủ tục nào: %(missing)s") % {"missing": missing}
        )
    applicants = household_heads(limit=APPLICANT_POOL)
    if not applicants:
        raise SeedError(_("Chưa có dân cư: chạy `motcua seed` trước"))
    return DossierGenerator(
        agencies=plans,
        agency_weights=weights,
        applicants=applicants,
        open_in={index[a]: n for a, n in open_in.items()},
        count=count,
        open_share=open_share,
        seed=seed,
        now=now or timezone.now(),
        history_days=history_days,
        calendar=work_calendar(),
        counters=_receipt_counters(),
        ids=_reserved_ids,
        batch_size=batch_size,
    )


def dossiers_load(
    count: int,
    *,
    agencies: Sequence[int],
    open_share: float = DEFAULT_OPEN_SHARE,
    open_in: Mapping[int, int] | None = None,
    seed: int = 1,
    progress: Callable[[int], None] | None = None,
    now: datetime | None = None,
    history_days: int = HISTORY_DAYS,
    batch_size: int = DEFAULT_BATCH_SIZE,
) -> int:
    """Generate and COPY `count` dossiers, spread over `agencies` (agency ids; those whose kind
    handles no procedure are left out), each with its timeline; returns how many were loaded.

    About `open_share` of them are still open (a status not in CLOSED), except in the agencies
    of `open_in` ({agency id: n}), which get exactly n open dossiers each (counted in `count`)
    and otherwise only closed ones. One transaction per batch; `progress` is told how many
    dossiers are loaded so far."""
    generator = dossier_generator(
        count,
        agencies=agencies,
        open_share=open_share,
        open_in=open_in,
        seed=seed,
        now=now,
        history_days=history_days,
        batch_size=batch_size,
    )
    if connection.in_atomic_block:
        raise RuntimeError("dossiers_load commits batch by batch: call it outside a transaction")
    indexes = (
        SecondaryIndexes(m for m, _, _ in _COPY_TABLES) if not Dossier.objects.exists() else None
    )
    skip_fk_triggers = may_skip_fk_triggers()
    loaded = opened = 0
    if progress:
        progress(0)
    try:
        for batch in generator.batches():
            with transaction.atomic(durable=True):
                if indexes:
                    indexes.drop()
                copy_batch(_COPY_TABLES, batch, skip_fk_triggers=skip_fk_triggers)
                sequences_raise(batch.counters)
                loaded += len(batch.dossiers)
                opened += batch.open
                if loaded == count:  # the last batch
                    if indexes:
                        indexes.rebuild()
                    audit_record(
                        actor=SEED_ACTOR,
                        action="dossiers.seed",
                        object_type="dossiers.dossier",
                        object_id=f"seed-{seed}",
                        reason=gettext_noop("Hồ sơ tổng hợp"),
                        after={"dossiers": loaded, "open": opened, "agencies": len(agencies)},
                    )
            if progress:
                progress(loaded)
    except BaseException:
        if indexes:
            indexes.rebuild_missing()
        raise
    return loaded


_COPY_TABLES: tuple[CopyTable, ...] = (
    (
        Dossier,
        (
            "id", "code", "procedure_version", "procedure_code", "agency", "applicant_pin",
            "applicant_name", "channel", "status", "declaration", "fee", "fee_exemption",
            "submitted_at", "due_on", "paused_on", "supplement_requests", "late", "finished_at",
            "assignee", "result_code", "version", "idempotency_key",
        ),
        "dossiers",
    ),
    (DossierEvent, ("dossier", "action", "source", "target", "actor", "at", "note"), "events"),
)  # fmt: skip
