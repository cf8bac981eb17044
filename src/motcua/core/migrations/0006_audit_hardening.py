"""Harden the audit log against the database's own owner (issue 13, item 9).

1. Re-chain: every existing entry's hash becomes HMAC-SHA256 under the audit key
   (settings.AUDIT_KEY, kept outside the database). One scheme for the whole chain means no
   downgrade path: an unkeyed entry is always a forgery. Re-chaining would bless whatever the
   table holds, so the old plain SHA-256 chain is verified first and a broken chain stops the
   migration, naming the entry (investigate, then decide by hand).
2. TRUNCATE is refused on the append-only tables (audit, access log, life events) by a
   statement trigger. The one escape is for a session of the table's owner that sets
   `motcua.allow_truncate = on` (the test settings do, for Django's flush between tests): an
   owner can disable triggers anyway, nobody else holds the TRUNCATE privilege.
3. The application role `motcua_app` (LOGIN, owns nothing): read and write on every table and
   sequence, now and (default privileges) for tables later migrations create, but on the
   append-only tables only SELECT and INSERT. Serving processes connect as it (motcua.db);
   migrations and management commands that change the schema run as the owner. Where the owner
   may not create roles (no CREATEROLE), the role is left to the operator and the grants are
   skipped with a notice.

A frozen copy of the hashing of motcua.core.audit (a migration must not import live code).
"""

import hashlib
import hmac
import json
from datetime import UTC

from django.conf import settings
from django.db import migrations

GENESIS_HASH = "0" * 64
BATCH = 5000


def _fields(entry):
    return {
        "id": entry.pk,
        "at": entry.at.astimezone(UTC).isoformat(),
        "actor": entry.actor,
        "action": entry.action,
        "object_type": entry.object_type,
        "object_id": entry.object_id,
        "reason": entry.reason,
        "before": entry.before,
        "after": entry.after,
    }


def _payload(prev_hash, entry):
    fields = json.dumps(_fields(entry), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return (prev_hash + fields).encode()


def _sha256(prev_hash, entry):
    return hashlib.sha256(_payload(prev_hash, entry)).hexdigest()


def _hmac(prev_hash, entry):
    return hmac.new(settings.AUDIT_KEY, _payload(prev_hash, entry), hashlib.sha256).hexdigest()


def _rechain(apps, schema_editor, *, old, new):
    AuditEntry = apps.get_model("core", "AuditEntry")
    AuditHead = apps.get_model("core", "AuditHead")
    connection = schema_editor.connection
    with connection.cursor() as cursor:
        cursor.execute("LOCK TABLE core_auditentry, core_audithead IN ACCESS EXCLUSIVE MODE")
        cursor.execute("ALTER TABLE core_auditentry DISABLE TRIGGER core_auditentry_append_only")
        old_prev = new_prev = GENESIS_HASH
        last_id = 0
        while True:
            batch = list(AuditEntry.objects.filter(pk__gt=last_id).order_by("pk")[:BATCH])
            if not batch:
                break
            rows = []
            for entry in batch:
                if entry.prev_hash != old_prev or old(entry.prev_hash, entry) != entry.hash:
                    raise RuntimeError(
                        f"audit entry {entry.pk} does not verify under the old scheme: the chain "
                        "was tampered with before this migration; investigate before re-chaining"
                    )
                old_prev = entry.hash
                rows.append((entry.pk, new_prev, new(new_prev, entry)))
                new_prev = rows[-1][2]
            cursor.execute(
                "UPDATE core_auditentry AS e SET prev_hash = v.prev_hash, hash = v.hash "
                "FROM unnest(%s::bigint[], %s::text[], %s::text[]) AS v(id, prev_hash, hash) "
                "WHERE e.id = v.id",
                [[r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows]],
            )
            last_id = batch[-1].pk
        head = AuditHead.objects.filter(pk=1).first()
        if head is not None:
            if head.last_hash != old_prev:
                raise RuntimeError("the audit head does not match the last entry: investigate")
            head.last_hash = new_prev
            head.save(update_fields=["last_hash"])
        cursor.execute("ALTER TABLE core_auditentry ENABLE TRIGGER core_auditentry_append_only")


def rechain_keyed(apps, schema_editor):
    _rechain(apps, schema_editor, old=_sha256, new=_hmac)


def rechain_plain(apps, schema_editor):
    _rechain(apps, schema_editor, old=_hmac, new=_sha256)


TRUNCATE_SQL = """
CREATE FUNCTION motcua_refuse_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF current_setting('motcua.allow_truncate', true) = 'on'
     AND pg_has_role(current_user,
                     (SELECT relowner FROM pg_class WHERE oid = TG_RELID), 'USAGE') THEN
    RETURN NULL;
  END IF;
  RAISE EXCEPTION '% is append-only: TRUNCATE refused', TG_TABLE_NAME;
END $$;
CREATE TRIGGER core_auditentry_no_truncate BEFORE TRUNCATE ON core_auditentry
  FOR EACH STATEMENT EXECUTE FUNCTION motcua_refuse_truncate();
CREATE TRIGGER core_accesslog_no_truncate BEFORE TRUNCATE ON core_accesslog
  FOR EACH STATEMENT EXECUTE FUNCTION motcua_refuse_truncate();
CREATE TRIGGER registry_lifeevent_no_truncate BEFORE TRUNCATE ON registry_lifeevent
  FOR EACH STATEMENT EXECUTE FUNCTION motcua_refuse_truncate();
"""
TRUNCATE_REVERSE = """
DROP TRIGGER core_auditentry_no_truncate ON core_auditentry;
DROP TRIGGER core_accesslog_no_truncate ON core_accesslog;
DROP TRIGGER registry_lifeevent_no_truncate ON registry_lifeevent;
DROP FUNCTION motcua_refuse_truncate();
"""

# The role is cluster-wide (test databases on one server share it); its grants are per database.
ROLE_SQL = """
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'motcua_app') THEN
    BEGIN
      CREATE ROLE motcua_app LOGIN;
    EXCEPTION
      WHEN duplicate_object OR unique_violation THEN NULL;  -- a concurrent migration made it
      WHEN insufficient_privilege THEN
        RAISE NOTICE 'cannot create role motcua_app: create it (LOGIN, owning nothing) and '
                     'run the grants of core migration 0006 by hand';
        RETURN;
    END;
  END IF;
  EXECUTE format('GRANT CONNECT, TEMPORARY ON DATABASE %I TO motcua_app', current_database());
  GRANT USAGE ON SCHEMA public TO motcua_app;
  GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO motcua_app;
  GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO motcua_app;
  ALTER DEFAULT PRIVILEGES IN SCHEMA public
    GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO motcua_app;
  ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO motcua_app;
  REVOKE UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER
    ON core_auditentry, core_accesslog, registry_lifeevent FROM motcua_app;
END $$;
"""
ROLE_REVERSE = """
DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'motcua_app') THEN
    ALTER DEFAULT PRIVILEGES IN SCHEMA public
      REVOKE SELECT, INSERT, UPDATE, DELETE ON TABLES FROM motcua_app;
    ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE USAGE, SELECT ON SEQUENCES FROM motcua_app;
    REVOKE ALL ON ALL TABLES IN SCHEMA public FROM motcua_app;
    REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM motcua_app;
  END IF;
END $$;
"""


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0005_holidays_seed"),
        ("registry", "0002_life_events_append_only"),
    ]

    operations = [
        migrations.RunPython(rechain_keyed, rechain_plain),
        migrations.RunSQL(TRUNCATE_SQL, TRUNCATE_REVERSE),
        migrations.RunSQL(ROLE_SQL, ROLE_REVERSE),
    ]
