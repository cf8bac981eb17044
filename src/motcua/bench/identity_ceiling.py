"""The ceiling of `motcua bench identity`: the verification endpoint's database work (the token
lookup, the registry comparison, the access-log row) done by a bare WSGI handler.

No Django here: the ceiling's gunicorn workers import this module. The SQL is the statements
the Django path runs (see identity.api, registry.selectors.citizen_verify, core.access)."""

from __future__ import annotations

import hashlib
import unicodedata
from datetime import date
from typing import Any

PARTNER_SQL = """
SELECT t.scope, p.name FROM oauth2_provider_accesstoken t
JOIN identity_partner p ON p.application_id = t.application_id
WHERE t.token_checksum = %s AND t.expires > now()
"""
VERIFY_SQL = """
SELECT c.full_name, c.birth_date, c.birth_date_precision, c.sex, c.death_date, c.cmnd,
       EXISTS (SELECT 1 FROM registry_idcard k WHERE k.citizen_pin = c.pin
               AND k.status = 'active' AND (k.expires_on IS NULL OR k.expires_on >= %s))
FROM registry_citizen c WHERE c.pin = %s
"""
LOG_SQL = "SELECT motcua_access_log_add(%s, %s, 'partner', 'registry.verification', %s)"


def _key(name: str) -> str:
    return " ".join(unicodedata.normalize("NFC", name).casefold().split())


def ceiling_handler(cursor: Any, body: dict[str, Any]) -> Any:
    checksum = hashlib.sha256(body["token"].encode()).hexdigest()
    cursor.execute(PARTNER_SQL, [checksum])
    token = cursor.fetchone()
    if token is None or "ekyc" not in token[0].split():
        return 401, {"detail": "unauthorized"}
    cursor.execute(VERIFY_SQL, [date.today(), body["pin"]])
    row = cursor.fetchone()
    if row is None:
        return {"pin": "no_match", "alive": None}
    cursor.execute(LOG_SQL, [[body["pin"]], f"partner:{token[1]}", body["purpose"]])
    full_name, born, _precision, _sex, death_date, _cmnd, _card = row
    return {
        "pin": "match",
        "full_name": "match" if _key(body["full_name"]) == _key(full_name) else "no_match",
        "birth_date": "match" if body["birth_date"] == born.isoformat() else "no_match",
        "alive": death_date is None,
    }
