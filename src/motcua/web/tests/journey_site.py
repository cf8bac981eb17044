"""The site the journeys walk in the tests (motcua.web.journeys): the demo's data (made by
`motcua demo`, called by name: nothing imports the demo app) in the test database, served by a
live server of its own, for one test module.

The module's tests then only read what the walk found, so they need no database of their own:
one set-up, one sign-in per role, one browser for the module. The database is left as a
serialized-rollback test leaves it: flushed, with the migrations' data restored.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from io import StringIO

from django.conf import settings
from django.core.management import call_command
from django.db import connections
from django.test.utils import override_settings
from pytest_django.live_server_helper import LiveServer

from motcua.web.journeys import Cast, Login, mother_of_the_birth

DEMO_CITIZENS = "400"
OFFICIAL = "motcua.xa"  # the one-stop officer of the demo citizens' commune
CLERK = "lamsach.congan"  # the data-cleaning official with the demo's linkage job
POLICE = "congan.xa"  # the commune police officer, a linked package's step in the queue
INSURANCE = "bhxh.tinh"  # the social-insurance officer, a funeral allowance waiting


@contextmanager
def demo_site() -> Iterator[tuple[str, Cast]]:
    """The live server's address and who signs in there. Call with the database unblocked."""
    connection = connections["default"]
    # It flushes the database afterwards: never anything but the test database (the module's
    # tests must be marked django_db, or pytest-django sets no test database up).
    test_name = connection.settings_dict["TEST"]["NAME"]
    if connection.settings_dict["NAME"] != test_name:
        raise RuntimeError(f"not the test database {test_name!r}: mark the tests django_db")
    migrated = getattr(connection, "_test_serialized_contents", None)
    if migrated:  # whatever earlier transactional tests left: the migrations' data
        _flush()
        connection.creation.deserialize_db_from_string(migrated)
    else:
        migrated = connection.creation.serialize_db_to_string()
    server = LiveServer("localhost")
    public = {
        "PUBLIC_URL": server.url,
        "OAUTH2_PROVIDER": {**settings.OAUTH2_PROVIDER, "OIDC_ISS_ENDPOINT": server.url + "/o"},
        "SMS_LOG_CODES": settings.SMS_LOG_CODES,  # the demo sets it: put back afterwards
    }
    previous_url = os.environ.get("MOTCUA_PUBLIC_URL")
    os.environ["MOTCUA_PUBLIC_URL"] = server.url  # the demo keeps the address it is given
    try:
        with override_settings(**public):
            printed = StringIO()
            call_command("demo", "--citizens", DEMO_CITIZENS, "--no-serve", stdout=printed)
            yield server.url, cast_of(printed.getvalue())
    finally:
        if previous_url is None:
            del os.environ["MOTCUA_PUBLIC_URL"]
        else:
            os.environ["MOTCUA_PUBLIC_URL"] = previous_url
        server.stop()
        connections.close_all()
        _flush()
        connection.creation.deserialize_db_from_string(migrated)


def _flush() -> None:
    """Empty every table, as Django's serialized rollback does (without post-migrate: the
    content types come back with the rest of the serialized data)."""
    call_command("flush", interactive=False, verbosity=0, inhibit_post_migrate=True)


def cast_of(printed: str) -> Cast:
    """Who signs in, from the logins `motcua demo` prints (what a person reads to try it)."""
    password = _found(r"Demo logins \(password: (\S+);", printed)
    officials_secret = _found(r"authenticator's code, secret ([A-Z2-7]+)", printed)
    pin = _found(r"^  (\d{12})  .* — mức 2,", printed)
    citizens_secret = _found(r"mức 2, TOTP secret ([A-Z2-7]+)", printed)
    mother, relation = mother_of_the_birth(pin)
    return Cast(
        citizen=Login(pin, password, citizens_secret),
        official=Login(OFFICIAL, password, officials_secret),
        clerk=Login(CLERK, password, officials_secret),
        mother_pin=mother,
        relation=relation,
        police=Login(POLICE, password, officials_secret),
        insurance=Login(INSURANCE, password, officials_secret),
    )


def _found(pattern: str, text: str) -> str:
    match = re.search(pattern, text, re.MULTILINE)
    if match is None:
        raise AssertionError(f"`motcua demo` printed no {pattern!r}:\n{text}")
    return match[1]
