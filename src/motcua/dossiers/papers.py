"""Which papers of a procedure the citizen still has to upload, and which the state already holds
(the once-only rule)."""

from __future__ import annotations

from dataclasses import dataclass

from motcua.catalog.selectors import ComponentView, ProcedureSnapshot, Source, Status
from motcua.dossiers.models import Dossier


@dataclass(frozen=True)
class PaperNeed:
    component: ComponentView
    held_by: str  # "" when nobody holds it; else the source that does

    @property
    def upload(self) -> bool:
        return self.component.is_paper and not self.held_by


def _results_held(pin: str, codes: set[str]) -> set[str]:
    """Procedures whose electronic result this citizen already has from us (issued is enough:
    a linked package's next step uses the result the moment it is issued)."""
    if not codes:
        return set()
    return set(
        Dossier.objects.filter(
            applicant_pin=pin,
            procedure_code__in=codes,
            status__in=(Status.RESULT_ISSUED, Status.RETURNED),
        ).values_list("procedure_code", flat=True)
    )


def papers_needed(snapshot: ProcedureSnapshot, pin: str) -> list[PaperNeed]:
    """Every component with who holds it. Wallet documents are not consulted yet: the wallet
    is not built, so such papers are uploaded."""
    results = _results_held(
        pin, {c.source_ref for c in snapshot.components if c.source == Source.RESULT}
    )
    needs = []
    for component in snapshot.components:
        held = ""
        if component.held_by_registry or (
            component.source == Source.RESULT and component.source_ref in results
        ):
            held = component.source
        needs.append(PaperNeed(component, held))
    return needs
