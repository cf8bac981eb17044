"""The probabilistic model (Splink): comparisons and blocking rules made for Vietnamese records,
trained by EM, and the plain model it is measured against.

Weights are learnt, not set: u from random pairs, m by expectation maximisation over blocked
pairs, each session leaving out the fields it blocks on.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import splink.comparison_level_library as cll
import splink.comparison_library as cl
from django.utils.translation import gettext as _
from splink import Linker, SettingsCreator, block_on
from splink.internals.blocking_rule_creator import BlockingRuleCreator
from splink.internals.database_api import DatabaseAPISubClass

from motcua.linkage.features import RECORDS, REGISTRY

# Pairs sampled for the u values and for each EM session: enough for stable estimates at any
# dataset size, few enough to train a million-record job in about a minute on two cores.
U_PAIRS = 3e6
EM_PAIRS = 1.5e6
SEED = 6


def _reordered() -> cll.CustomLevel:
    """The same words in another order: the family name written last where the first word
    also looks like a family name ("Hoàng Nam Nguyễn"), which normalisation leaves alone."""
    return cll.CustomLevel("sorted_tokens_l = sorted_tokens_r", _("Cùng các chữ, khác thứ tự"))


def _name_comparisons() -> list[cl.CustomComparison]:
    """Family, middle and given names, each on its own: a typo in one costs only its weight, and
    the given name (the last token) tells people apart far better than the family name, of
    which Nguyễn alone is 38 %. Exact accented agreement earns more than agreement without
    accents; Huỳnh/Hoàng and Võ/Vũ (one family name, two regional spellings) nearly agree."""
    given = cl.CustomComparison(
        output_column_name="given",
        comparison_levels=[
            cll.NullLevel("given"),
            cll.ExactMatchLevel("given_acc").configure(label_for_charts=_("Trùng có dấu")),
            cll.ExactMatchLevel("given").configure(
                tf_adjustment_column="given",
                label_for_charts=_("Trùng không dấu"),
            ),
            _reordered(),
            # Given names are short: one slip ("Lan" → "Lam") is already far in Jaro-Winkler.
            cll.DamerauLevenshteinLevel("given", 1),
            cll.JaroWinklerLevel("given", 0.88),
            cll.ElseLevel(),
        ],
    )
    family = cl.CustomComparison(
        output_column_name="family",
        comparison_levels=[
            cll.NullLevel("family"),
            cll.ExactMatchLevel("family").configure(tf_adjustment_column="family"),
            _reordered(),
            cll.ExactMatchLevel("family_group").configure(
                label_for_charts="Cùng họ, khác cách viết / Huỳnh-Hoàng, Võ-Vũ"
            ),
            cll.DamerauLevenshteinLevel("family", 1),
            cll.ElseLevel(),
        ],
    )
    middle = cl.CustomComparison(
        output_column_name="middle",
        comparison_levels=[
            # One side without a middle name (often left out in sector data) says nothing.
            cll.CustomLevel("(middle_l = '') <> (middle_r = '')", _("Một bên thiếu")).configure(
                is_null_level=True
            ),
            cll.ExactMatchLevel("middle"),
            cll.JaroWinklerLevel("middle", 0.88),
            cll.ElseLevel(),
        ],
    )
    return [family, middle, given]


def _date_comparison() -> cl.CustomComparison:
    """Dates of birth may be partial (year only, month and year) or have day and month swapped;
    each kind of agreement is its own level, so EM learns what each is worth."""
    return cl.CustomComparison(
        output_column_name="dob",
        comparison_levels=[
            cll.CustomLevel("birth_year_l IS NULL OR birth_year_r IS NULL").configure(
                is_null_level=True
            ),
            cll.CustomLevel("dob_l = dob_r", _("Trùng ngày")),
            cll.CustomLevel(
                "birth_year_l = birth_year_r AND birth_month_l = birth_day_r AND birth_day_l = birth_month_r",
                _("Đảo ngày-tháng"),
            ),
            cll.CustomLevel(
                "birth_year_l = birth_year_r AND birth_month_l = birth_month_r AND (birth_day_l IS NULL OR birth_day_r IS NULL)",
                _("Trùng tháng-năm, thiếu ngày"),
            ),
            cll.CustomLevel(
                "birth_year_l = birth_year_r AND (birth_month_l IS NULL OR birth_month_r IS NULL)",
                _("Trùng năm, thiếu tháng"),
            ),
            cll.CustomLevel(
                "abs(birth_year_l - birth_year_r) = 1 AND birth_month_l = birth_month_r AND birth_day_l = birth_day_r",
                _("Lệch một năm"),
            ),
            cll.CustomLevel("birth_year_l = birth_year_r", _("Cùng năm")),
            cll.ElseLevel(),
        ],
    )


def _place_comparison() -> cl.CustomComparison:
    return cl.CustomComparison(
        output_column_name="place",
        comparison_levels=[
            cll.CustomLevel("province_l IS NULL OR province_r IS NULL").configure(
                is_null_level=True
            ),
            cll.ExactMatchLevel("ward"),
            cll.ExactMatchLevel("province"),
            cll.ElseLevel(),
        ],
    )


# Never the family name alone (Nguyễn would make blocks of hundreds of thousands). Each rule
# survives a different corruption: a typo in the given name, a swapped or partial date, the
# family name written last, a moved address.
BLOCKING_RULES: list[BlockingRuleCreator | dict[str, Any]] = [
    block_on("dob", "given"),
    block_on("dob", "family_group"),
    block_on("birth_year", "sorted_tokens"),
    block_on("birth_year", "dm_key", "given"),
    block_on("birth_year", "given", "ward"),
    block_on("sorted_tokens", "birth_month", "birth_day"),
    block_on("cmnd"),
]


def settings() -> SettingsCreator:
    return SettingsCreator(
        link_type="link_only",
        comparisons=[
            *_name_comparisons(),
            _date_comparison(),
            cl.ExactMatch("sex"),
            cl.ExactMatch("cmnd"),
            _place_comparison(),
        ],
        blocking_rules_to_generate_predictions=BLOCKING_RULES,
        retain_intermediate_calculation_columns=True,
        retain_matching_columns=False,
    )


def train(linker: Linker) -> None:
    """The prior from pairs that agree on the whole name and date (taken to find 80 % of the
    links); u from random pairs; m by EM in three sessions, so that every field is estimated in
    at least one session that does not block on it."""
    linker.training.estimate_probability_two_random_records_match(
        [block_on("dob", "name_fold")], recall=0.8
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=U_PAIRS, seed=SEED)
    for rule in (
        block_on("dob", "given"),  # family, middle, sex, cmnd, place
        block_on("name_fold", "ward"),  # date, sex, cmnd
        block_on("dob", "family_group"),  # given, middle
    ):
        linker.training.estimate_parameters_using_expectation_maximisation(
            rule, max_pairs=EM_PAIRS, estimate_without_term_frequencies=True
        )


def linker_new(db_api: DatabaseAPISubClass, model: Path | SettingsCreator) -> Linker:
    """A linker (on a database API of its own) over what the deterministic passes left:
    the tables `records_rest` and `registry_rest`."""
    tables = [
        db_api.register(f"{RECORDS}_rest", dataset_display_name=RECORDS),
        db_api.register(f"{REGISTRY}_rest", dataset_display_name=REGISTRY),
    ]
    settings_arg: Any = str(model) if isinstance(model, Path) else model
    return Linker(tables, settings_arg)


# The plain model: Splink's own comparisons for name and date of birth, with no knowledge of
# Vietnamese names or of partial dates.
PLAIN_BLOCKING_RULES = [block_on("full_name"), block_on("birth_date")]


def plain_settings() -> SettingsCreator:
    return SettingsCreator(
        link_type="link_only",
        comparisons=[
            cl.NameComparison("full_name"),
            cl.DateOfBirthComparison("birth_date", input_is_string=True),
        ],
        blocking_rules_to_generate_predictions=list[BlockingRuleCreator | dict[str, Any]](
            PLAIN_BLOCKING_RULES
        ),
    )


def plain_train(linker: Linker) -> None:
    linker.training.estimate_u_using_random_sampling(max_pairs=U_PAIRS, seed=SEED)
    for rule in PLAIN_BLOCKING_RULES:
        linker.training.estimate_parameters_using_expectation_maximisation(rule, max_pairs=EM_PAIRS)
