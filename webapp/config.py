"""Configuration read from the environment (12-factor); see README "Configuration"."""
import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def env_flag(name: str) -> bool | None:
    """A yes/no setting from the environment: True for 1/true/yes/on, False for 0/false/no/off, None unset."""
    value = os.environ.get(name, "").strip().lower()
    if not value:
        return None
    return value in ("1", "true", "yes", "on")


def normalise_db_url(url: str) -> str:
    """Accept plain ``postgresql://`` URLs and use the psycopg 3 driver for them."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


class Config:
    SECRET_KEY = os.environ.get("SECRET_KEY", "")
    SQLALCHEMY_DATABASE_URI = normalise_db_url(
        os.environ.get("DATABASE_URL", f"sqlite:///{ROOT / 'instance' / 'ssj.db'}")
    )
    UPLOAD_FOLDER = os.environ.get("UPLOAD_FOLDER", str(ROOT / "instance" / "uploads"))
    CHECKLIST_FOLDER = os.environ.get("CHECKLIST_FOLDER", str(ROOT / "checklists"))
    MAX_CONTENT_LENGTH = int(os.environ.get("MAX_CONTENT_LENGTH", 64 * 1024 * 1024))
    BABEL_DEFAULT_LOCALE = "zh_CN"
    BABEL_DEFAULT_TIMEZONE = "Asia/Shanghai"
    LANGUAGES = ("zh_CN", "en")
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    #: Unset: on, except in development (debug) and tests (webapp/security.py; issue #11 point 9).
    #: SESSION_COOKIE_SECURE=0 for a server reached over plain HTTP (the demo); the remember-me
    #: cookie follows it unless REMEMBER_COOKIE_SECURE says otherwise.
    SESSION_COOKIE_SECURE = env_flag("SESSION_COOKIE_SECURE")
    REMEMBER_COOKIE_SECURE = env_flag("REMEMBER_COOKIE_SECURE")
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    #: Strict-Transport-Security max-age (seconds) sent on HTTPS requests; 0 sends none.
    HSTS_MAX_AGE = int(os.environ.get("HSTS_MAX_AGE", str(365 * 24 * 3600)))
    WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the session
    #: Sign-in throttling (issue #11 point 8; README "Sign-in and sessions"). An address with this many
    #: failures (any names) inside the window is refused until the oldest leaves it.
    LOGIN_WINDOW_MINUTES = 15
    LOGIN_MAX_FAILURES_PER_IP = 30
    #: An account is never locked: after LOGIN_FREE_FAILURES failures since its last success (within
    #: LOGIN_ACCOUNT_WINDOW_HOURS) each next attempt waits BASE × 2^(failures − free) seconds after the
    #: last failure, at most MAX; a device that signed in to the account before does not wait.
    LOGIN_FREE_FAILURES = 3
    LOGIN_DELAY_BASE_SECONDS = 2
    LOGIN_DELAY_MAX_SECONDS = 300
    LOGIN_ACCOUNT_WINDOW_HOURS = 24
    #: How long a browser or phone that signed in stays a known device.
    KNOWN_DEVICE_DAYS = 180
    #: A web session unused this long has ended (issue #11 point 7).
    SESSION_IDLE_DAYS = 14
    #: Proxies in front of the app that set X-Forwarded-For/-Proto (0: none). Behind one
    #: HTTPS proxy set 1, or every user shares the proxy's address for login throttling.
    PROXY_FIX_HOPS = int(os.environ.get("PROXY_FIX_HOPS", "0"))
    PAGE_SIZE = 50
    #: A photo upload no piece reached for this many hours is deleted (`flask photos clean`; issue #11 point 4).
    PHOTO_PARTIAL_MAX_AGE_HOURS = float(os.environ.get("PHOTO_PARTIAL_MAX_AGE_HOURS", "24"))
    #: Public randomness beacon the server may fetch at reveal (drand quicknet; DRAW.md §2).
    #: Set DRAND_URL to "" on a server that cannot reach it: the value is then typed in.
    DRAND_URL = os.environ.get("DRAND_URL", "https://api.drand.sh")
    DRAND_CHAIN = "52db9ba70e0cc0f6eaf7803dd07447a1f5477735fd3f661792ba94600c84e971"  #: quicknet
    DRAND_GENESIS = 1692803367  #: quicknet round 1, Unix seconds
    DRAND_PERIOD = 3  #: seconds between rounds
    #: The bureau as its documents name it, and its short form in document numbers (文号): with the
    #: default, the twelfth order of 2026 is numbered 示应急责改〔2026〕12号.
    BUREAU_NAME = os.environ.get("BUREAU_NAME", "示范县应急管理局")
    BUREAU_SHORT = os.environ.get("BUREAU_SHORT", "示应急")
    #: Where an enterprise may apply for administrative review of an order (行政复议法 2023 §20).
    REVIEW_BODY = os.environ.get("REVIEW_BODY", "示范县人民政府")
    #: The people's court for an administrative lawsuit (行政诉讼法 §46).
    COURT = os.environ.get("COURT", "示范县人民法院")
