from django.db import migrations

# One round trip for a read's access-log row: the function sets synchronous_commit for its own
# transaction (the statement's, in autocommit), so the commit does not wait for the WAL flush.
FUNCTION = """
CREATE FUNCTION motcua_access_log_add(
    p_pins text[], p_actor text, p_kind text, p_data text, p_purpose text
) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    PERFORM set_config('synchronous_commit', 'off', true);
    INSERT INTO core_accesslog (at, subject_pin, actor, actor_kind, data, purpose)
    SELECT now(), pin, p_actor, p_kind, p_data, p_purpose FROM unnest(p_pins) AS pin;
END $$;
"""


class Migration(migrations.Migration):
    dependencies = [("core", "0002_append_only")]

    operations = [
        migrations.RunSQL(
            FUNCTION, "DROP FUNCTION motcua_access_log_add(text[], text, text, text, text)"
        )
    ]
