"""The import contract of apps' faces, on a hand-made import graph: the faces and test factories
pass, any other module of an app is refused, wiring modules may import anything."""

from __future__ import annotations

from grimp import ImportGraph

from motcua.architecture import FacesContract


def _graph(*imports: tuple[str, str]) -> ImportGraph:
    graph = ImportGraph()
    for package in ("app", "app.registry", "app.registry.tests", "app.web", "app.web.tests"):
        graph.add_module(package)
    for importer, imported in imports:
        graph.add_import(importer=importer, imported=imported)
    return graph


def _contract() -> FacesContract:
    return FacesContract(
        name="faces",
        session_options={},
        contract_options={
            "apps": ["app.registry"],
            "faces": ["services", "selectors"],
            "wiring": ["app.urls"],
        },
    )


def test_faces_test_factories_and_wiring_pass() -> None:
    check = _contract().check(
        _graph(
            ("app.web.pages", "app.registry.selectors"),
            ("app.web.pages", "app.registry.services"),
            ("app.web.tests.test_pages", "app.registry.tests.factories"),
            ("app.urls", "app.registry.api"),
            ("app.registry.services", "app.registry.models"),
        ),
        verbose=False,
    )
    assert check.kept


def test_any_other_module_of_an_app_breaks_the_contract() -> None:
    check = _contract().check(
        _graph(
            ("app.web.pages", "app.registry.models"),
            ("app.web.pages", "app.registry.seed"),
            ("app.web.pages", "app.registry.tests.factories"),  # pages may not use test code
        ),
        verbose=False,
    )
    assert not check.kept
    assert sorted(check.metadata["broken"]) == [
        ("app.web.pages", "app.registry.models"),
        ("app.web.pages", "app.registry.seed"),
        ("app.web.pages", "app.registry.tests.factories"),
    ]
