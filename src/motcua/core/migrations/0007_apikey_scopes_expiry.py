"""API keys get scopes and an expiry. Keys made before this could call every operation of the
API, which was the registry's reads: they keep exactly that scope, and expire 90 days from this
migration (the default of a new key)."""

import django.contrib.postgres.fields
from django.db import migrations, models
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

import motcua.core.models


def existing_keys_keep_their_reach(
    apps: StateApps, schema_editor: BaseDatabaseSchemaEditor
) -> None:
    apps.get_model("core", "ApiKey").objects.update(scopes=["registry:read"])


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0006_audit_hardening"),
    ]

    operations = [
        migrations.AddField(
            model_name="apikey",
            name="expires_at",
            field=models.DateTimeField(default=motcua.core.models.api_key_expiry),
        ),
        migrations.AddField(
            model_name="apikey",
            name="scopes",
            field=django.contrib.postgres.fields.ArrayField(
                base_field=models.CharField(max_length=50), blank=True, default=list, size=None
            ),
        ),
        migrations.RunPython(existing_keys_keep_their_reach, migrations.RunPython.noop),
    ]
