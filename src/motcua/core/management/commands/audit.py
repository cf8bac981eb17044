from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from motcua.core.audit import audit_verify
from motcua.core.models import AuditEntry


class Command(BaseCommand):
    help = "Nhật ký thay đổi: `audit verify` checks the hash chain and names every broken entry."

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("verify", help="detect edited, deleted or inserted audit entries")

    def handle(self, *args: Any, **options: Any) -> None:
        problems = audit_verify()
        for problem in problems:
            self.stderr.write(f"entry {problem.entry_id}: {problem.problem}")
        if problems:
            raise CommandError(f"audit chain broken: {len(problems)} problem(s)")
        self.stdout.write(f"audit chain intact: {AuditEntry.objects.count()} entries verified")
