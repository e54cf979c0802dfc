"""Serves the dashboard shell and its assets. The pages are client-side: they call the
JSON API like any other client, so nothing here reads a credential."""

from pathlib import Path

from flask import Blueprint, Response, redirect, url_for
from werkzeug.wrappers import Response as BaseResponse

STATIC_DIRECTORY = Path(__file__).resolve().parent / "static"

# No inline script or style and nothing from another origin: an injected
# `<script>` or attribute handler cannot run, and no token can be sent elsewhere.
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self'",
        "connect-src 'self'",
        "font-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
}

blp = Blueprint(
    "dashboard",
    __name__,
    static_folder=str(STATIC_DIRECTORY),
    static_url_path="/dashboard/assets",
)


@blp.after_request
def add_security_headers(response: Response) -> Response:
    response.headers.update(SECURITY_HEADERS)
    # Assets are not fingerprinted: revalidate (ETag) so an upgrade is seen at once.
    response.headers.setdefault("Cache-Control", "no-cache")
    return response


@blp.get("/")
def root() -> BaseResponse:
    return redirect(url_for("dashboard.shell"))


@blp.get("/dashboard")
@blp.get("/dashboard/<path:page>")
def shell(page: str = "") -> Response:
    """Every dashboard URL gets the same shell; the client-side router picks the page."""
    shell_html = (STATIC_DIRECTORY / "index.html").read_bytes()
    return Response(shell_html, mimetype="text/html", headers={"Cache-Control": "no-store"})
