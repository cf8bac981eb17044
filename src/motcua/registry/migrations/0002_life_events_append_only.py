"""Life events are the registry's source of truth: the database refuses UPDATE and DELETE."""

from django.db import migrations

SQL = """
CREATE TRIGGER registry_lifeevent_append_only BEFORE UPDATE OR DELETE ON registry_lifeevent
  FOR EACH ROW EXECUTE FUNCTION motcua_refuse_change();
"""
REVERSE = "DROP TRIGGER registry_lifeevent_append_only ON registry_lifeevent;"


class Migration(migrations.Migration):
    dependencies = [("registry", "0001_initial"), ("core", "0002_append_only")]
    operations = [migrations.RunSQL(SQL, REVERSE)]
