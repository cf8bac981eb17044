"""An import-linter contract the built-in types cannot state: each domain app is reached from
outside only through its face (`services` and `selectors`), and tests may also use other
apps' test factories. Any other module of an app is its own business, however it is named, so
a new internal module is covered without editing the configuration. Used by `lint-imports`
(pyproject.toml), never imported by the platform."""

from __future__ import annotations

from typing import cast

from grimp import ImportGraph
from importlinter import Contract, ContractCheck, fields, output


class FacesContract(Contract):
    """Options: `apps` (the guarded packages), `faces` (their public submodules), `wiring`
    (modules that assemble the apps, such as URL confs, and may import any of them)."""

    type_name = "faces"

    apps = fields.ListField(subfield=fields.StringField())
    faces = fields.ListField(subfield=fields.StringField())
    wiring = fields.ListField(subfield=fields.StringField(), required=False, default=[])

    def check(self, graph: ImportGraph, verbose: bool) -> ContractCheck:
        apps = cast("list[str]", self.apps)  # fields hold the parsed options once populated
        broken = [
            (importer, imported)
            for app in apps
            for imported in sorted(graph.find_descendants(app))
            for importer in sorted(graph.find_modules_that_directly_import(imported))
            if not self._allowed(app, importer, imported)
        ]
        return ContractCheck(kept=not broken, metadata={"broken": broken})

    def render_broken_contract(self, check: ContractCheck) -> None:
        for importer, imported in check.metadata["broken"]:
            output.print_error(f"{importer} imports {imported}, which is not a face of its app")
            output.new_line()

    def _allowed(self, app: str, importer: str, imported: str) -> bool:
        wiring, faces = cast("list[str]", self.wiring), cast("list[str]", self.faces)
        if _within(importer, app) or any(_within(importer, w) for w in wiring):
            return True
        part = imported[len(app) + 1 :].split(".")[0]
        return part in faces or (part == "tests" and ".tests" in importer)


def _within(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")
