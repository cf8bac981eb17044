"""A benchmark for record linkage: a synthetic sector dataset drawn from the registry, with
controlled corruption, and the truth to score a linkage run against.

Most records are citizens of the registry, sampled without replacement and written the way a
sector database holds them: some carry the PIN, older ones the 9-digit CMND, and names, dates and
places are corrupted at the documented rates below. The rest are people the registry does not
know, with names recombined from registry names, so that they look like everyone else.

Each rate is the chance that a corruption hits a record it can apply to (a tone can only move in
a name that has an oa/oe/uy syllable; day and month can only swap when both are ≤ 12). The truth
file names the corruptions applied to each record, and generation is deterministic for a seed
(given the registry's contents).
"""

from __future__ import annotations

import tempfile
import unicodedata
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from random import Random

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from motcua.core.actors import Actor
from motcua.core.audit import audit_record
from motcua.geo import selectors as geo
from motcua.linkage.dataset import KINDS
from motcua.registry.selectors import LINKAGE_COLUMNS, linkage_extract, registry_stats
from motcua.registry.services import population_load

ACTOR = Actor(
    kind="system", ref="linkage-benchmark", permissions=frozenset({"registry.view_citizen"})
)
PURPOSE = gettext_noop("Tạo dữ liệu kiểm thử liên kết")
FORMATS = ("parquet", "csv")

# --- the documented rates ---------------------------------------------------------------------

NOT_IN_REGISTRY = 0.08  # exact share of records about people the registry does not know
WITH_PIN = 0.35  # newer records carry the PIN, always the right one
CMND_INSTEAD = 0.80  # of those with a CMND and no PIN in the record: the old CMND number
# Names
TYPO = 0.08  # one letter of one word substituted, deleted, transposed or inserted
NO_DIACRITICS = 0.20  # the source system has no accents (name and address): "Nguyen Van An"
UPPER_CASE = 0.50  # of those without diacritics: "NGUYEN VAN AN"
TONE_VARIANT = 0.05  # old or new tone placement in oa/oe/uy: "Hòa" <-> "Hoà", "Thủy" <-> "Thuỷ"
FAMILY_LAST = 0.03  # Western order: "Văn An Nguyễn"
SPELLING_SWAP = 0.10  # of those called Huỳnh/Hoàng or Võ/Vũ (about 1 in 10): ≈ 1 % of all
# Birth dates (at most one each); precise dates are written dd/mm/yyyy
YEAR_ONLY = 0.04  # "1985"
MONTH_YEAR = 0.02  # "03/1985"
YEAR_TYPO = 0.01  # the year off by one
SWAPPED_DATE = 0.03  # mm/dd/yyyy, when day ≤ 12 and day ≠ month
# Places and the rest
MOVED = 0.10  # another ward of the province and another address: the record is out of date
OLD_WARD = 0.15  # the pre-2025 key of the same ward, when the ward kept an old ward's code
SEX_MISSING = 0.02

CORRUPTIONS = (
    "typo", "no_diacritics", "tone_variant", "family_last", "spelling_swap",
    "year_only", "month_year", "year_typo", "swapped_date",
    "moved", "old_ward", "sex_missing",
)  # fmt: skip
SPELLINGS = {"Huỳnh": "Hoàng", "Hoàng": "Huỳnh", "Võ": "Vũ", "Vũ": "Võ"}
SEX_LABELS = {"M": "Nam", "F": "Nữ"}
OUTSIDERS_BORN = (date(1950, 1, 1).toordinal(), date(2007, 12, 31).toordinal())
TYPO_LETTERS = "abcdeghiklmnopqrstuvxy"  # the Vietnamese alphabet without its accents
PROGRESS_EVERY = 100_000

Progress = Callable[[str, int, int], None]  # (step, done, total)


class BenchmarkError(ValueError):
    """A bad argument, in words the operator can act on."""


@dataclass(frozen=True)
class BenchmarkFiles:
    dataset: Path
    truth: Path
    registry: int
    records: int
    counts: dict[str, int]  # each corruption, plus not_in_registry, with_pin and with_cmnd


def benchmark_make(
    *,
    registry: int,
    records: int,
    seed: int,
    out_dir: Path,
    kind: str = "gplx",
    file_format: str = "parquet",
    province_key: str = "2025:82",
    progress: Progress | None = None,
) -> BenchmarkFiles:
    """Write `records` sector records drawn from the first `registry` citizens (by PIN) to
    out_dir/dataset.<format>, and the truth to out_dir/truth.parquet. Citizens are loaded
    with the same seed if the registry holds fewer. Must run outside a transaction."""
    outsiders = _check_arguments(registry, records, kind, file_format)
    province_code, wards = _province(province_key)
    _fill_registry(registry, seed, province_key, progress)
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".benchmark-", dir=out_dir) as scratch:
        citizens = _registry_table(registry, Path(scratch) / "registry.csv")
        generator = _Generator(citizens, wards, _old_twins(citizens, wards), Random(seed))
        dataset, truth = generator.records(records, outsiders, province_code, progress)
        # Written aside first and moved into place, so that a failure leaves no half file.
        names = {"dataset": f"dataset.{file_format}", "truth": "truth.parquet"}
        _write(_columns(dataset, kind), Path(scratch) / names["dataset"], file_format)
        _write(truth, Path(scratch) / names["truth"], "parquet")
        paths = {k: (Path(scratch) / name).replace(out_dir / name) for k, name in names.items()}
    files = BenchmarkFiles(
        dataset=paths["dataset"],
        truth=paths["truth"],
        registry=registry,
        records=records,
        counts=dict(generator.counts),
    )
    _audit(files, seed, kind)
    return files


def _check_arguments(registry: int, records: int, kind: str, file_format: str) -> int:
    """How many records are about outsiders; BenchmarkError for a bad argument."""
    if registry <= 0 or records <= 0:
        raise BenchmarkError(_("Phải là số dương"))
    if kind not in KINDS:
        raise BenchmarkError(
            _("Không có loại dữ liệu '%(kind)s': %(join)s")
            % {"kind": kind, "join": ", ".join(KINDS)}
        )
    if file_format not in FORMATS:
        raise BenchmarkError(
            _("Định dạng '%(file_format)s': %(join)s")
            % {"file_format": file_format, "join": ", ".join(FORMATS)}
        )
    outsiders = round(records * NOT_IN_REGISTRY)
    if records - outsiders > registry:
        raise BenchmarkError(
            f"{records - outsiders:,} bản ghi từ {registry:,} công dân / too many records: "
            f"{records - outsiders:,} of them must be distinct citizens of a {registry:,} registry"
        )
    return outsiders


def _province(province_key: str) -> tuple[str, list[str]]:
    """The province's code and its ward keys."""
    province = geo.unit_get(province_key)
    if (
        not province
        or province.level != geo.Level.PROVINCE
        or province.scheme != geo.Scheme.CURRENT
    ):
        raise BenchmarkError(_("Không có tỉnh '%(province_key)s'") % {"province_key": province_key})
    return province.code, [w.key for w in geo.wards_of(province_key)]


def _fill_registry(registry: int, seed: int, province_key: str, progress: Progress | None) -> None:
    missing = registry - registry_stats().citizens
    if missing > 0:
        step = _("Tạo dân cư")
        population_load(
            missing,
            province_key=province_key,
            seed=seed,
            progress=(lambda done: progress(step, done, missing)) if progress else None,
        )


def _registry_table(registry: int, path: Path) -> dict[str, list[str | None]]:
    """The first `registry` citizens by PIN, column by column (empty values as None)."""
    linkage_extract(actor=ACTOR, path=str(path), purpose=PURPOSE)
    table = pa_csv.read_csv(
        path,
        convert_options=pa_csv.ConvertOptions(
            column_types={c: pa.string() for c in LINKAGE_COLUMNS}, strings_can_be_null=True
        ),
    )
    table = table.take(pc.sort_indices(table, [("pin", "ascending")])[:registry])
    return {c: table.column(c).to_pylist() for c in LINKAGE_COLUMNS}


def _old_twins(citizens: Mapping[str, Sequence[str | None]], wards: list[str]) -> dict[str, str]:
    """2025 ward key -> the pre-2025 ward that had the same code, where there was one."""
    current = {w for w in citizens["ward"] if w and w.startswith("2025:")} | set(wards)
    twin = {w: "pre2025:" + w.removeprefix("2025:") for w in current}
    known = geo.units_get(twin.values())
    return {w: old for w, old in twin.items() if old in known}


# --- generation -------------------------------------------------------------------------------


class _Generator:
    """Draws the records, each a tuple of strings (None when empty) in the order of ROW."""

    ROW = ("sector_id", "full_name", "birth_date", "sex", "ward", "address", "cmnd", "pin")

    def __init__(
        self,
        citizens: Mapping[str, Sequence[str | None]],
        wards: list[str],
        old_twins: dict[str, str],
        rng: Random,
    ) -> None:
        self.citizens, self.old_twins, self.rng = citizens, old_twins, rng
        in_province = set(wards)
        # Whoever lives in the province lends a (ward, address) to movers and outsiders.
        self.homes = [
            (w, a)
            for w, a in zip(citizens["ward"], citizens["address"], strict=True)
            if w in in_province and a
        ] or [(w, f"Số {n}") for n, w in enumerate(wards, start=1)]
        everyone = range(len(citizens["pin"]))
        self.by_sex = {
            s: [i for i in everyone if citizens["sex"][i] == s] or everyone for s in "MF"
        }
        self.latest_birth = max(filter(None, citizens["birth_date"]), default="")
        self.counts = Counter[str]({c: 0 for c in CORRUPTIONS})

    def records(
        self, records: int, outsiders: int, province_code: str, progress: Progress | None
    ) -> tuple[dict[str, list[str | None]], dict[str, list[str | None]]]:
        """(dataset columns by field, truth columns), in shuffled order."""
        rng = self.rng
        sources = rng.sample(range(len(self.citizens["pin"])), records - outsiders)
        sources += [-1] * outsiders
        rng.shuffle(sources)
        serials = rng.sample(range(10**10), records)  # licence-like: province code + 10 digits
        dataset: dict[str, list[str | None]] = {f: [] for f in self.ROW}
        truth: dict[str, list[str | None]] = {"sector_id": [], "pin": [], "corruptions": []}
        columns = [dataset[f] for f in self.ROW]
        for done, (source, serial) in enumerate(zip(sources, serials, strict=True), start=1):
            sector_id = f"{province_code:0>2}{serial:010d}"
            row, pin, applied = self._outsider() if source < 0 else self._citizen(source)
            for column, value in zip(columns, (sector_id, *row), strict=True):
                column.append(value)
            truth["sector_id"].append(sector_id)
            truth["pin"].append(pin)
            truth["corruptions"].append(",".join(applied))
            self.counts.update(applied)
            if progress and (done % PROGRESS_EVERY == 0 or done == records):
                progress(_("Tạo bản ghi"), done, records)
        self.counts.update(
            not_in_registry=outsiders,
            with_pin=sum(1 for p in dataset["pin"] if p),
            with_cmnd=sum(1 for c in dataset["cmnd"] if c),
        )
        return dataset, truth

    def _citizen(self, i: int) -> tuple[tuple[str | None, ...], str | None, list[str]]:
        c, rng = self.citizens, self.rng
        pin, cmnd = c["pin"][i], c["cmnd"][i]
        given_pin = pin if rng.random() < WITH_PIN else None
        given_cmnd = cmnd if cmnd and not given_pin and rng.random() < CMND_INSTEAD else None
        row, applied = self._corrupted(
            c["full_name"][i] or "",
            c["birth_date"][i],
            c["birth_date_precision"][i] or "day",
            c["sex"][i],
            c["ward"][i],
            c["address"][i],
        )
        return (*row, given_cmnd, given_pin), pin, applied

    def _outsider(self) -> tuple[tuple[str | None, ...], None, list[str]]:
        """Someone the registry does not know: the family name of one citizen, the middle name
        of another and the given name of a third of the same sex, a plausible birth date and a
        home in the province."""
        rng, names = self.rng, self.citizens["full_name"]
        sex = "M" if rng.random() < 0.5 else "F"
        family, middle, given = (
            str(names[rng.choice(self.by_sex[s])]).split() for s in (rng.choice("MF"), sex, sex)
        )
        full_name = " ".join([family[0], *middle[1:-1], given[-1]])
        born = date.fromordinal(rng.randint(*OUTSIDERS_BORN)).isoformat()
        ward, address = rng.choice(self.homes)
        row, applied = self._corrupted(full_name, born, "day", sex, ward, address)
        return (*row, None, None), None, applied

    def _corrupted(
        self,
        full_name: str,
        born: str | None,
        precision: str,
        sex: str | None,
        ward: str | None,
        address: str | None,
    ) -> tuple[tuple[str | None, ...], list[str]]:
        """(full_name, birth_date, sex, ward, address) as the sector holds them, and the
        corruptions applied."""
        applied: list[str] = []
        rng = self.rng
        plain = rng.random() < NO_DIACRITICS
        name = self._name(full_name, plain, applied)
        birth_date = self._birth_date(born, precision, applied) if born else None
        sex_label = SEX_LABELS.get(sex or "")
        if rng.random() < SEX_MISSING:
            sex_label = None
            applied.append("sex_missing")
        if ward and rng.random() < MOVED:
            ward, address = self._moved(ward, address, applied)
        if ward in self.old_twins and rng.random() < OLD_WARD:
            ward = self.old_twins[ward]
            applied.append("old_ward")
        if plain and address:
            address = without_diacritics(address)
        return (name, birth_date, sex_label, ward, address), applied

    def _name(self, name: str, plain: bool, applied: list[str]) -> str:
        rng = self.rng
        words = name.split()
        if words and words[0] in SPELLINGS and rng.random() < SPELLING_SWAP:
            words[0] = SPELLINGS[words[0]]
            applied.append("spelling_swap")
        # Drawn before looking at the words: the test is slower than the draw.
        if not plain and rng.random() < TONE_VARIANT and any(map(has_tone_variant, words)):
            words = [tone_moved(w) if has_tone_variant(w) else w for w in words]
            applied.append("tone_variant")
        if words and rng.random() < TYPO:
            k = rng.randrange(len(words))
            words[k] = typo(words[k], rng)
            applied.append("typo")
        if len(words) > 1 and rng.random() < FAMILY_LAST:
            words = [*words[1:], words[0]]
            applied.append("family_last")
        name = " ".join(words)
        if plain:
            name = without_diacritics(name)
            if rng.random() < UPPER_CASE:
                name = name.upper()
            applied.append("no_diacritics")
        return name

    def _birth_date(self, iso: str, precision: str, applied: list[str]) -> str:
        """dd/mm/yyyy, mm/yyyy or yyyy, as precise as the registry, with at most one of the
        date corruptions."""
        year, month, day = iso[:4], iso[5:7], iso[8:10]
        draw = self.rng.random()
        if draw < YEAR_ONLY:
            if precision != "year":
                precision = "year"
                applied.append("year_only")
        elif (draw := draw - YEAR_ONLY) < MONTH_YEAR:
            if precision == "day":
                precision = "month"
                applied.append("month_year")
        elif (draw := draw - MONTH_YEAR) < YEAR_TYPO:
            typos = [y for y in (int(year) - 1, int(year) + 1) if self._real_birth(y, month, day)]
            if typos:
                year = str(self.rng.choice(typos))
                applied.append("year_typo")
        elif draw - YEAR_TYPO < SWAPPED_DATE and precision == "day" and _swappable(day, month):
            day, month = month, day
            applied.append("swapped_date")
        if precision == "year":
            return year
        return f"{month}/{year}" if precision == "month" else f"{day}/{month}/{year}"

    def _real_birth(self, year: int, month: str, day: str) -> bool:
        """A mistyped year still gives a real date, no later than the registry's newest birth
        (no 29 February 1961; the registry rather than today, so that the files only depend on
        the seed and the registry)."""
        try:
            born = date(year, int(month or 1), int(day or 1))
        except ValueError:
            return False
        return born.isoformat() <= self.latest_birth

    def _moved(self, ward: str, address: str | None, applied: list[str]) -> tuple[str, str | None]:
        """The home of another citizen in another ward of the province (a few tries)."""
        for _attempt in range(10):
            new_ward, new_address = self.rng.choice(self.homes)
            if new_ward != ward and new_address != address:
                applied.append("moved")
                return new_ward, new_address
        return ward, address


def _swappable(day: str, month: str) -> bool:
    """Read the other way round, the date is still a date, and a different one."""
    return day <= "12" and day != month  # two-digit strings compare like numbers


# --- text corruptions -------------------------------------------------------------------------

_TONES = frozenset("\u0300\u0301\u0303\u0309\u0323")  # huyền, sắc, ngã, hỏi, nặng
_NO_DECOMPOSITION = str.maketrans({"đ": "d", "Đ": "D"})
_TONE_VARIANT_ENDINGS = ("oa", "oe", "uy")


def without_diacritics(text: str) -> str:
    """ "Nguyễn Đức Hòa" -> "Nguyen Duc Hoa" (đ has no decomposition, so it is mapped)."""
    decomposed = unicodedata.normalize("NFD", text.translate(_NO_DECOMPOSITION))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _tone_split(letter: str) -> tuple[str, str]:
    """("ò") -> ("o", grave); a letter without a tone mark -> (letter, "")."""
    decomposed = unicodedata.normalize("NFD", letter)
    tone = next((c for c in decomposed if c in _TONES), "")
    if not tone:
        return letter, ""
    return unicodedata.normalize("NFC", decomposed.replace(tone, "")), tone


def has_tone_variant(word: str) -> bool:
    """An open oa/oe/uy syllable with a tone mark: the mark may sit on either vowel ("qu" is a
    consonant, so "Quý" has no variant)."""
    if len(word) < 2 or word[-3:-2].lower() == "q":
        return False
    (first, tone1), (second, tone2) = _tone_split(word[-2]), _tone_split(word[-1])
    return (first + second).lower() in _TONE_VARIANT_ENDINGS and bool(tone1 or tone2)


def tone_moved(word: str) -> str:
    """ "Hòa" <-> "Hoà", "Thủy" <-> "Thuỷ": the tone mark moves to the other vowel."""
    (first, tone1), (second, tone2) = _tone_split(word[-2]), _tone_split(word[-1])
    moved = unicodedata.normalize("NFC", first + tone2) + unicodedata.normalize(
        "NFC", second + tone1
    )
    return word[:-2] + moved


def typo(word: str, rng: Random) -> str:
    """One letter substituted, deleted, inserted or two neighbours transposed; the first letter
    keeps its capital (people rarely mistype it), and the word changes even without its
    accents: "ữu" -> "uữ" would be no typo once the accents are gone."""
    operation = rng.choice(("substitute", "delete", "transpose", "insert"))
    if operation == "delete" and len(word) > 2:
        k = rng.randrange(1, len(word))
        return word[:k] + word[k + 1 :]
    if operation == "transpose" and len(word) > 2:
        k = rng.randrange(1, len(word) - 1)
        if without_diacritics(word[k]).lower() != without_diacritics(word[k + 1]).lower():
            return word[:k] + word[k + 1] + word[k] + word[k + 2 :]
    if operation == "insert":
        k = rng.randrange(1, len(word) + 1)
        return word[:k] + rng.choice(TYPO_LETTERS) + word[k:]
    k = rng.randrange(1, len(word)) if len(word) > 1 else 0
    # Not the same letter, nor its unaccented form: that would be a lost accent, not a typo.
    letter = rng.choice([c for c in TYPO_LETTERS if c != without_diacritics(word[k]).lower()])
    return word[:k] + (letter.upper() if word[k].isupper() else letter) + word[k + 1 :]


# --- files ------------------------------------------------------------------------------------


def _columns(dataset: dict[str, list[str | None]], kind: str) -> dict[str, list[str | None]]:
    """The fields under the kind's column names, in the kind's order."""
    return {column: dataset[field] for field, column in KINDS[kind].columns.items()}


def _write(columns: dict[str, list[str | None]], path: Path, file_format: str) -> None:
    table = pa.table({name: pa.array(values, type=pa.string()) for name, values in columns.items()})
    if file_format == "csv":
        pa_csv.write_csv(table, path)  # strings quoted, nulls left empty
    else:
        pq.write_table(table, path)


def _audit(files: BenchmarkFiles, seed: int, kind: str) -> None:
    """One row for the job: it read the registry's linkage facts of every citizen."""
    with transaction.atomic():
        audit_record(
            actor=ACTOR,
            action="linkage.benchmark",
            object_type="linkage.benchmark",
            object_id=str(files.dataset),
            reason=PURPOSE,
            after={"registry": files.registry, "records": files.records, "seed": seed,
                   "kind": kind, "counts": files.counts},
        )  # fmt: skip
