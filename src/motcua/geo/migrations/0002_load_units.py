"""Load the 2025 and pre-2025 units and the old → new mapping from the installed packages."""

from django.db import migrations

from motcua.geo.loader import units_load


def load(apps, schema_editor):
    units_load(apps.get_model("geo", "AdministrativeUnit"), apps.get_model("geo", "UnitMapping"))


class Migration(migrations.Migration):
    dependencies = [("geo", "0001_initial")]
    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
