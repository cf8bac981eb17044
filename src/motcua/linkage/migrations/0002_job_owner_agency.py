import django.db.models.deletion
from django.db import migrations, models


def owners_from_creators(apps, schema_editor):
    """A job made before jobs had an owner belongs to its creator's agency (the first one, if
    they serve several); a creator of no agency leaves it without owner: nobody sees it."""
    LinkageJob = apps.get_model("linkage", "LinkageJob")
    Official = apps.get_model("catalog", "Official")
    first: dict[str, int] = {}
    for username, agency_id in Official.objects.order_by("agency_id").values_list(
        "user__username", "agency_id"
    ):
        first.setdefault(username, agency_id)
    for job in LinkageJob.objects.filter(agency__isnull=True).only("pk", "created_by"):
        if job.created_by in first:
            LinkageJob.objects.filter(pk=job.pk).update(agency_id=first[job.created_by])


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0002_agency_code_anchor"),
        ("linkage", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="linkagejob",
            name="agency",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="catalog.agency",
            ),
        ),
        migrations.AddIndex(
            model_name="linkagejob",
            index=models.Index(fields=["agency", "-created"], name="linkage_job_agency_newest"),
        ),
        migrations.RunPython(owners_from_creators, migrations.RunPython.noop),
    ]
