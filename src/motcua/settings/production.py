"""Production: refuses to start with debug on, with a default secret, or with a messaging
default that writes one-time codes where they can be read (the log, the console, memory, files).
Everything `manage.py check --deploy` asks for is on by default; an environment variable can
turn a setting down where a proxy in front already does the job."""

import os

from django.core.exceptions import ImproperlyConfigured

from motcua.settings.base import *  # noqa: F403
from motcua.settings.base import (
    DEBUG,
    EMAIL_BACKEND,
    INSECURE_DEFAULT_SECRET,
    OAUTH2_PROVIDER,
    SECRET_KEY,
    SMS_GATEWAY,
    STORAGES,
)

if DEBUG:
    raise ImproperlyConfigured("MOTCUA_DEBUG must be off in production.")
if SECRET_KEY == INSECURE_DEFAULT_SECRET or len(SECRET_KEY) < 50:
    raise ImproperlyConfigured(
        "Set MOTCUA_SECRET_KEY to a random secret of at least 50 characters."
    )

# One-time codes travel in these messages: a backend that keeps them readable on the server
# (log lines, standard output, memory, files) hands every code to whoever reads the logs.
if SMS_GATEWAY == "motcua.core.messaging.LoggingSmsGateway":
    raise ImproperlyConfigured(
        "MOTCUA_SMS_GATEWAY is the logging gateway, which writes one-time codes to the log: "
        "set it to the dotted path of a real SMS gateway class."
    )
_LEAKY_MAIL = {
    "django.core.mail.backends.console.EmailBackend",
    "django.core.mail.backends.locmem.EmailBackend",
    "django.core.mail.backends.filebased.EmailBackend",
}
if EMAIL_BACKEND in _LEAKY_MAIL:
    raise ImproperlyConfigured(
        f"MOTCUA_EMAIL_BACKEND is {EMAIL_BACKEND}, which keeps one-time codes on the server: "
        "set it to an SMTP (or provider) backend."
    )


def _flag(name: str, default: bool = True) -> bool:
    return os.environ.get(name, "1" if default else "0") == "1"


SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_SSL_REDIRECT = _flag("MOTCUA_SSL_REDIRECT")
# The load balancer's health probe speaks plain HTTP inside the network.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_HSTS_SECONDS = int(os.environ.get("MOTCUA_HSTS_SECONDS", 31536000))
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = _flag("MOTCUA_HSTS_PRELOAD")
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
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

# Relying parties in production receive codes over https only (RFC 9700 §2.1); loopback
# redirect URIs of native apps are for development.
OAUTH2_PROVIDER = {**OAUTH2_PROVIDER, "ALLOWED_REDIRECT_URI_SCHEMES": ["https"]}
