"""Security headers on every response (issue #11 point 9) and the session cookie's defaults.

- A Content-Security-Policy with no inline script and no eval: every script is a file under
  ``/static/`` or ``/app/`` (htmx runs with ``allowEval`` off and its indicator styles in ``app.css``,
  configured by the ``htmx-config`` meta tag in ``base.html``); no inline style either.
- ``frame-ancestors 'none'`` and ``X-Frame-Options: DENY``: no page of ours inside anyone's frame.
- ``X-Content-Type-Options: nosniff``, a ``Referrer-Policy`` (a view may set a stricter one: the
  enterprise's page says ``no-referrer``, its address holds the token).
- HSTS when the request came over HTTPS. Behind a proxy ``request.is_secure`` follows
  ``X-Forwarded-Proto`` only when ``PROXY_FIX_HOPS`` says a proxy is there (``create_app`` wraps the app
  in ProxyFix); without it the header is anyone's to forge and is ignored.
"""
from flask import Flask, request

#: Photos on the phone are shown from blob: URLs; the QR code is inline SVG (markup, not a style).
CSP = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data: blob:",
    "font-src 'self'",
    "connect-src 'self'",
    "worker-src 'self'",
    "manifest-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])

#: A PDF opens in the browser's own viewer, which Chromium builds as a page with an <embed> and inline styles:
#: the page policy (object-src 'none', style-src 'self') would leave it blank (crbug.com/271452). A PDF runs no
#: script of ours, so it keeps only the framing rule.
PDF_CSP = "frame-ancestors 'none'"

HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
}


def init_app(app: Flask) -> None:
    # Secure cookies unless the environment (SESSION_COOKIE_SECURE=0) or the app's mode says otherwise:
    # development (debug) and tests serve plain HTTP, production is HTTPS only (README, "Configuration").
    if app.config.get("SESSION_COOKIE_SECURE") is None:
        app.config["SESSION_COOKIE_SECURE"] = not (app.debug or app.testing)
    if app.config.get("REMEMBER_COOKIE_SECURE") is None:
        app.config["REMEMBER_COOKIE_SECURE"] = app.config["SESSION_COOKIE_SECURE"]

    @app.after_request
    def _security_headers(response):
        if response.mimetype == "application/pdf":
            response.headers.setdefault("Content-Security-Policy", PDF_CSP)
        for name, value in HEADERS.items():
            response.headers.setdefault(name, value)
        if request.is_secure and app.config.get("HSTS_MAX_AGE"):
            response.headers.setdefault("Strict-Transport-Security", f"max-age={app.config['HSTS_MAX_AGE']}")
        return response
