"""Load the sector's rates from data/rates.json (rows already present are kept as they are)."""

import json
from datetime import date
from decimal import Decimal
from pathlib import Path

from django.db import migrations

RATES = Path(__file__).resolve().parent.parent / "data" / "rates.json"


def load(apps, schema_editor):
    Rate = apps.get_model("benefits", "Rate")
    rows = json.loads(RATES.read_text())["rates"]
    Rate.objects.bulk_create(
        [
            Rate(
                key=row["key"],
                valid_from=date.fromisoformat(row["valid_from"]),
                value=Decimal(row["value"]),
                legal_basis=row["legal_basis"],
                note=row.get("note", ""),
            )
            for row in rows
        ],
        ignore_conflicts=True,
    )


class Migration(migrations.Migration):
    dependencies = [("benefits", "0001_initial")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
