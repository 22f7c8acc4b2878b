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

from urllib.parse import urlsplit

from fastapi import FastAPI
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["SecurityHeaders", "content_security_policy", "install_security_headers"]

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


class SecurityHeaders:
    """ASGI middleware that adds the security headers to every HTTP response.

    A plain ASGI wrapper of ``send`` (not Starlette's ``BaseHTTPMiddleware``, which
    costs a task and a response stream per request): headers a route set itself win.

    Parameters
    ----------
    app : ASGI application
    basemap_url : str or None
        See :func:`content_security_policy`.
    """

    def __init__(self, app: ASGIApp, basemap_url: str | None) -> None:
        self.app = app
        self.page_policy = content_security_policy(basemap_url)
        self.data_policy = "default-src 'none'; frame-ancestors 'none'"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve the request, adding the headers when the response starts."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        https = scope.get("scheme") == "https"

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                h = MutableHeaders(scope=message)
                h.setdefault("X-Content-Type-Options", "nosniff")
                h.setdefault("Referrer-Policy", "no-referrer")
                h.setdefault("Cross-Origin-Opener-Policy", "same-origin")
                if https:
                    h.setdefault("Strict-Transport-Security", "max-age=31536000")
                if not path.startswith(_DOCS):
                    h.setdefault("X-Frame-Options", "DENY")
                    if path.startswith(_DATA_PREFIXES):
                        h.setdefault("Content-Security-Policy", self.data_policy)
                        h.setdefault("Cache-Control", "no-store")
                    else:
                        h.setdefault("Content-Security-Policy", self.page_policy)
            await send(message)

        await self.app(scope, receive, send_with_headers)


def install_security_headers(app: FastAPI, basemap_url: str | None) -> None:
    """Add the security headers to every response of ``app``."""
    app.add_middleware(SecurityHeaders, basemap_url=basemap_url)
