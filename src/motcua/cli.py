"""The `motcua` command: Django's manage.py subcommands plus Motcua's own (see each app's
management/commands). Commands that need no database do not start one."""

from __future__ import annotations

import os
import sys

NO_DATABASE_COMMANDS = {"pin", "help", "version", "--help", "-h", "--version"}


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv if argv is None else argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "motcua.settings.dev")
    command = argv[1] if len(argv) > 1 else "help"
    if command not in NO_DATABASE_COMMANDS:
        from motcua.db import app_database_url, ensure_database

        ensure_database()
        # The background worker serves: it connects as the role that owns no tables (the web
        # server switches in motcua.core.server; migrations and the rest run as the owner).
        if argv[1:3] == ["procrastinate", "worker"] and (app_url := app_database_url()):
            os.environ["DATABASE_URL"] = app_url
    from django.core.management import execute_from_command_line

    execute_from_command_line(argv)


if __name__ == "__main__":
    main()
