"""Configuration, read once from the environment."""

from __future__ import annotations

import os
import re
import secrets
import socket
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    return int(raw) if raw else default


def _database_url(raw: str | None) -> str:
    """Accept the URLs operators write and pick the async driver for them."""
    if not raw:
        return f"sqlite+aiosqlite:///{ROOT / 'comptoir.db'}"
    for prefix in ("postgres://", "postgresql://"):
        if raw.startswith(prefix):
            return "postgresql+asyncpg://" + raw[len(prefix) :]
    if raw.startswith("sqlite:///"):
        return "sqlite+aiosqlite:///" + raw[len("sqlite:///") :]
    return raw


def _photo_store_url(raw: str) -> str:
    """Empty, or s3://bucket with an optional /prefix: refused at start, not at the first
    upload."""
    raw = raw.strip()
    if raw and not re.fullmatch(r"s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](/[\w./-]*)?", raw):
        raise ValueError(f"PHOTO_STORE_URL must be s3://bucket or s3://bucket/prefix: {raw!r}")
    return raw


def _secret_key() -> str:
    key = os.environ.get("SECRET_KEY")
    if key:
        return key
    # A generated key keeps a newcomer's demo working; it is kept in a file so that
    # several processes and restarts sign cookies alike. Readable by its owner only: it
    # signs every session and unlocks the payment keys (docs/security.md).
    path = ROOT / ".secret_key"
    if not path.exists():
        _create_once(path, secrets.token_urlsafe(48))
    elif path.stat().st_mode & 0o077:
        path.chmod(0o600)  # made world-readable by an older version
    return path.read_text().strip()


def _create_once(path: Path, content: str) -> None:
    """Writes a 0600 file whole, then links it into place: processes starting together
    all read the first one's key, never a half-written or a second one."""
    draft = path.with_name(f"{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w") as file:
            file.write(content)
        os.link(draft, path)
    except FileExistsError:
        pass  # another process was first
    finally:
        draft.unlink()


DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
# Addresses a server listens on that no browser can open: every interface.
_EVERY_INTERFACE = {"", "0.0.0.0", "::", "[::]"}


def _reachable_address() -> str:
    """This machine's address on its network, for a server listening on every interface:
    the source address of a route out (a UDP socket's connect sends nothing); this host
    when there is no network."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.connect(("192.0.2.1", 9))  # TEST-NET-1: routed, never reached
            address: str = probe.getsockname()[0]
            return address
    except OSError:
        return DEFAULT_HOST


def public_base_url(public_url: str | None, host: str, port: int) -> str:
    """The address people and machines open this server at, without a trailing slash: the
    one place every printed URL, QR code, mailed link and webhook URL starts from.

    PUBLIC_URL when set (behind a proxy, a domain name, https); else the host and port
    the server listens on (`comptoir serve --host --port`, or HOST and PORT), so that
    `PORT=8200 make demo` prints, encodes and mails :8200. A server listening on every
    interface (0.0.0.0) is reached at this machine's address on its network."""
    if public_url and public_url.strip():
        return public_url.strip().rstrip("/")
    host = host.strip()
    if host in _EVERY_INTERFACE:
        host = _reachable_address()
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"  # an IPv6 address in a URL
    return f"http://{host}" if port == 80 else f"http://{host}:{port}"


@dataclass(frozen=True)
class Settings:
    database_url: str
    redis_url: str | None
    secret_key: str
    public_url: str = "http://127.0.0.1:8000"
    pin_length: int = 6
    # Wrong table PINs (web/ratelimit.py): per device in the window; per table, after which
    # the table takes one try per pace from anyone until the window ends or staff lift it.
    pin_max_failures: int = 5
    pin_failure_window_s: int = 600
    pin_table_max_failures: int = 10
    pin_table_pace_s: int = 30
    # Wrong sign-ins (staff and consumers): per address, and per client address (IP).
    login_max_failures: int = 10
    login_max_failures_per_client: int = 50
    login_failure_window_s: int = 600
    # Mailed links: an operator's sign-up confirmation, a password reset (used once).
    signup_link_ttl_s: int = 48 * 3600
    reset_link_ttl_s: int = 3600
    # Sign-ups and password-reset requests (each sends a mail): per address, per client.
    mail_requests_per_address: int = 5
    mail_requests_per_client: int = 30
    mail_request_window_s: int = 3600
    session_idle_s: int = 30 * 60  # a table's session, opened and left empty
    # Browsers' sessions (web/sessions.py) end after this long unused: staff after a
    # working day, consumers and phones at tables after a month.
    staff_session_idle_s: int = 12 * 3600
    consumer_session_idle_s: int = 30 * 86400
    browser_session_idle_s: int = 30 * 86400
    sweep_interval_s: int = 30
    outbox_sweep_s: float = 5  # how often undelivered domain events are looked for
    # Birthday and absence coupons (loyalty/coupon_sweep.py) and automatic sends (automatic.py).
    coupon_sweep_s: float = 300
    sms_dispatch_s: float = 60  # campaigns' queued SMS (loyalty/sms_dispatch.py)
    sms_api_url: str = ""  # the SMS provider's API elsewhere than its own (tests' fake)
    max_quantity: int = 50
    max_note_length: int = 200
    max_cart_lines: int = 100
    socket_queue_size: int = 256
    # Live sockets (/ws) in each process: per device cookie, and of the diners (not staff)
    # watching one table; benchmarks raise them (docs/deploy.md, Limits).
    ws_max_per_device: int = 50
    ws_max_per_table: int = 100
    # How long a topic's event waits for the version before it, which two commits made
    # together can publish after it (docs/realtime.md); 0 hands events on as they come.
    event_hold_s: float = 0.1
    allowed_origins: tuple[str, ...] = field(default_factory=tuple)
    secure_cookies: bool = False
    # Coffee machines (machines/): device liveness, brew timeouts, payments, mail.
    machine_heartbeat_s: float = 10
    machine_offline_after_s: float = 30
    brew_accept_timeout_s: float = 20
    brew_stall_timeout_s: float = 120
    brew_payment_timeout_s: float = 300
    machine_sweep_s: float = 2
    payment_provider: str = "none"  # none | test (demo) | stripe
    stripe_secret_key: str = ""
    stripe_webhook_secret: str = ""
    stripe_api_base: str = ""  # another Stripe API server (stripe-mock, tests); empty: Stripe's
    webhook_tolerance_s: int = 300
    # smtp://user:password@host:587 (STARTTLS), smtps://…:465, ?starttls=off for a local
    # relay; empty: mail stays in the outbox page
    smtp_url: str = ""
    mail_from: str = "Comptoir <noreply@localhost>"
    # GET /metrics: with a token, for whoever bears it; without, for this host only.
    metrics_token: str = ""
    # Logs: json | text (empty: text on a terminal, else JSON), and the least level shown.
    log_format: str = ""
    log_level: str = "info"
    # Uploaded files (products' photos); empty: the media/ folder beside the code.
    media_dir: str = ""
    # s3://bucket/prefix: photos kept in that S3-compatible bucket (endpoint and keys from
    # the AWS_* variables) instead of MEDIA_DIR; empty: MEDIA_DIR.
    photo_store_url: str = ""
    # Start-up collects the whole heap and freezes it (web/gc_policy.py): right for a server
    # started once, but a test process starts the app once a test, and each start would walk
    # the test session's whole heap again (0.2 s). The tests turn it off (tests/conftest.py).
    gc_freeze_at_start: bool = True

    @classmethod
    def from_env(cls) -> Settings:
        public_url = public_base_url(
            os.environ.get("PUBLIC_URL"), os.environ.get("HOST") or DEFAULT_HOST,
            _int("PORT", DEFAULT_PORT),
        )
        origins = tuple(o for o in os.environ.get("ALLOWED_ORIGINS", "").split(",") if o)
        return cls(
            database_url=_database_url(os.environ.get("DATABASE_URL")),
            redis_url=os.environ.get("REDIS_URL") or None,
            secret_key=_secret_key(),
            public_url=public_url,
            pin_length=_int("PIN_LENGTH", 6),
            pin_max_failures=_int("PIN_MAX_FAILURES", 5),
            pin_failure_window_s=_int("PIN_FAILURE_WINDOW_S", 600),
            pin_table_max_failures=_int("PIN_TABLE_MAX_FAILURES", 10),
            pin_table_pace_s=_int("PIN_TABLE_PACE_S", 30),
            login_max_failures=_int("LOGIN_MAX_FAILURES", 10),
            login_max_failures_per_client=_int("LOGIN_MAX_FAILURES_PER_CLIENT", 50),
            login_failure_window_s=_int("LOGIN_FAILURE_WINDOW_S", 600),
            signup_link_ttl_s=_int("SIGNUP_LINK_TTL_S", 48 * 3600),
            reset_link_ttl_s=_int("RESET_LINK_TTL_S", 3600),
            mail_requests_per_address=_int("MAIL_REQUESTS_PER_ADDRESS", 5),
            mail_requests_per_client=_int("MAIL_REQUESTS_PER_CLIENT", 30),
            mail_request_window_s=_int("MAIL_REQUEST_WINDOW_S", 3600),
            session_idle_s=_int("SESSION_IDLE_S", 30 * 60),
            staff_session_idle_s=_int("STAFF_SESSION_IDLE_S", 12 * 3600),
            consumer_session_idle_s=_int("CONSUMER_SESSION_IDLE_S", 30 * 86400),
            browser_session_idle_s=_int("BROWSER_SESSION_IDLE_S", 30 * 86400),
            sweep_interval_s=_int("SWEEP_INTERVAL_S", 30),
            outbox_sweep_s=float(os.environ.get("OUTBOX_SWEEP_S", "5")),
            coupon_sweep_s=float(os.environ.get("COUPON_SWEEP_S", "300")),
            sms_dispatch_s=float(os.environ.get("SMS_DISPATCH_S", "60")),
            sms_api_url=os.environ.get("SMS_API_URL", ""),
            event_hold_s=float(os.environ.get("EVENT_HOLD_S", "0.1")),
            ws_max_per_device=_int("WS_MAX_PER_DEVICE", 50),
            ws_max_per_table=_int("WS_MAX_PER_TABLE", 100),
            allowed_origins=origins,
            secure_cookies=public_url.startswith("https://"),
            machine_heartbeat_s=float(os.environ.get("MACHINE_HEARTBEAT_S", "10")),
            machine_offline_after_s=float(os.environ.get("MACHINE_OFFLINE_AFTER_S", "30")),
            brew_accept_timeout_s=float(os.environ.get("BREW_ACCEPT_TIMEOUT_S", "20")),
            brew_stall_timeout_s=float(os.environ.get("BREW_STALL_TIMEOUT_S", "120")),
            machine_sweep_s=float(os.environ.get("MACHINE_SWEEP_S", "2")),
            # The test provider lets anyone "pay": only the demo turns it on by default.
            payment_provider=os.environ.get("PAYMENT_PROVIDER", "none"),
            stripe_secret_key=os.environ.get("STRIPE_SECRET_KEY", ""),
            stripe_webhook_secret=os.environ.get("STRIPE_WEBHOOK_SECRET", ""),
            stripe_api_base=os.environ.get("STRIPE_API_BASE", ""),
            smtp_url=os.environ.get("SMTP_URL", ""),
            mail_from=os.environ.get("MAIL_FROM", "Comptoir <noreply@localhost>"),
            metrics_token=os.environ.get("METRICS_TOKEN", ""),
            log_format=os.environ.get("LOG_FORMAT", "").lower(),
            log_level=os.environ.get("LOG_LEVEL", "info").lower(),
            media_dir=os.environ.get("MEDIA_DIR", ""),
            photo_store_url=_photo_store_url(os.environ.get("PHOTO_STORE_URL", "")),
        )

    @property
    def photo_bucket(self) -> tuple[str, str] | None:
        """PHOTO_STORE_URL's bucket and prefix; None: photos are files under MEDIA_DIR."""
        if not self.photo_store_url:
            return None
        bucket, _, prefix = self.photo_store_url.removeprefix("s3://").partition("/")
        return bucket, prefix.strip("/")

    @property
    def media_path(self) -> Path:
        return Path(self.media_dir) if self.media_dir else ROOT / "media"

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")
