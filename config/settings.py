"""Accord settings: one module, every knob read from the environment (see README)."""

from datetime import timedelta
from pathlib import Path

import environ
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(environ.Env().str("ACCORD_VAR_DIR", default=str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

env = environ.Env()
env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env.str("SECRET_KEY", default="insecure-development-key-change-me" if DEBUG else environ.Env.NOTSET)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
DEMO_MODE = env.bool("ACCORD_DEMO", default=False)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "accounts",
    "cases",
    "negotiation",
    "plans",
    "compliance",
    "reporting",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "axes.middleware.AxesMiddleware",
    "accounts.middleware.TwoFactorMiddleware",
    "compliance.middleware.AuditContextMiddleware",
]
# The proxies in front of Accord that append to X-Forwarded-For: the client is the address that many places from
# the right (compliance.middleware.client_ip); 0 ignores the header. USE_X_FORWARDED_FOR=true, the deprecated
# switch, means one proxy.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=1 if env.bool("USE_X_FORWARDED_FOR", default=False) else 0)
if TRUSTED_PROXY_COUNT < 0:
    raise ImproperlyConfigured("TRUSTED_PROXY_COUNT must be 0 or more.")

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "accounts.context_processors.navigation",
            ],
        },
    },
]

# Databases: PostgreSQL in production and CI; an SQLite file otherwise, in WAL mode with a busy
# timeout and immediate transactions so that web, worker and beat share it without "database is locked".
DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'accord.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
    }
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Argon2 for every new or changed password; PBKDF2 stays so that existing hashes still check (and are
# rehashed with Argon2 at their next successful login).
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "accounts:landing"
LOGOUT_REDIRECT_URL = "accounts:login"

# Lockout after repeated failed logins and wrong second-factor codes: per user name whatever the address,
# and per address whatever the user name, each with its own limit (accounts.lockout), one cool-off.
LOGIN_FAILURES_PER_USER = env.int("LOGIN_FAILURES_PER_USER", default=5)
LOGIN_FAILURES_PER_ADDRESS = env.int("LOGIN_FAILURES_PER_ADDRESS", default=20)
AXES_HANDLER = "accounts.lockout.LockoutHandler"
AXES_FAILURE_LIMIT = "accounts.lockout.failures_per_user"
# Lockouts count per the same client address as everything else (TRUSTED_PROXY_COUNT), never a client-supplied header.
AXES_CLIENT_IP_CALLABLE = "accounts.lockout.client_address"
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = ["username"]
# Axes warns when its lockout ignores the address; the address has its own limit in accounts.lockout.
SILENCED_SYSTEM_CHECKS = ["axes.W006"]
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
# Attempts are reset only once both factors have passed (accounts.lockout.login_completed): a right password
# followed by wrong codes must not start the count afresh.
AXES_RESET_ON_SUCCESS = False
AXES_VERBOSE = False

# Staff two-factor login (TOTP, django-otp). Roles listed here must enrol before anything else; the others may.
STAFF_2FA_REQUIRED_ROLES = env.list("STAFF_2FA_REQUIRED_ROLES", default=["admin", "compliance", "supervisor"])
OTP_TOTP_ISSUER = env.str("OTP_TOTP_ISSUER", default="Accord")

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "config" / "locale"]
USE_I18N = True
TIME_ZONE = env.str("TIME_ZONE", default="Asia/Shanghai")
USE_TZ = True
LANGUAGE_COOKIE_SECURE = not DEBUG

STATIC_URL = "static/"
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(BASE_DIR / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        # Hashed, compressed files from collectstatic in production; plain files in development and tests.
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if env.bool("STATIC_MANIFEST", default=not DEBUG)
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(VAR_DIR / "media")))

# Security: secure cookies and HSTS whenever DEBUG is off.
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=8 * 3600)
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_HSTS_SECONDS = 0 if DEBUG else env.int("SECURE_HSTS_SECONDS", default=31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Content-Security-Policy (django-csp): scripts and styles only from our own static files, no inline script,
# no eval. Swagger UI draws its icons as data: images.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "rest_framework.authentication.TokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # DRF's browsable API only in development: its pages carry inline styles the CSP refuses; staff read the
    # API in the Swagger UI at /api/docs/.
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"]
    + (["rest_framework.renderers.BrowsableAPIRenderer"] if DEBUG else []),
    "DEFAULT_PAGINATION_CLASS": "config.api.PageSizePagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "config.schema.AutoSchema",
    "DEFAULT_THROTTLE_CLASSES": [
        "config.throttling.AnonRateThrottle",
        "config.throttling.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env.str("THROTTLE_ANON", default="60/minute"),
        "user": env.str("THROTTLE_USER", default="2000/minute"),
    },
    "EXCEPTION_HANDLER": "config.api.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Accord API",
    "DESCRIPTION": "Collection cases, contacts, payments and repayment plans.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # The schema and Swagger UI are for signed-in staff (session or token), not for the public.
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # Complaints reuse the field names status, channel and outcome: name every choice set explicitly.
    "ENUM_NAME_OVERRIDES": {
        "StatusEnum": "cases.models.CaseStatus",
        "ChannelEnum": "negotiation.models.Channel",
        "OutcomeEnum": "negotiation.models.Outcome",
        "ComplaintStatusEnum": "compliance.models.Complaint.Status",
        "ComplaintChannelEnum": "compliance.models.Complaint.Channel",
        "ComplaintOutcomeEnum": "compliance.models.Complaint.Outcome",
        "VerificationOutcomeEnum": "negotiation.models.Verification.Outcome",
        "PromiseStatusEnum": "negotiation.models.Promise.Status",
        "LetterKindEnum": "negotiation.models.Letter.Kind",
        "DocumentKindEnum": "negotiation.models.VerificationDocument.Kind",
        "PlacementStatusEnum": "negotiation.models.Placement.Status",
        "ReferralStatusEnum": "negotiation.models.LitigationReferral.Status",
        "PlanKindEnum": "plans.models.PlanKind",
        "PlanMethodEnum": "plans.models.Method",
        "OfferStatusEnum": "plans.models.Offer.Status",
        "AgreementStatusEnum": "plans.models.Agreement.Status",
        "InstallmentStatusEnum": "plans.models.Installment.Status",
        "AgreementChannelEnum": "plans.models.Agreement.Channel",
    },
}

# Celery: JSON only, time limits, late acks for tasks that are safe to run twice. Without REDIS_URL
# the broker is kombu's filesystem transport under var/, so `make run` needs no running service.
CELERY_BROKER_URL = REDIS_URL or "filesystem://"
if not REDIS_URL:
    _broker_dir = VAR_DIR / "broker"
    for _sub in ("queue", "processed", "control"):
        (_broker_dir / _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "processed_folder": str(_broker_dir / "processed"),
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }
else:
    # Unacknowledged tasks of a worker that died come back after this many seconds.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=3600)}
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=300)
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=240)
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
HEARTBEAT_INTERVAL_SECONDS = env.int("HEARTBEAT_INTERVAL_SECONDS", default=30)
CELERY_BEAT_SCHEDULE = {
    "refresh-aging": {
        "task": "cases.tasks.refresh_aging",
        "schedule": crontab(hour=1, minute=5),
    },
    "release-held-messages": {
        "task": "negotiation.tasks.release_held_messages",
        "schedule": timedelta(minutes=1),
        "options": {"expires": 60},
    },
    "worker-heartbeat": {
        "task": "accounts.tasks.worker_heartbeat",
        "schedule": timedelta(seconds=HEARTBEAT_INTERVAL_SECONDS),
        "options": {"expires": HEARTBEAT_INTERVAL_SECONDS},
    },
    "warn-complaint-deadlines": {
        "task": "compliance.tasks.warn_complaint_deadlines",
        "schedule": crontab(minute=7),
        "options": {"expires": 3000},
    },
    "anonymise-expired-records": {
        "task": "compliance.tasks.anonymise_expired_records",
        "schedule": crontab(hour=3, minute=17),
        "options": {"expires": 6 * 3600},
    },
    "judge-promises": {
        "task": "negotiation.tasks.judge_promises",
        "schedule": crontab(hour=2, minute=25),
        "options": {"expires": 6 * 3600},
    },
    # After the nightly jobs that move cases and judge promises, so yesterday's figures are final.
    "reporting-snapshot": {
        "task": "reporting.tasks.snapshot_yesterday",
        "schedule": crontab(hour=4, minute=10),
        "options": {"expires": 12 * 3600},
    },
    # After the nightly jobs that move cases, judge installments and snapshot the day.
    "check-consistency": {
        "task": "reporting.tasks.check_consistency",
        "schedule": crontab(hour=4, minute=40),
        "options": {"expires": 12 * 3600},
    },
    "create-strategy-tasks": {
        "task": "negotiation.tasks.create_strategy_tasks",
        "schedule": crontab(hour=6, minute=40),
        "options": {"expires": 6 * 3600},
    },
    "send-collection-notices": {
        "task": "negotiation.tasks.send_collection_notices",
        "schedule": timedelta(minutes=15),
        "options": {"expires": 14 * 60},
    },
    "judge-installments": {
        "task": "plans.tasks.judge_installments",
        "schedule": crontab(hour=2, minute=40),
        "options": {"expires": 6 * 3600},
    },
    "fail-stale-imports": {
        "task": "cases.tasks.fail_stale_imports",
        "schedule": timedelta(minutes=5),
        "options": {"expires": 4 * 60},
    },
    "send-installment-reminders": {
        "task": "plans.tasks.send_installment_reminders",
        "schedule": crontab(hour=9, minute=10),
        "options": {"expires": 6 * 3600},
    },
}

SMS_GATEWAY = env.str("SMS_GATEWAY", default="negotiation.gateways.FileSmsGateway")
SMS_FILE_DIR = env.str("SMS_FILE_DIR", default=str(VAR_DIR / "sms"))
SMS_FILE_PAUSE_SECONDS = env.float("SMS_FILE_PAUSE_SECONDS", default=0.0)
SMS_GATEWAY_URL = env.str("SMS_GATEWAY_URL", default="")
SMS_GATEWAY_TOKEN = env.str("SMS_GATEWAY_TOKEN", default="")
EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="accord@localhost")
# Years a closed debtor's personal data is kept; never less than the jurisdiction's minimum (CN 2, US 3).
RETENTION_YEARS = env.int("RETENTION_YEARS", default=5)

# Imports: the largest file an upload may be; the seconds one import may run (it is then failed, whole).
IMPORT_MAX_BYTES = env.int("IMPORT_MAX_BYTES", default=200 * 1024 * 1024)
IMPORT_TIME_LIMIT = env.int("IMPORT_TIME_LIMIT", default=3600)
# How long a queued import waits before it tries the import lock again.
IMPORT_RETRY_SECONDS = env.int("IMPORT_RETRY_SECONDS", default=5)

# Verification evidence (PDF, JPEG, PNG) is stored under MEDIA_ROOT/private/ and served only by a checked view.
EVIDENCE_MAX_BYTES = env.int("EVIDENCE_MAX_BYTES", default=10 * 1024 * 1024)
# Promises to pay: how far ahead one may be made, the days of grace before it is judged, and the shortfall
# still counted as kept (the larger of the amount and the share of the promise).
PROMISE_MAX_DAYS_AHEAD = env.int("PROMISE_MAX_DAYS_AHEAD", default=60)
PROMISE_GRACE_DAYS = env.int("PROMISE_GRACE_DAYS", default=2)
PROMISE_TOLERANCE_AMOUNT = env.str("PROMISE_TOLERANCE_AMOUNT", default="1.00")
PROMISE_TOLERANCE_RATIO = env.str("PROMISE_TOLERANCE_RATIO", default="0.01")
# The collection notice goes to cases opened in notify within this many days that have none yet.
NOTICE_LOOKBACK_DAYS = env.int("NOTICE_LOOKBACK_DAYS", default=3)
# The sender printed on collection letters and lawyer letters (negotiation.letters).
BANK_NAME = env.str("BANK_NAME", default="Accord 示范银行股份有限公司信用卡中心")
BANK_ADDRESS = env.str("BANK_ADDRESS", default="上海市浦东新区世纪大道100号")
BANK_PHONE = env.str("BANK_PHONE", default="400-000-0000")
BANK_HOURS = env.str("BANK_HOURS", default="每日 8:00—22:00")
BANK_COMPLAINT_LINE = env.str("BANK_COMPLAINT_LINE", default="400-000-0001")
BANK_WEBSITE = env.str("BANK_WEBSITE", default="www.bank.example.cn")
LAW_FIRM_NAME = env.str("LAW_FIRM_NAME", default="上海示范律师事务所")
LAW_FIRM_ADDRESS = env.str("LAW_FIRM_ADDRESS", default="上海市黄浦区中山东一路18号")
LAW_FIRM_PHONE = env.str("LAW_FIRM_PHONE", default="021-6000-0000")
LAW_FIRM_HOURS = env.str("LAW_FIRM_HOURS", default="工作日 9:00—17:30")
LAW_FIRM_COMPLAINT_LINE = env.str("LAW_FIRM_COMPLAINT_LINE", default="021-6000-0001")
LAW_FIRM_WEBSITE = env.str("LAW_FIRM_WEBSITE", default="www.law.example.cn")
LAW_FIRM_LAWYER = env.str("LAW_FIRM_LAWYER", default="")

# Repayment plans and the cardholder portal (plans).
PORTAL_BASE_URL = env.str("PORTAL_BASE_URL", default="http://127.0.0.1:8000")
PORTAL_LINK_DAYS = env.int("PORTAL_LINK_DAYS", default=7)
PORTAL_CODE_MINUTES = env.int("PORTAL_CODE_MINUTES", default=10)
PORTAL_CODE_ATTEMPTS = env.int("PORTAL_CODE_ATTEMPTS", default=5)
PORTAL_IDENTITY_ATTEMPTS = env.int("PORTAL_IDENTITY_ATTEMPTS", default=5)
PORTAL_LOCKOUT_MINUTES = env.int("PORTAL_LOCKOUT_MINUTES", default=30)
PORTAL_RATE = env.str("PORTAL_RATE", default="30/minute")
PORTAL_CODE_FAILURES_TO_LOCK = env.int("PORTAL_CODE_FAILURES_TO_LOCK", default=10)
PORTAL_CODES_PER_DAY = env.int("PORTAL_CODES_PER_DAY", default=10)
# "block" refuses an offer above the verified disposable income; "override" allows it with a written reason.
PLAN_AFFORDABILITY = env.str("PLAN_AFFORDABILITY", default="override")
# An installment unpaid this many days after its due date is missed; this many misses breach the agreement.
INSTALLMENT_GRACE_DAYS = env.int("INSTALLMENT_GRACE_DAYS", default=3)
INSTALLMENT_MISSES_TO_BREACH = env.int("INSTALLMENT_MISSES_TO_BREACH", default=2)
REVISIT_AFTER_DAYS = env.int("REVISIT_AFTER_DAYS", default=30)
# Largest scan of an agreement signed on paper at a branch (PDF only).
BRANCH_SCAN_MAX_BYTES = env.int("BRANCH_SCAN_MAX_BYTES", default=10 * 1024 * 1024)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    # Identity numbers, mobiles and emails never reach a log line unmasked.
    "filters": {
        "personal_data": {"()": "compliance.masking.PersonalDataLogFilter"},
        "expected_denial": {"()": "config.errorpages.ExpectedDenialFilter"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["personal_data"]},
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    # The development server's request lines name portal links too: through the masking handler. An expected
    # PermissionDenied is one line, not a traceback.
    "loggers": {
        "axes": {"level": "WARNING"},
        "django.server": {"handlers": ["console"], "propagate": False},
        "django.request": {"filters": ["expected_denial"]},
    },
}
