"""The saga on the real background queue: a `motcua procrastinate worker` process killed in the
middle of the packages, started again, and every package still completes once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.db import connection

from motcua.db import EMBEDDED_MARK
from motcua.dossiers import services
from motcua.dossiers.models import Dossier, Package, PackageStatus, PackageStep
from motcua.dossiers.tests.family import birth_package, drive, family_ready
from motcua.registry.selectors import life_events_by_reference

CHILDREN = ("An", "Bình", "Chi", "Dũng", "Giang", "Hà", "Khoa", "Lan", "Minh", "Nga")


def _worker_env() -> dict[str, str]:
    """This test's database on the same server, as the owner (no application role here)."""
    server = urlsplit(os.environ["DATABASE_URL"])
    env = os.environ.copy()
    env["DATABASE_URL"] = urlunsplit(server._replace(path="/" + connection.settings_dict["NAME"]))
    env["DJANGO_SETTINGS_MODULE"] = "motcua.settings.test"
    env.pop(EMBEDDED_MARK, None)
    return env


@contextmanager
def worker() -> Iterator[subprocess.Popen[bytes]]:
    process = subprocess.Popen(
        [sys.executable, "-m", "motcua.cli", "procrastinate", "worker", "--concurrency=2"],
        env=_worker_env(),
    )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def wait_for(condition: Callable[[], bool], *, timeout: float = 90) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return False


def filed_steps(position: int) -> int:
    return PackageStep.objects.filter(position=position, dossier__isnull=False).count()


def kill_midway(position: int, total: int) -> None:
    """Run a worker until some but not all of the steps at `position` are filed, then kill it
    without warning (SIGKILL: no graceful stop, its job stays taken)."""
    with worker() as process:
        assert wait_for(lambda: filed_steps(position) > 0)
        process.send_signal(signal.SIGKILL)
        process.wait()
    assert filed_steps(position) < total, "the worker finished before it could be killed"


def run_until(condition: Callable[[], bool]) -> None:
    """A fresh worker, and the sweep that picks up what the killed one had taken."""
    with worker():
        services.packages_sweep()
        assert wait_for(condition), "the packages did not move on after the restart"


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_worker_killed_mid_package_leaves_every_package_complete_once() -> None:
    family = family_ready()
    packages = [birth_package(family, ho_ten_tre=f"Trần Minh {name}") for name in CHILDREN]
    total = len(packages)

    assert filed_steps(1) == total  # the birth registrations are filed with their packages
    for step in PackageStep.objects.filter(position=1):
        assert step.dossier_id is not None
        drive(family, step.dossier_id)
    kill_midway(2, total)
    run_until(lambda: filed_steps(2) == total and filed_steps(3) == total)

    for step in PackageStep.objects.filter(position__in=(2, 3)):
        assert step.dossier_id is not None
        drive(family, step.dossier_id)
    run_until(lambda: Package.objects.filter(status=PackageStatus.COMPLETED).count() == total)

    assert Dossier.objects.count() == 3 * total
    for filed in packages:
        first = PackageStep.objects.get(package_id=filed.id, position=1).dossier
        assert first is not None
        births = [e for e in life_events_by_reference(reference=first.code) if e.kind == "birth"]
        assert len(births) == 1
