"""Administrative units, the old → new mapping, and the search helpers other apps reuse:
the pg_trgm and unaccent extensions and motcua_fold(text)."""

import django.contrib.postgres.indexes
import django.contrib.postgres.operations
import django.db.models.deletion
from django.db import migrations, models

# Lower case without accents; unaccent maps đ/Đ to d itself. IMMUTABLE so that indexes can use
# it; the dictionary is schema-qualified and the body is SQL-standard (parsed at creation), so
# the function neither depends on search_path nor lets unaccent be dropped from under it.
FOLD_SQL = """
CREATE FUNCTION public.motcua_fold(text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN lower(public.unaccent('public.unaccent'::regdictionary, $1));
"""
FOLD_REVERSE_SQL = "DROP FUNCTION public.motcua_fold(text);"


class Migration(migrations.Migration):
    initial = True

    dependencies = []

    operations = [
        django.contrib.postgres.operations.TrigramExtension(),
        django.contrib.postgres.operations.UnaccentExtension(),
        migrations.RunSQL(FOLD_SQL, FOLD_REVERSE_SQL),
        migrations.CreateModel(
            name="AdministrativeUnit",
            fields=[
                (
                    "key",
                    models.CharField(
                        help_text='"<scheme>:<code>"',
                        max_length=16,
                        primary_key=True,
                        serialize=False,
                    ),
                ),
                (
                    "scheme",
                    models.CharField(
                        choices=[
                            ("2025", "Từ 01/07/2025 (Nghị quyết 202/2025/QH15)"),
                            ("pre2025", "Trước 01/07/2025"),
                        ],
                        max_length=8,
                    ),
                ),
                (
                    "code",
                    models.CharField(
                        help_text="Mã thống kê (statistics office code)", max_length=5
                    ),
                ),
                (
                    "level",
                    models.CharField(
                        choices=[
                            ("province", "Tỉnh / thành phố"),
                            ("district", "Quận / huyện"),
                            ("ward", "Phường / xã"),
                        ],
                        max_length=8,
                    ),
                ),
                (
                    "kind",
                    models.CharField(
                        help_text="Loại, as it prefixes the name: tỉnh, xã, …", max_length=16
                    ),
                ),
                ("name", models.CharField(max_length=100)),
                (
                    "full_name",
                    models.CharField(help_text="The name with its parents", max_length=255),
                ),
                ("valid_from", models.DateField(blank=True, null=True)),
                ("valid_to", models.DateField(blank=True, null=True)),
                (
                    "parent",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="children",
                        to="geo.administrativeunit",
                    ),
                ),
                (
                    "province",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="geo.administrativeunit",
                    ),
                ),
            ],
            options={
                "verbose_name": "đơn vị hành chính",
                "verbose_name_plural": "đơn vị hành chính",
            },
        ),
        migrations.CreateModel(
            name="UnitMapping",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "basis",
                    models.CharField(
                        choices=[
                            ("law", "Nghị quyết 202/2025/QH15 (whole provinces merged)"),
                            (
                                "code_kept",
                                "The new ward kept this old ward's code, so it covers (part of) it",
                            ),
                        ],
                        max_length=16,
                    ),
                ),
                (
                    "new",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="predecessor_links",
                        to="geo.administrativeunit",
                    ),
                ),
                (
                    "old",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="successor_links",
                        to="geo.administrativeunit",
                    ),
                ),
            ],
            options={
                "verbose_name": "chuyển đổi đơn vị cũ → mới",
                "verbose_name_plural": "chuyển đổi đơn vị cũ → mới",
            },
        ),
        migrations.AddIndex(
            model_name="administrativeunit",
            index=django.contrib.postgres.indexes.GinIndex(
                django.contrib.postgres.indexes.OpClass(
                    models.Func(
                        models.F("name"), function="motcua_fold", output_field=models.TextField()
                    ),
                    name="gin_trgm_ops",
                ),
                name="geo_unit_name_trgm",
            ),
        ),
        migrations.AddConstraint(
            model_name="administrativeunit",
            constraint=models.UniqueConstraint(
                fields=("scheme", "code"), name="geo_unit_scheme_code_unique"
            ),
        ),
        migrations.AddConstraint(
            model_name="unitmapping",
            constraint=models.UniqueConstraint(
                fields=("old", "new"), name="geo_mapping_old_new_unique"
            ),
        ),
    ]
