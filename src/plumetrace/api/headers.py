"""Security headers on every response: a strict Content-Security-Policy for the page.

The workbench is built without inline scripts or styles (Vite emits module files; the
page builds its DOM with ``textContent``), so its policy allows scripts, styles, fonts
and connections from its own origin only; images also from ``blob:`` (plume overlays
and chips are fetched with the token and shown as blob URLs) and ``data:``, plus the
origin of a configured basemap. Nothing may frame the page. API answers (JSON, files)
get ``default-src 'none'`` and ``Cache-Control: no-store``: they are data about places
where people live, not to be kept by browsers or proxies.

FastAPI's interactive documentation (``/docs``, ``/redoc``) loads its scripts from a CDN
with an inline bootstrap; it keeps FastAPI's own headers (it needs a connected browser
anyway). Over HTTPS, ``Strict-Transport-Security`` tells browsers to stay on HTTPS.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

from fastapi import FastAPI, Request, Response

__all__ = ["content_security_policy", "install_security_headers"]

_DATA_PREFIXES = ("/api/", "/taxii2/")
_DOCS = ("/docs", "/redoc", "/openapi.json")


def content_security_policy(basemap_url: str | None) -> str:
    """Return the workbench's Content-Security-Policy.

    Parameters
    ----------
    basemap_url : str or None
        The XYZ tile template configured for the map; its origin may serve images.
    """
    img = ["'self'", "blob:", "data:"]
    if basemap_url:
        parts = urlsplit(basemap_url.replace("{s}", "a"))
        if parts.scheme in ("http", "https") and parts.netloc:
            host = parts.netloc.split(".", 1)
            # {s} subdomains (a., b., c.): allow the parent domain's subdomains
            origin = (
                f"{parts.scheme}://*.{host[1]}"
                if "{s}" in basemap_url and len(host) == 2
                else f"{parts.scheme}://{parts.netloc}"
            )
            img.append(origin)
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            f"img-src {' '.join(img)}",
            "font-src 'self'",
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )


def install_security_headers(app: FastAPI, basemap_url: str | None) -> None:
    """Add the security headers to every response of ``app``."""
    page_policy = content_security_policy(basemap_url)
    data_policy = "default-src 'none'; frame-ancestors 'none'"

    @app.middleware("http")
    async def security_headers(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        response = await call_next(request)
        path = request.url.path
        h = response.headers
        h.setdefault("X-Content-Type-Options", "nosniff")
        h.setdefault("Referrer-Policy", "no-referrer")
        h.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        if request.url.scheme == "https":
            h.setdefault("Strict-Transport-Security", "max-age=31536000")
        if path.startswith(_DOCS):
            return response
        h.setdefault("X-Frame-Options", "DENY")
        if path.startswith(_DATA_PREFIXES):
            h.setdefault("Content-Security-Policy", data_policy)
            h.setdefault("Cache-Control", "no-store")
        else:
            h.setdefault("Content-Security-Policy", page_policy)
        return response
