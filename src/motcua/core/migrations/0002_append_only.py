"""The audit and access logs are append-only: the database refuses UPDATE and DELETE."""

from django.db import migrations

SQL = """
CREATE FUNCTION motcua_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP;
END $$;
CREATE TRIGGER core_auditentry_append_only BEFORE UPDATE OR DELETE ON core_auditentry
  FOR EACH ROW EXECUTE FUNCTION motcua_refuse_change();
CREATE TRIGGER core_accesslog_append_only BEFORE UPDATE OR DELETE ON core_accesslog
  FOR EACH ROW EXECUTE FUNCTION motcua_refuse_change();
"""

REVERSE = """
DROP TRIGGER core_auditentry_append_only ON core_auditentry;
DROP TRIGGER core_accesslog_append_only ON core_accesslog;
DROP FUNCTION motcua_refuse_change();
"""


class Migration(migrations.Migration):
    dependencies = [("core", "0001_initial")]
    operations = [migrations.RunSQL(SQL, REVERSE)]
