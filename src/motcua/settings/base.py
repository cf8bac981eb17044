"""Settings shared by every environment. Values come from the environment (MOTCUA_*, DATABASE_URL)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import dj_database_url
from django.utils.translation import gettext_lazy as _

from motcua.db import audit_key, var_dir
from motcua.identity.keys import oidc_keys

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = var_dir()

INSECURE_DEFAULT_SECRET = "insecure-development-key-do-not-use-in-production"  # noqa: S105
SECRET_KEY = os.environ.get("MOTCUA_SECRET_KEY", INSECURE_DEFAULT_SECRET)
DEBUG = os.environ.get("MOTCUA_DEBUG", "0") == "1"
ALLOWED_HOSTS = [
    h for h in os.environ.get("MOTCUA_ALLOWED_HOSTS", "127.0.0.1,localhost").split(",") if h
]

INSTALLED_APPS = [
    "motcua.web",  # first: its admin/base_site.html themes the admin to match the platform
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",  # numbers grouped by the language in templates (intcomma)
    "django.contrib.postgres",
    "ninja",  # the API docs from our own static files (not a CDN), as the CSP requires
    "oauth2_provider",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp_webauthn",
    "procrastinate.contrib.django",
    "motcua.core",
    "motcua.geo",
    "motcua.registry",
    "motcua.identity",
    "motcua.catalog",
    "motcua.insurance",
    "motcua.benefits",
    "motcua.dossiers",
    "motcua.linkage",
    "motcua.exchange",
    "motcua.demo",
    "motcua.bench",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "motcua.core.csp.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "motcua.core.middleware.LanguageMiddleware",  # Vietnamese unless English was chosen
    "django.middleware.common.CommonMiddleware",
    "motcua.core.middleware.InputGuardMiddleware",  # body cap and NUL refusal, before CSRF reads
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",  # request.user.is_verified(): the second factor
    "django.contrib.messages.middleware.MessageMiddleware",
    "motcua.identity.middleware.EidSessionMiddleware",
    "motcua.core.middleware.DomainErrorMiddleware",  # NotFound, PermissionDenied... as pages
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "motcua.urls"
WSGI_APPLICATION = "motcua.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "motcua.web.context_processors.layout",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", "postgresql:///motcua"), conn_max_age=60
    )
}
# Server-side parameters let psycopg prepare a statement after its fifth run on a connection:
# the hot lookups then skip PostgreSQL's planner, which costs more than their execution.
DATABASES["default"].setdefault("OPTIONS", {}).update(server_side_binding=True, prepare_threshold=5)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "motcua.identity.hashers.ClientSecretHasher",  # for OAuth client secrets only
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

# Vietnamese first; English by the switch in the header (a cookie remembers the choice). The
# Vietnamese text is the source (msgid); the English catalog is compiled at set-up.
LANGUAGE_CODE = "vi"
LANGUAGES = [("vi", "Tiếng Việt"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
LANGUAGE_COOKIE_AGE = 365 * 24 * 3600
LANGUAGE_COOKIE_SAMESITE = "Lax"
# Dates as people write them (17/05/1956), numbers grouped by the language (1.372 / 1,372).
FORMAT_MODULE_PATH = ["motcua.formats"]
TIME_ZONE = "Asia/Ho_Chi_Minh"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
# The design system (GOV.UK Frontend, themed) is installed from npm and compiled at set-up
# (`make setup`) into this directory, never committed.
FRONTEND_DIR = Path(
    os.environ.get("MOTCUA_FRONTEND_DIR", BASE_DIR.parent.parent / "build" / "frontend")
)
STATICFILES_DIRS = [FRONTEND_DIR]
STATIC_ROOT = VAR_DIR / "static"
MEDIA_ROOT = VAR_DIR / "media"
# Citizens' uploads and issued documents live outside the web root and are served only by views
# that check who is asking. Set MOTCUA_PRIVATE_STORAGE_BACKEND to an S3 backend in production.
PRIVATE_MEDIA_ROOT = Path(os.environ.get("MOTCUA_PRIVATE_MEDIA_ROOT", VAR_DIR / "private"))
STORAGES: dict[str, dict[str, Any]] = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    "private": {
        "BACKEND": os.environ.get(
            "MOTCUA_PRIVATE_STORAGE_BACKEND", "django.core.files.storage.FileSystemStorage"
        ),
        "OPTIONS": {"location": PRIVATE_MEDIA_ROOT, "base_url": None},
    },
}
UPLOAD_MAX_BYTES = int(os.environ.get("MOTCUA_UPLOAD_MAX_BYTES", 10 * 1024 * 1024))
# Above this, Django streams an upload to a temporary file instead of keeping it in memory.
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
# Request bodies: anything but a multipart form (JSON, plain forms) up to 1 MiB; a multipart form
# up to a few uploads plus the form's fields (core.middleware refuses more with 413 unread).
DATA_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024
REQUEST_MAX_BYTES = int(
    os.environ.get("MOTCUA_REQUEST_MAX_BYTES", 4 * UPLOAD_MAX_BYTES + DATA_UPLOAD_MAX_MEMORY_SIZE)
)
# Views whose uploads are larger than a dossier's papers: the linkage datasets (512 MiB, as
# linkage.services.max_upload_bytes allows).
REQUEST_MAX_BYTES_BY_VIEW = {
    "backoffice:linkage_jobs": max(UPLOAD_MAX_BYTES, 512 * 2**20) + DATA_UPLOAD_MAX_MEMORY_SIZE
}
# A TrueType font with Vietnamese glyphs for the PDFs Motcua prints (receipts, slips).
PDF_FONT = os.environ.get("MOTCUA_PDF_FONT", "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
PDF_FONT_BOLD = os.environ.get(
    "MOTCUA_PDF_FONT_BOLD", "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"
)
WHITENOISE_USE_FINDERS = True  # production serves collected files instead

SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
# Content-Security-Policy (django-csp 4): scripts and styles from our own static files only, no
# inline code; forms post only to the platform and, on the provider's pages, to the registered
# relying parties (motcua.core.csp adds their origins, as Chromium checks redirects too).
CONTENT_SECURITY_POLICY: dict[str, Any] = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    }
}
CSP_RELYING_PARTY_PATHS = ("/o/", "/id/")

# The audit chain's HMAC key lives outside the database (MOTCUA_AUDIT_KEY, else var/keys/audit.key);
# signed checkpoints of its head go to a directory outside the database, on a schedule.
AUDIT_KEY = audit_key(VAR_DIR / "keys" / "audit.key")
AUDIT_CHECKPOINT_DIR = Path(
    os.environ.get("MOTCUA_AUDIT_CHECKPOINT_DIR", VAR_DIR / "audit-checkpoints")
)
AUDIT_CHECKPOINT_CRON = os.environ.get("MOTCUA_AUDIT_CHECKPOINT_CRON", "*/10 * * * *")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("MOTCUA_LOG_LEVEL", "WARNING")},
}

# The e-ID provider (django-oauth-toolkit), configured to RFC 9700 and OpenID Connect Core.
# Where this deployment is reached from outside; the portal finds the provider there.
PUBLIC_URL = os.environ.get("MOTCUA_PUBLIC_URL", "http://localhost:8000").rstrip("/")
# Passkeys (django-otp-webauthn) as a second factor only, behind motcua.identity.passkeys: its
# helper takes the relying party id and origin from PUBLIC_URL at each request (so
# OTP_WEBAUTHN_ALLOWED_ORIGINS stays unset and its check is silenced). WebAuthn needs a domain:
# in development use MOTCUA_PUBLIC_URL=http://localhost:8000, not 127.0.0.1.
OTP_WEBAUTHN_HELPER_CLASS = "motcua.identity.passkeys.PasskeyHelper"
OTP_WEBAUTHN_RP_ID_CALLABLE = "motcua.identity.passkeys.rp_id"
OTP_WEBAUTHN_RP_NAME = "Motcua"
OTP_WEBAUTHN_ALLOW_PASSWORDLESS_LOGIN = False
SILENCED_SYSTEM_CHECKS = ["otp_webauthn.E030"]
_OIDC_KEY, _OIDC_RETIRED_KEYS = (
    (os.environ["MOTCUA_OIDC_KEY"], [])
    if "MOTCUA_OIDC_KEY" in os.environ
    else oidc_keys(VAR_DIR / "keys" / "oidc")
)
OIDC_SCOPES = {
    "openid": _("Mã định danh của bạn với dịch vụ này"),
    "profile": _("Họ tên, ngày sinh, giới tính"),
    "pin": _("Số định danh cá nhân"),
    "address": _("Nơi thường trú"),
    "ekyc": _("Xác thực thông tin công dân (dành cho đối tác)"),
    "dossiers": _("Nộp và theo dõi hồ sơ thủ tục hành chính thay bạn (dành cho cổng đối tác)"),
}
OAUTH2_PROVIDER = {
    "OIDC_ENABLED": True,
    # One fixed issuer: the id_token's `iss` and the authorization response's (RFC 9207).
    "OIDC_ISS_ENDPOINT": os.environ.get("MOTCUA_OIDC_ISSUER", PUBLIC_URL + "/o"),
    "OIDC_RSA_PRIVATE_KEY": _OIDC_KEY,
    "OIDC_RSA_PRIVATE_KEYS_INACTIVE": _OIDC_RETIRED_KEYS,
    "OIDC_RESPONSE_TYPES_SUPPORTED": ["code"],
    "OIDC_SUBJECT_TYPES_SUPPORTED": ["pairwise", "public"],
    "OIDC_RP_INITIATED_LOGOUT_ENABLED": True,
    "OIDC_RP_INITIATED_LOGOUT_ALWAYS_PROMPT": False,
    "OIDC_RP_INITIATED_LOGOUT_STRICT_REDIRECT_URIS": True,
    "OAUTH2_GRANT_TYPES_SUPPORTED": ["authorization_code", "client_credentials", "refresh_token"],
    "OAUTH2_RESPONSE_TYPES_SUPPORTED": ["code"],
    "SCOPES": OIDC_SCOPES,
    "DEFAULT_SCOPES": ["openid"],
    "SCOPES_BACKEND_CLASS": "motcua.identity.oidc.PartyScopes",
    "OAUTH2_VALIDATOR_CLASS": "motcua.identity.oidc.Validator",
    "PKCE_REQUIRED": True,
    "CLIENT_SECRET_HASHER": "sha256_client_secret",
    "AUTHORIZATION_CODE_EXPIRE_SECONDS": 60,
    "ACCESS_TOKEN_EXPIRE_SECONDS": 300,
    "ID_TOKEN_EXPIRE_SECONDS": 300,
    "REFRESH_TOKEN_EXPIRE_SECONDS": 8 * 3600,
    "ROTATE_REFRESH_TOKEN": True,
    "REFRESH_TOKEN_REUSE_PROTECTION": True,
    "REQUEST_APPROVAL_PROMPT": "force",  # our consent records decide, not earlier tokens
    "ALLOWED_REDIRECT_URI_SCHEMES": ["https", "http"],  # http for loopback only: see rp_add
    "COMPLIANT_BCP_RFC9700_IMPLICIT_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PASSWORD_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PKCE_METHOD": True,
    "COMPLIANT_BCP_RFC9700_ACCESS_TOKEN_TRANSPORT": True,
    "COMPLIANT_BCP_RFC9700_AUTHZ_RESPONSE_ISS": True,
    "COMPLIANT_BCP_RFC9700_TOKEN_STORAGE": True,
    "COMPLIANT_BCP_RFC9700_REFRESH_TOKEN": True,
    "COMPLIANT_BCP_RFC9700_REDIRECT_URI_SCHEME": True,
    "COMPLIANT_BCP_RFC9700_REDIRECT_URI_MATCHING": True,
    "COMPLIANT_BCP_RFC9700_PKCE_REQUIRED": True,
}
# The toolkit's models are swappable; naming them lets migrations depend on them.
OAUTH2_PROVIDER_APPLICATION_MODEL = "oauth2_provider.Application"
OAUTH2_PROVIDER_ACCESS_TOKEN_MODEL = "oauth2_provider.AccessToken"  # noqa: S105
OAUTH2_PROVIDER_REFRESH_TOKEN_MODEL = "oauth2_provider.RefreshToken"  # noqa: S105
OAUTH2_PROVIDER_ID_TOKEN_MODEL = "oauth2_provider.IDToken"  # noqa: S105
OAUTH2_PROVIDER_GRANT_MODEL = "oauth2_provider.Grant"
OAUTH2_PROVIDER_DEVICE_GRANT_MODEL = "oauth2_provider.DeviceGrant"
LOGIN_URL = "identity:login"

# Pairwise subject identifiers are keyed by this secret (a different sub per relying party).
PAIRWISE_KEY = os.environ.get("MOTCUA_PAIRWISE_KEY", SECRET_KEY + ":pairwise")
SMS_GATEWAY = os.environ.get("MOTCUA_SMS_GATEWAY", "motcua.core.messaging.LoggingSmsGateway")
# The logging gateway masks codes unless DEBUG or this is on (see core.messaging).
SMS_LOG_CODES = os.environ.get("MOTCUA_SMS_LOG_CODES", "0") == "1"
EMAIL_BACKEND = os.environ.get(
    "MOTCUA_EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend"
)
DEFAULT_FROM_EMAIL = os.environ.get("MOTCUA_FROM_EMAIL", "dinhdanh@motcua.local")

# Sessions: a fresh id at each sign-in; idle and absolute limits per e-ID level (see middleware).
SESSION_COOKIE_AGE = 12 * 3600
SESSION_COOKIE_SAMESITE = "Lax"
# Officials (back office, admin) are signed out after this long without a request.
STAFF_IDLE_SECONDS = 30 * 60
EID_SESSION_LIMITS = {
    1: {"idle": 60 * 60, "absolute": 12 * 3600},
    2: {"idle": 30 * 60, "absolute": 12 * 3600},
}
# Every password and second-factor check (e-ID, back office, admin) counts failures in the shared
# store (identity.limits): per address and account together, per account from anywhere, and
# per address across accounts (spraying). Refused attempts are never counted.
LOGIN_LIMITS = {
    "pair": {"limit": 5, "window_s": 15 * 60},
    "account": {"limit": 20, "window_s": 60 * 60},
    "address": {"limit": 100, "window_s": 15 * 60},
}
# One-time codes and registration attempts, per destination, per claimed PIN, per address.
CODE_LIMITS = {
    "destination_gap": {"limit": 1, "window_s": 60},
    "destination": {"limit": 3, "window_s": 60 * 60},
    "destination_day": {"limit": 5, "window_s": 24 * 3600},
    "pin": {"limit": 5, "window_s": 60 * 60},
    "address": {"limit": 20, "window_s": 60 * 60},
}
REGISTRATION_LIMITS = {
    "pin": {"limit": 5, "window_s": 24 * 3600},
    "address": {"limit": 20, "window_s": 60 * 60},
}
AUTHENTICATION_BACKENDS = ["motcua.identity.backends.ThrottledBackend"]
# Proxies whose forwarding header is believed (comma-separated addresses or networks), and the
# header they set; without them the socket's peer is the client.
TRUSTED_PROXIES = os.environ.get("MOTCUA_TRUSTED_PROXIES", "")
CLIENT_IP_HEADER = "HTTP_" + os.environ.get(
    "MOTCUA_CLIENT_IP_HEADER", "X-Forwarded-For"
).upper().replace("-", "_")

# Partner portals (the exchange app): how recent the citizen's sign-in must be, and whether
# webhooks may go to this machine over plain http (development only: the demo's receiver).
EXCHANGE_SIGN_IN_MAX_AGE_S = int(os.environ.get("MOTCUA_EXCHANGE_SIGN_IN_MAX_AGE_S", 3600))
EXCHANGE_WEBHOOK_ALLOW_LOOPBACK = DEBUG
