"""RareBridge settings: one module, driven by environment variables.

Every variable is listed with its meaning and default in .env.example. RAREBRIDGE_ENV picks
the defaults: ``development`` (embedded SQLite, in-process worker, outbox for e-mail and SMS),
``test`` (what the suite runs on), and ``production`` (refuses to start with unsafe settings).
"""

from __future__ import annotations

import json
import secrets
import sys
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from config.env import env_bool, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("RAREBRIDGE_VAR_DIR", str(BASE_DIR / "var")))

# Under pytest the default is "test", so a plain `pytest` never touches the demo database.
ENV = env_str("RAREBRIDGE_ENV", "test" if "pytest" in sys.modules else "development")
if ENV not in {"development", "test", "production"}:
    raise ImproperlyConfigured(
        f"RAREBRIDGE_ENV must be development, test or production, not {ENV!r}."
    )
PRODUCTION = ENV == "production"

DEBUG = env_bool("DEBUG", default=ENV == "development")
DEMO_MODE = env_bool("RAREBRIDGE_DEMO", default=False)


def _secret_key() -> str:
    key = env_str("SECRET_KEY")
    if key:
        return key
    if PRODUCTION:
        raise ImproperlyConfigured("SECRET_KEY must be set when RAREBRIDGE_ENV=production.")
    # Development and tests keep a random key under var/, so sessions survive a restart and
    # no key is ever committed.
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    path = VAR_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = _secret_key()
ALLOWED_HOSTS = env_list(
    "ALLOWED_HOSTS", default=[] if PRODUCTION else ["localhost", "127.0.0.1", "[::1]", "testserver"]
)
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
# How many reverse proxies in front of RareBridge append to X-Forwarded-For (0: none, the
# socket's address is the client). The client's address is the N-th entry from the right.
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000").rstrip("/")

if PRODUCTION:
    if DEBUG:
        raise ImproperlyConfigured("DEBUG must be off when RAREBRIDGE_ENV=production.")
    if not ALLOWED_HOSTS:
        raise ImproperlyConfigured("ALLOWED_HOSTS must be set when RAREBRIDGE_ENV=production.")
    if DEMO_MODE:
        raise ImproperlyConfigured("RAREBRIDGE_DEMO must be off when RAREBRIDGE_ENV=production.")

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "django_scopes",
    "django_tasks",
    "django_tasks_db",
    "rarebridge.core",
    "rarebridge.network",
    "rarebridge.accounts",
    "rarebridge.programs",
    "rarebridge.conditions",
    "rarebridge.counselling",
    "rarebridge.safety",
    "rarebridge.care",
    "rarebridge.instruments",
    "rarebridge.trials",
    "rarebridge.directory",
    "rarebridge.notify",
    "rarebridge.portals",
    "rarebridge.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "rarebridge.core.middleware.ActorMiddleware",
    "rarebridge.core.middleware.PersonLocaleMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "rarebridge.accounts.middleware.StaffIdleTimeoutMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "rarebridge.accounts.middleware.StaffMfaRequiredMiddleware",
    "rarebridge.core.middleware.TenantScopeMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

PORTALS = ("public", "patient", "counsellor", "staff")
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        # Shared pieces (page frame, includes, error pages) first, then each portal's own.
        "DIRS": [
            BASE_DIR / "rarebridge" / "portals" / "templates",
            *(BASE_DIR / "rarebridge" / "portals" / p / "templates" for p in PORTALS),
        ],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "rarebridge.portals.context_processors.rarebridge",
            ],
        },
    }
]

# Database: SQLite under var/ by default, PostgreSQL in production (DATABASE_URL).
VAR_DIR.mkdir(parents=True, exist_ok=True)
DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'rarebridge.sqlite3'}"),
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 0 if not PRODUCTION else 60),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL and a busy timeout let the in-process worker and the web server share the file.
    DATABASES["default"].setdefault("OPTIONS", {})
    DATABASES["default"]["OPTIONS"].update(
        {
            "timeout": 20,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env_str("REDIS_URL")
if REDIS_URL:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
if ENV == "test":
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # speed only in tests

LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "portals:home"
LOGOUT_REDIRECT_URL = "public:index"

# django-allauth: e-mail sign-in, one-time codes for patients, MFA for staff.
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_EMAIL_VERIFICATION = "none"  # addresses are confirmed by accepting an invitation
ACCOUNT_LOGIN_BY_CODE_ENABLED = True
ACCOUNT_PREVENT_ENUMERATION = True
ACCOUNT_LOGIN_ON_PASSWORD_RESET = False
ACCOUNT_SESSION_REMEMBER = False
ACCOUNT_LOGOUT_ON_GET = False
ACCOUNT_ADAPTER = "rarebridge.accounts.adapters.AccountAdapter"
# Failed sign-ins: per address and per IP. The lock-out message is the same whether or not
# the account exists.
LOGIN_ATTEMPTS_LIMIT = env_int("LOGIN_ATTEMPTS_LIMIT", 5)
LOGIN_ATTEMPTS_TIMEOUT_SECONDS = env_int("LOGIN_ATTEMPTS_TIMEOUT_SECONDS", 900)
ACCOUNT_RATE_LIMITS = {
    "login_failed": f"20/m/ip,{LOGIN_ATTEMPTS_LIMIT}/{LOGIN_ATTEMPTS_TIMEOUT_SECONDS}s/key",
    # The public self-referral form creates accounts: a few per hour and connection.
    "trial_join": env_str("TRIAL_JOIN_RATE_LIMIT", "10/h/ip"),
}
ACCOUNT_EMAIL_SUBJECT_PREFIX = "RareBridge: "
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "RareBridge"
# Accept the code of the 30-second step before or after the current one (RFC 6238 allows
# for clock drift and the seconds it takes to type): a code typed as the step turns is not
# refused. Each code still works only once.
MFA_TOTP_TOLERANCE = env_int("MFA_TOTP_TOLERANCE", 1)
MFA_ADAPTER = "allauth.mfa.adapter.DefaultMFAAdapter"

# Staff sessions end after this many idle minutes; patients keep the browser session.
STAFF_IDLE_TIMEOUT_MINUTES = env_int("STAFF_IDLE_TIMEOUT_MINUTES", 30)
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE_SECONDS", 60 * 60 * 24 * 14)

# Languages: the six the program is delivered in. A person's profile wins, then the browser.
LANGUAGE_CODE = "en"
LANGUAGES = [
    ("en", _("English")),
    ("de", _("German")),
    ("pl", _("Polish")),
    ("nl", _("Dutch")),
    ("hu", _("Hungarian")),
    ("fr", _("French")),
]
LOCALE_PATHS = [BASE_DIR / "rarebridge" / "locale"]
USE_I18N = True
USE_TZ = True
TIME_ZONE = "UTC"  # storage; every page shows the viewer's own zone

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
if not PRODUCTION:
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # WhiteNoise warns when it is missing
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
MEDIA_ROOT = VAR_DIR / "media"

# Background work: Django's tasks API. The database backend is the embedded default;
# ``manage.py db_worker`` runs workers, and ``manage.py serve`` runs one in-process.
TASKS_BACKEND = env_str("TASKS_BACKEND", "immediate" if ENV == "test" else "database")
TASKS = {
    "default": {
        "BACKEND": {
            "database": "django_tasks_db.DatabaseBackend",
            "immediate": "django_tasks.backends.immediate.ImmediateBackend",
        }[TASKS_BACKEND],
        "QUEUES": ["default", "notify"],
    }
}

# E-mail: an outbox in the database unless EMAIL_HOST is set (then SMTP).
EMAIL_HOST = env_str("EMAIL_HOST")
if EMAIL_HOST:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_PORT = env_int("EMAIL_PORT", 587)
    EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
    EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
    EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", True)
else:
    EMAIL_BACKEND = "rarebridge.notify.outbox.OutboxEmailBackend"
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "RareBridge <no-reply@rarebridge.invalid>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# SMS: "outbox" (embedded default) or "twilio" (needs the three TWILIO_* variables).
SMS_BACKEND = env_str("SMS_BACKEND", "outbox")
TWILIO_ACCOUNT_SID = env_str("TWILIO_ACCOUNT_SID")
TWILIO_AUTH_TOKEN = env_str("TWILIO_AUTH_TOKEN")
TWILIO_FROM_NUMBER = env_str("TWILIO_FROM_NUMBER")
if SMS_BACKEND not in {"outbox", "twilio"}:
    raise ImproperlyConfigured(f"SMS_BACKEND must be outbox or twilio, not {SMS_BACKEND!r}.")
if SMS_BACKEND == "twilio" and not (
    TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN and TWILIO_FROM_NUMBER
):
    raise ImproperlyConfigured(
        "SMS_BACKEND=twilio needs TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and TWILIO_FROM_NUMBER."
    )
NOTIFY_MAX_ATTEMPTS = env_int("NOTIFY_MAX_ATTEMPTS", 5)

# Safety: minutes an alert may wait for acknowledgement before it escalates, by level.
SAFETY_ACK_MINUTES = {
    "immediate": env_int("SAFETY_ACK_MINUTES_IMMEDIATE", 15),
    "high": env_int("SAFETY_ACK_MINUTES_HIGH", 15),
    "medium": env_int("SAFETY_ACK_MINUTES_MEDIUM", 60),
    "low": env_int("SAFETY_ACK_MINUTES_LOW", 24 * 60),
}

# Counselling: certification lapses without a refresher; calls can be changed until a cut-off.
CERTIFICATION_VALID_DAYS = env_int("CERTIFICATION_VALID_DAYS", 365)
CALL_CHANGE_CUTOFF_HOURS = env_int("CALL_CHANGE_CUTOFF_HOURS", 12)
CALL_NOTE_DUE_HOURS = env_int("CALL_NOTE_DUE_HOURS", 24)
BOOKING_HORIZON_DAYS = env_int("BOOKING_HORIZON_DAYS", 28)

# Matching weights per deployment (empty: the engine's documented defaults). JSON, e.g.
# {"same_condition": 40, "same_country": 10}.
MATCH_WEIGHTS = json.loads(env_str("MATCH_WEIGHTS", "{}"))
# No matching call is offered outside these local hours (0-24) of either person.
MATCHING_WAKING_HOURS_START = env_int("MATCHING_WAKING_HOURS_START", 8)
MATCHING_WAKING_HOURS_END = env_int("MATCHING_WAKING_HOURS_END", 21)
# A batch preview may be confirmed for this many minutes.
MATCHING_PREVIEW_MAX_AGE_MINUTES = env_int("MATCHING_PREVIEW_MAX_AGE_MINUTES", 30)
# Clinic plans: the solver's deterministic work limit per planning run (CP-SAT deterministic
# time; the same limit gives the same plan on any machine). 1.0 is what the old 10-second
# budget meant (the engine's 0.1 work per second). The wall clock is only a generous safety cap.
CLINIC_SOLVER_WORK_LIMIT = float(env_str("CLINIC_SOLVER_WORK_LIMIT", "1.0"))
CLINIC_SOLVER_WALL_CAP_SECONDS = float(env_str("CLINIC_SOLVER_WALL_CAP_SECONDS", "60"))

# Periodic jobs: run every PERIODIC_SECONDS by the in-process worker (`manage.py serve`) and by
# `manage.py run_periodic` from cron or a systemd timer in production. Each is idempotent.
PERIODIC_SECONDS = env_int("PERIODIC_SECONDS", 30)
PERIODIC_JOBS = [
    "rarebridge.notify.services.messages_requeue_due",
    "rarebridge.safety.services.alerts_escalate_due",
    "rarebridge.safety.services.unsubmitted_risk_alerts_due",
    "rarebridge.counselling.services.call_reminders_due",
    "rarebridge.trials.services.assessment_invitations_due",
    "rarebridge.care.services.clinic_replans_requeue_due",
]
# A PHQ-9 item 9 answer above 0 autosaved but never sent raises its alert after this long.
SAFETY_UNSUBMITTED_RISK_GRACE_MINUTES = env_int("SAFETY_UNSUBMITTED_RISK_GRACE_MINUTES", 30)
NOTIFY_RETRY_BASE_SECONDS = env_int("NOTIFY_RETRY_BASE_SECONDS", 60)
# The secret from which concealed allocation sequences are derived; empty derives it from
# SECRET_KEY. Whoever holds it can rebuild every sequence, so keep it out of the database.
TRIALS_ALLOCATION_SECRET = env_str("TRIALS_ALLOCATION_SECRET", "")

# Security: strict in production, comfortable on a laptop.
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True
CSRF_FAILURE_VIEW = "rarebridge.portals.public.views.accounts.csrf_failure"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
if PRODUCTION:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 60 * 60 * 24 * 365)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # One line per task is noise at INFO; failures still log at WARNING and above.
        "django_tasks": {"level": "WARNING"},
        "django_tasks_db": {"level": "WARNING"},
        # WeasyPrint logs each step of every PDF it makes ("Step 3 - Applying CSS") at INFO.
        "weasyprint": {"level": "WARNING"},
    },
}
