from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand

from motcua.core.server import serve


class Command(BaseCommand):
    help = "Serve Motcua with gunicorn (the embedded database is already running)."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--workers", type=int, default=3)
        parser.add_argument("--threads", type=int, default=4)
        parser.add_argument("--quiet", action="store_true", help="no access log")

    def handle(self, *args: Any, **options: Any) -> None:
        serve(
            host=options["host"],
            port=options["port"],
            workers=options["workers"],
            threads=options["threads"],
            quiet=options["quiet"],
        )
