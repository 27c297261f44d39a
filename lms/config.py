"""Settings from the environment.

LMS_ENV picks the profile (development, test, production); everything else is
read from environment variables so that no secret lives in the repository.
"""
from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

PROJECT_ROOT = Path(__file__).resolve().parent.parent
INSTANCE_DIR = PROJECT_ROOT / "instance"
DEV_SECRET_KEY = "dev-only-not-secret"


def _development_address() -> str:
    """http://HOST:PORT as `make run` serves it; a wildcard host is reached on the loopback."""
    host = os.environ.get("HOST", "127.0.0.1")
    if host in ("0.0.0.0", "::", ""):
        host = "127.0.0.1"
    return f"http://{host}:{os.environ.get('PORT', '5000')}"


class ConfigError(RuntimeError):
    """Raised at start-up when the configuration is unsafe to run with."""


def _days(value: str) -> tuple[int, ...]:
    """"14,3" -> (14, 3): a comma-separated list of whole days, each at least 0."""
    try:
        days = tuple(sorted({int(part) for part in value.split(",") if part.strip()}, reverse=True))
    except ValueError:
        raise ConfigError(f"REMINDER_DAYS_BEFORE={value!r} must be whole days separated by commas") from None
    if any(day < 0 for day in days):
        raise ConfigError(f"REMINDER_DAYS_BEFORE={value!r} must not be negative")
    return days


class BaseConfig:
    SECRET_KEY = os.environ.get("SECRET_KEY", DEV_SECRET_KEY)
    SQLALCHEMY_DATABASE_URI = os.environ.get(
        "DATABASE_URL", f"sqlite:///{INSTANCE_DIR / 'lms.sqlite3'}"
    )
    # A pooled connection idle for longer than this is checked before use, so the app recovers
    # by itself when the database restarts (lms/database_pool.py); 0 checks every use.
    DATABASE_PING_AFTER_IDLE_SECONDS = float(os.environ.get("DATABASE_PING_AFTER_IDLE_SECONDS", "10"))
    CONTENT_ROOT = Path(os.environ.get("LMS_CONTENT_ROOT", PROJECT_ROOT))

    # Sessions and cookies (security.md, "Accounts and sessions").
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = False
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_SECURE = False
    PERMANENT_SESSION_LIFETIME = timedelta(hours=12)
    # Server-side session lifetimes (lms/accounts/services.py; the database decides, not the
    # cookie): idle timeouts for staff (trainers, admins, auditors) and agents, and the
    # absolute lifetime without and with "Keep me signed in".
    SESSION_IDLE_MINUTES_STAFF = int(os.environ.get("SESSION_IDLE_MINUTES_STAFF", "30"))
    SESSION_IDLE_MINUTES_AGENT = int(os.environ.get("SESSION_IDLE_MINUTES_AGENT", "720"))
    SESSION_LIFETIME_HOURS = int(os.environ.get("SESSION_LIFETIME_HOURS", "12"))
    SESSION_REMEMBER_DAYS = int(os.environ.get("SESSION_REMEMBER_DAYS", "30"))
    REMEMBER_COOKIE_DURATION = timedelta(days=SESSION_REMEMBER_DAYS)
    # Self-service password reset: the e-mailed link's life, and its throttles.
    PASSWORD_RESET_MINUTES = int(os.environ.get("PASSWORD_RESET_MINUTES", "30"))
    PASSWORD_RESET_LIMIT_PER_ACCOUNT = os.environ.get("PASSWORD_RESET_LIMIT_PER_ACCOUNT", "3 per hour")
    PASSWORD_RESET_LIMIT_PER_IP = os.environ.get("PASSWORD_RESET_LIMIT_PER_IP", "10 per hour")
    # Once a set-password or reset link is opened, its form works for this long.
    SET_PASSWORD_FORM_MINUTES = 15

    # A quiz can take a while: a CSRF token must outlive a long attempt.
    WTF_CSRF_TIME_LIMIT = 8 * 3600
    MAX_CONTENT_LENGTH = 8 * 1024 * 1024

    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI", "memory://")
    RATELIMIT_HEADERS_ENABLED = True
    # Sign-in throttles: per account and per client address.
    LOGIN_LIMIT_PER_ACCOUNT = os.environ.get("LOGIN_LIMIT_PER_ACCOUNT", "5 per minute;20 per hour")
    LOGIN_LIMIT_PER_IP = os.environ.get("LOGIN_LIMIT_PER_IP", "20 per minute;200 per hour")
    # Calls per API key (lms/api/views.py).
    API_RATE_LIMIT = os.environ.get("API_RATE_LIMIT", "600 per minute")
    # Number of proxies in front of the app whose X-Forwarded-For we trust (0 = none).
    PROXY_COUNT = int(os.environ.get("LMS_PROXY_COUNT", "0"))

    SET_PASSWORD_TOKEN_HOURS = 72
    # Dashboard counts by organisation are reused for this long (0: always recount).
    DASHBOARD_COUNTS_SECONDS = int(os.environ.get("DASHBOARD_COUNTS_SECONDS", "30"))
    HSTS = False

    MAIL_SERVER = os.environ.get("MAIL_SERVER", "")
    MAIL_PORT = int(os.environ.get("MAIL_PORT", "25"))
    MAIL_USERNAME = os.environ.get("MAIL_USERNAME", "")
    MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD", "")
    MAIL_USE_TLS = os.environ.get("MAIL_USE_TLS", "0") == "1"
    MAIL_FROM = os.environ.get("MAIL_FROM", "CallSafe Academy <no-reply@callsafe.example>")
    # Reminders (`flask lms reminders send`): days before a due date or an expiry, and the
    # address the links in e-mails point to.
    REMINDER_DAYS_BEFORE = _days(os.environ.get("REMINDER_DAYS_BEFORE", "14,3"))
    # In development it follows the address `make run` serves on (HOST, PORT), so that links in
    # e-mails and certificates open; production requires it to be set (ProductionConfig).
    BASE_URL = os.environ.get("BASE_URL") or _development_address()
    # For people and organisations that have not chosen (lms/i18n.py): a shipped language code
    # and an IANA time zone.
    DEFAULT_LANGUAGE = os.environ.get("DEFAULT_LANGUAGE", "en")
    DEFAULT_TIME_ZONE = os.environ.get("DEFAULT_TIME_ZONE", "UTC")

    # PAdES signing of issued PDFs (lms/evidence/signing.py). `flask lms evidence dev-key` makes a
    # self-signed development pair at these paths; production points them at a real key. The key
    # id written into each signature defaults to the first 16 hex digits of the certificate's
    # SHA-256 fingerprint, so a new certificate gets a new id.
    # What certificates look like: admins set these per deployment.
    BRANDING_COMPANY = os.environ.get("BRANDING_COMPANY", "Northwind Utilities")
    BRANDING_COLOUR = os.environ.get("BRANDING_COLOUR", "#0f5c73")
    BRANDING_SIGNATORY_NAME = os.environ.get("BRANDING_SIGNATORY_NAME", "Aoife Byrne")
    BRANDING_SIGNATORY_TITLE = os.environ.get("BRANDING_SIGNATORY_TITLE", "Data Protection Officer")
    BRANDING_LOGO = os.environ.get("BRANDING_LOGO", "")  # a file name inside static/pdf/

    # Background jobs (lms/jobs/runner.py): "thread" runs them in worker threads of the web
    # process; "celery" sends them to Celery workers through CELERY_BROKER_URL, and Celery beat
    # runs the schedules (lms/jobs/schedule.py); "external" leaves them queued for
    # `flask lms jobs run-pending`; "eager" runs them at once in the request (tests). A queued or
    # running job with no progress for JOBS_STALE_SECONDS is shown as interrupted and may be retried.
    JOBS_RUNNER = os.environ.get("JOBS_RUNNER", "thread")
    JOBS_THREADS = int(os.environ.get("JOBS_THREADS", "2"))
    JOBS_STALE_SECONDS = int(os.environ.get("JOBS_STALE_SECONDS", "900"))
    # An award's certificate is rendered by a job when it is issued (lms/evidence/issuing.py).
    CERTIFICATES_ON_AWARD = True
    # Celery: the broker (redis://… or amqp://… for RabbitMQ) and the queue the tasks use.
    CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "")
    CELERY_QUEUE = os.environ.get("CELERY_QUEUE", "lms")
    # A job that stops on an unexpected error is tried again this many times by Celery, after
    # JOBS_RETRY_BACKOFF_SECONDS, then twice that, and so on; then it fails and can be retried by hand.
    JOBS_AUTO_RETRIES = int(os.environ.get("JOBS_AUTO_RETRIES", "2"))
    JOBS_RETRY_BACKOFF_SECONDS = float(os.environ.get("JOBS_RETRY_BACKOFF_SECONDS", "30"))
    # The schedules Celery beat runs (lms/jobs/schedule.py): closing overdue attempts every few
    # minutes, and the daily work (reminders, the retention schedule) at this UTC time.
    ATTEMPTS_CLOSE_SECONDS = float(os.environ.get("ATTEMPTS_CLOSE_SECONDS", "120"))
    DAILY_WORK_AT = os.environ.get("DAILY_WORK_AT", "03:30")
    # The audit log's sealer (lms/audit/sealing.py) runs this often: in each web process when
    # JOBS_RUNNER is "thread", from Celery beat when it is "celery".
    AUDIT_SEAL_SECONDS = float(os.environ.get("AUDIT_SEAL_SECONDS", "10"))
    # Every signed checkpoint is also appended to this file (lms/audit/publishing.py); empty: off.
    # Keep it where the database's administrators cannot write (another host's mount, `chattr +a`).
    AUDIT_CHECKPOINT_FILE = os.environ.get("AUDIT_CHECKPOINT_FILE", str(INSTANCE_DIR / "audit-checkpoints.txt"))
    # Who receives the day's checkpoint by e-mail besides the company-wide auditors
    # (comma-separated addresses, e.g. an archive mailbox outside the company).
    AUDIT_CHECKPOINT_RECIPIENTS = os.environ.get("AUDIT_CHECKPOINT_RECIPIENTS", "")

    # xAPI statements to a learning record store (lms/xapi/). XAPI_LRS_URL is the LRS's xAPI
    # endpoint (statements go to <it>/statements); empty: statements wait in the outbox (and are
    # exported as NDJSON) but nothing is sent. The actors' pseudonyms are an HMAC keyed with
    # XAPI_PSEUDONYM_KEY (derived from SECRET_KEY when empty: set it so they survive a rotation).
    XAPI_LRS_URL = os.environ.get("XAPI_LRS_URL", "")
    XAPI_LRS_KEY = os.environ.get("XAPI_LRS_KEY", "")
    XAPI_LRS_SECRET = os.environ.get("XAPI_LRS_SECRET", "")
    XAPI_PSEUDONYM_KEY = os.environ.get("XAPI_PSEUDONYM_KEY", "")
    XAPI_SEND_SECONDS = float(os.environ.get("XAPI_SEND_SECONDS", "60"))  # beat's interval; 0: never
    XAPI_BATCH_SIZE = int(os.environ.get("XAPI_BATCH_SIZE", "100"))
    XAPI_RETRY_SECONDS = float(os.environ.get("XAPI_RETRY_SECONDS", "60"))  # doubles after each failure
    XAPI_MAX_ATTEMPTS = int(os.environ.get("XAPI_MAX_ATTEMPTS", "10"))  # then only the admin's Retry
    XAPI_TIMEOUT_SECONDS = float(os.environ.get("XAPI_TIMEOUT_SECONDS", "10"))

    # Outgoing webhooks (lms/webhooks/): how often beat sends due deliveries and checks for
    # expiring, expired and overdue agents; each POST's timeout; the backoff (doubling up to the
    # cap); the failures in a row that pause an endpoint; deliveries per run. Signing secrets are
    # encrypted with a key derived from WEBHOOKS_ENCRYPTION_KEY, or SECRET_KEY when empty. In
    # production endpoints must be https on public addresses unless WEBHOOKS_ALLOW_PRIVATE_TARGETS=1.
    WEBHOOKS_SEND_SECONDS = float(os.environ.get("WEBHOOKS_SEND_SECONDS", "30"))  # 0: never
    WEBHOOKS_CHECK_SECONDS = float(os.environ.get("WEBHOOKS_CHECK_SECONDS", "3600"))  # 0: never
    WEBHOOKS_TIMEOUT_SECONDS = float(os.environ.get("WEBHOOKS_TIMEOUT_SECONDS", "5"))
    WEBHOOKS_RETRY_SECONDS = float(os.environ.get("WEBHOOKS_RETRY_SECONDS", "30"))
    WEBHOOKS_RETRY_MAX_SECONDS = float(os.environ.get("WEBHOOKS_RETRY_MAX_SECONDS", "3600"))
    WEBHOOKS_PAUSE_AFTER = int(os.environ.get("WEBHOOKS_PAUSE_AFTER", "20"))
    WEBHOOKS_BATCH_SIZE = int(os.environ.get("WEBHOOKS_BATCH_SIZE", "200"))
    WEBHOOKS_ROTATION_OVERLAP_HOURS = float(os.environ.get("WEBHOOKS_ROTATION_OVERLAP_HOURS", "24"))
    WEBHOOKS_ENCRYPTION_KEY = os.environ.get("WEBHOOKS_ENCRYPTION_KEY", "")
    WEBHOOKS_ALLOW_PRIVATE_TARGETS = os.environ.get("WEBHOOKS_ALLOW_PRIVATE_TARGETS", "0") == "1"

    # Second factors (lms/mfa/). Roles that must use one everywhere (comma-separated role
    # names); each organisation can add roles for its own people. TOTP secrets are encrypted
    # with a key derived from MFA_ENCRYPTION_KEY, or from SECRET_KEY when that is empty.
    MFA_REQUIRED_ROLES = os.environ.get("MFA_REQUIRED_ROLES", "")
    MFA_ENCRYPTION_KEY = os.environ.get("MFA_ENCRYPTION_KEY", "")
    MFA_PENDING_SECONDS = 300  # between the password and the second factor
    MFA_VERIFY_LIMIT = os.environ.get("MFA_VERIFY_LIMIT", "5 per minute;20 per hour")  # per person
    # How long a worker reuses the organisations' MFA settings (checked on every request).
    MFA_SETTINGS_CACHE_SECONDS = int(os.environ.get("MFA_SETTINGS_CACHE_SECONDS", "30"))

    # The app's own GDPR duties (lms/privacy/processing.py): who the controller is, the lawful
    # basis for training records ("c" legal obligation or "f" legitimate interests), and the
    # retention schedule, each period overridable.
    PRIVACY_CONTROLLER_NAME = os.environ.get("PRIVACY_CONTROLLER_NAME", "Northwind Utilities")
    PRIVACY_CONTROLLER_CONTACT = os.environ.get("PRIVACY_CONTROLLER_CONTACT", "privacy@northwind.example")
    PRIVACY_DPO_CONTACT = os.environ.get("PRIVACY_DPO_CONTACT", "dpo@northwind.example")
    PRIVACY_LAWFUL_BASIS = os.environ.get("PRIVACY_LAWFUL_BASIS", "f")
    PRIVACY_TRANSFERS = os.environ.get(
        "PRIVACY_TRANSFERS", "Partners outside the EEA see only their own agents' records, under standard "
        "contractual clauses (Art. 46(2)(c)) in the outsourcing contract.")
    PRIVACY_OTHER_RECIPIENTS = os.environ.get("PRIVACY_OTHER_RECIPIENTS", "")
    RETENTION_SESSIONS_DAYS = int(os.environ.get("RETENTION_SESSIONS_DAYS", "30"))
    RETENTION_FAILED_SIGN_INS_DAYS = int(os.environ.get("RETENTION_FAILED_SIGN_INS_DAYS", "90"))
    RETENTION_EXPORT_FILES_DAYS = int(os.environ.get("RETENTION_EXPORT_FILES_DAYS", "30"))
    RETENTION_SENT_EMAILS_DAYS = int(os.environ.get("RETENTION_SENT_EMAILS_DAYS", "365"))
    RETENTION_ANSWER_CYCLES = int(os.environ.get("RETENTION_ANSWER_CYCLES", "2"))
    RETENTION_FORMER_AGENT_YEARS = int(os.environ.get("RETENTION_FORMER_AGENT_YEARS", "2"))

    SIGNING_KEY_PATH = Path(os.environ.get("SIGNING_KEY_PATH", INSTANCE_DIR / "signing" / "key.pem"))
    SIGNING_CERT_PATH = Path(os.environ.get("SIGNING_CERT_PATH", INSTANCE_DIR / "signing" / "cert.pem"))
    SIGNING_KEY_PASSPHRASE = os.environ.get("SIGNING_KEY_PASSPHRASE") or None
    SIGNING_KEY_ID = os.environ.get("SIGNING_KEY_ID") or None


class DevelopmentConfig(BaseConfig):
    ENV_NAME = "development"


class TestConfig(BaseConfig):
    ENV_NAME = "test"
    TESTING = True
    SECRET_KEY = "test-secret-key"
    SQLALCHEMY_DATABASE_URI = os.environ.get("TEST_DATABASE_URL", "sqlite://")
    RATELIMIT_STORAGE_URI = "memory://"
    API_RATE_LIMIT = "600 per minute"  # not the environment's: tests of the limit set their own
    DASHBOARD_COUNTS_SECONDS = 0  # tests see every change at once; test_pages checks the cache
    JOBS_RUNNER = "eager"  # tests that need the worker thread set "thread" themselves
    MFA_REQUIRED_ROLES = ""  # tests that need it set it themselves
    AUDIT_SEAL_SECONDS = 0  # tests seal when they ask (lms.audit.sealing.seal)
    CERTIFICATES_ON_AWARD = False  # a render per award would slow the suite; tests of it set it
    AUDIT_CHECKPOINT_FILE = ""  # tests that publish checkpoints name a temporary file
    WEBHOOKS_SEND_SECONDS = 0  # tests send webhooks when they ask (lms.webhooks.delivery.send_pending)
    WEBHOOKS_CHECK_SECONDS = 0


class ProductionConfig(BaseConfig):
    ENV_NAME = "production"
    # No default: every address the app hands out is built from it (lms/addresses.py).
    BASE_URL = os.environ.get("BASE_URL", "")
    # Hosts answered besides BASE_URL's (comma-separated), e.g. an internal health-check name.
    EXTRA_TRUSTED_HOSTS = os.environ.get("LMS_TRUSTED_HOSTS", "")
    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_SECURE = True
    HSTS = True
    # Partner admins manage people too: the same second factor as admins.
    MFA_REQUIRED_ROLES = os.environ.get("MFA_REQUIRED_ROLES", "admin,partner_admin,auditor")


PROFILES: dict[str, type[BaseConfig]] = {
    "development": DevelopmentConfig,
    "test": TestConfig,
    "production": ProductionConfig,
}


def load_config(name: str | None = None) -> type[BaseConfig]:
    """Return the profile for LMS_ENV (default: development)."""
    name = name or os.environ.get("LMS_ENV", "development")
    try:
        return PROFILES[name]
    except KeyError:
        raise ConfigError(f"LMS_ENV={name!r} is not one of {', '.join(PROFILES)}") from None


def check_production_config(config: dict) -> None:
    """Refuse to start production unsafely, and answer only the hosts BASE_URL names.

    Sets TRUSTED_HOSTS (Flask 3.1 checks it on every request, and a request for any other
    Host, forged X-Forwarded-Host included, is a 400) from BASE_URL plus EXTRA_TRUSTED_HOSTS.
    """
    check_production_secret(config.get("SECRET_KEY"))
    base = urlsplit(config.get("BASE_URL") or "")
    if base.scheme not in ("http", "https") or not base.hostname or base.query or base.fragment:
        raise ConfigError(
            "BASE_URL must be set in production to the address people use, e.g. https://academy.example.com: "
            "certificates, e-mails and badges carry it, never the address a request claims")
    extra = [host.strip().lower() for host in config.get("EXTRA_TRUSTED_HOSTS", "").split(",") if host.strip()]
    config["TRUSTED_HOSTS"] = [base.hostname, *extra]


def check_production_secret(secret_key: str | None) -> None:
    """Refuse to run in production with a missing, default or short SECRET_KEY."""
    if not secret_key or secret_key == DEV_SECRET_KEY or len(secret_key) < 32:
        raise ConfigError(
            "SECRET_KEY must be set to a random value of at least 32 characters in production "
            "(for example: python -c 'import secrets; print(secrets.token_urlsafe(48))')"
        )
