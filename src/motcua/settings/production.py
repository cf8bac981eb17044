"""Production: refuses to start with debug on or with a default secret."""

import os

from django.core.exceptions import ImproperlyConfigured

from motcua.settings.base import *  # noqa: F403
from motcua.settings.base import DEBUG, INSECURE_DEFAULT_SECRET, SECRET_KEY, STORAGES

if DEBUG:
    raise ImproperlyConfigured("MOTCUA_DEBUG must be off in production.")
if SECRET_KEY == INSECURE_DEFAULT_SECRET or len(SECRET_KEY) < 50:
    raise ImproperlyConfigured(
        "Set MOTCUA_SECRET_KEY to a random secret of at least 50 characters."
    )

SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_HSTS_SECONDS = 31536000
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
WHITENOISE_USE_FINDERS = False
STORAGES = {
    **STORAGES,
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

if not os.environ.get("MOTCUA_OIDC_ISSUER", "").startswith("https://"):
    raise ImproperlyConfigured("Set MOTCUA_OIDC_ISSUER to the provider's https URL (…/o).")
if not os.environ.get("MOTCUA_PUBLIC_URL", "").startswith("https://"):
    raise ImproperlyConfigured("Set MOTCUA_PUBLIC_URL to the platform's https URL.")
