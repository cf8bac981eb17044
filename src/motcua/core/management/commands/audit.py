from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext_noop

from motcua.core.audit import (
    AuditChainBroken,
    audit_checkpoint_latest,
    audit_checkpoint_write,
    audit_verify,
)
from motcua.core.models import AuditEntry


class Command(BaseCommand):
    help = gettext_noop("Nhật ký thay đổi")

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser(
            "verify", help="detect edited, deleted, inserted or re-chained audit entries"
        )
        sub.add_parser(
            "checkpoint", help="verify the new entries and export a signed checkpoint of the head"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "checkpoint":
            self._checkpoint()
        else:
            self._verify()

    def _verify(self) -> None:
        problems = audit_verify()
        for problem in problems:
            self.stderr.write(f"entry {problem.entry_id}: {problem.problem}")
        if problems:
            raise CommandError(f"audit chain broken: {len(problems)} problem(s)")
        checkpoint, _head = audit_checkpoint_latest()
        against = (
            f"; agrees with checkpoint {checkpoint.path} (entry {checkpoint.entry_id}, "
            f"{checkpoint.at})"
            if checkpoint
            else "; no checkpoint yet (run `motcua audit checkpoint`)"
        )
        self.stdout.write(
            f"audit chain intact: {AuditEntry.objects.count()} entries verified{against}"
        )

    def _checkpoint(self) -> None:
        try:
            checkpoint = audit_checkpoint_write()
        except AuditChainBroken as broken:
            for problem in broken.problems:
                self.stderr.write(f"entry {problem.entry_id}: {problem.problem}")
            raise CommandError(str(broken)) from broken
        if checkpoint is None:
            self.stdout.write("no new audit entries since the last checkpoint")
        else:
            self.stdout.write(
                f"checkpoint {checkpoint.path}: entry {checkpoint.entry_id}, "
                f"{checkpoint.count} entries"
            )
