"""Tests: the embedded PostgreSQL server, a test database of its own, fast hashing."""

import os

from motcua.db import ensure_database

ensure_database()

from motcua.settings.base import *  # noqa: E402, F403
from motcua.settings.base import DATABASES, OAUTH2_PROVIDER, STORAGES, VAR_DIR  # noqa: E402

DATABASES["default"]["TEST"] = {"NAME": os.environ.get("MOTCUA_TEST_DB", "test_motcua")}
DATABASES["default"]["CONN_MAX_AGE"] = 0
# Django's flush between tests truncates every table: the append-only tables refuse TRUNCATE
# except to their owner's sessions that ask for it (core migration 0006).
DATABASES["default"]["OPTIONS"]["options"] = "-c motcua.allow_truncate=on"
AUDIT_CHECKPOINT_DIR = VAR_DIR / "test-audit-checkpoints"
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.MD5PasswordHasher",
    "motcua.identity.hashers.ClientSecretHasher",
]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
PRIVATE_MEDIA_ROOT = VAR_DIR / "test-private"
STORAGES = {
    **STORAGES,
    "private": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": PRIVATE_MEDIA_ROOT, "base_url": None},
    },
}
SMS_GATEWAY = "motcua.core.messaging.OutboxSmsGateway"
PUBLIC_URL = "http://localhost:8000"  # live-server tests override it and the issuer
OAUTH2_PROVIDER = {**OAUTH2_PROVIDER, "OIDC_ISS_ENDPOINT": PUBLIC_URL + "/o"}
