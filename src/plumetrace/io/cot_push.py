"""Push Cursor-on-Target events to a TAK server over TCP or TLS, with ``pytak``.

:func:`push_cot` opens one connection with :func:`pytak.protocol_factory`, writes the
events (for example those of :func:`plumetrace.share.cot.cot_events`) back to back as TAK
servers expect on their streaming port, waits until they are handed to the network, and
closes. Every failure (a bad URL, a refused connection, a TLS or certificate problem, a
timeout) becomes one :class:`~plumetrace.errors.DataSourceError` line naming the server.

TLS: ``pytak`` always presents a client certificate on ``tls://`` (TAK servers
authenticate clients by certificate, usually on port 8089), so ``cert`` is required. Give
PEM files: ``cert`` with the client certificate, ``key`` with its unencrypted private key
(or omit ``key`` when ``cert`` holds both). The server certificate is verified against
``cafile`` (the TAK server's CA, usually from the partner's data package), else against
the system's CA bundle; ``insecure=True`` skips verification and the host-name check.
``pytak``'s own warnings (a missing optional ``cryptography`` package, disabled
verification) are kept from leaking into the caller's warning filters.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import socket
import ssl
import warnings
from collections.abc import Sequence
from configparser import ConfigParser
from configparser import Error as ConfigError
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from plumetrace.errors import DataSourceError, InvalidParameterError

__all__ = ["COT_SCHEMES", "push_cot"]

logger = logging.getLogger(__name__)

COT_SCHEMES = ("tcp", "tls", "ssl")
"""URL schemes :func:`push_cot` accepts (``ssl`` is an alias of ``tls``)."""

_CLOSE_TIMEOUT_S = 2.0
_SETTLE_S = 0.5
"""How long, s, a TLS server gets to reject our certificate after the handshake."""


def push_cot(
    events: Sequence[bytes],
    url: str,
    *,
    cert: Path | None = None,
    key: Path | None = None,
    cafile: Path | None = None,
    insecure: bool = False,
    timeout_s: float = 10.0,
) -> int:
    """Send CoT events to a TAK server over one TCP or TLS connection.

    Call it from synchronous code: it runs its own event loop (in async code, run it in a
    worker thread, e.g. ``await asyncio.to_thread(push_cot, ...)``).

    Parameters
    ----------
    events : sequence of bytes
        CoT event documents (UTF-8 XML), sent in order, unchanged.
    url : str
        ``tcp://host:port`` or ``tls://host:port`` (port required; TAK servers usually
        listen on 8087 for TCP and 8089 for TLS).
    cert : Path or None
        Client certificate, PEM; required for ``tls://`` (TLS options are refused for
        ``tcp://``, so a mistyped scheme cannot send a lead in clear text).
    key : Path or None
        Its private key, PEM, unencrypted; default: read from ``cert``.
    cafile : Path or None
        CA certificates, PEM, that verify the server; default: the system's CA bundle.
    insecure : bool
        Skip verification of the server certificate and host name (test servers only).
    timeout_s : float, s
        Limit for connecting, the TLS handshake and sending everything.

    Returns
    -------
    int
        Number of events sent (``len(events)``; 0 without connecting if there are none).

    Raises
    ------
    InvalidParameterError
        If an event is not bytes or ``timeout_s`` is not a positive number of seconds.
    DataSourceError
        If the URL is not a ``tcp``/``tls`` URL with host and port, a certificate file is
        missing, TLS options are given for ``tcp://``, or connecting, the TLS handshake or
        sending fails or times out (including a server that drops the session at once,
        as TAK servers do with a client certificate they do not trust).
    RuntimeError
        If called while an asyncio event loop is running in this thread.
    """
    if isinstance(timeout_s, bool) or not (
        isinstance(timeout_s, int | float) and math.isfinite(timeout_s) and timeout_s > 0
    ):
        raise InvalidParameterError(f"timeout_s must be a positive number, not {timeout_s!r}")
    payload = list(events)
    for k, event in enumerate(payload):
        if not isinstance(event, bytes | bytearray | memoryview):
            raise InvalidParameterError(f"event {k} is {type(event).__name__}, not bytes")
    scheme, host, port = _parse_url(url)
    where = f"{scheme}://{_netloc(host, port)}"
    config = _config(scheme, host, port, where, cert, key, cafile, insecure)
    if not payload:
        return 0
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        pass
    else:
        raise RuntimeError("push_cot runs its own event loop; call it from a worker thread")

    with warnings.catch_warnings():
        # pytak warns on import without `cryptography` and whenever verification is off
        warnings.filterwarnings("ignore", module=r"pytak(\.|$)")
        try:
            asyncio.run(_send(payload, config, timeout_s, tls=scheme == "tls"))
        except DataSourceError:
            raise
        except Exception as exc:
            raise DataSourceError(
                None, f"cannot push CoT to {where}: {_problem(exc, timeout_s)}"
            ) from exc
    logger.info("pushed %d CoT events to %s", len(payload), where)
    return len(payload)


def _parse_url(url: str) -> tuple[str, str, int]:
    """Return (scheme, host, port) of a CoT URL, or raise DataSourceError."""
    try:
        parts = urlsplit(str(url).strip())
        scheme = parts.scheme.lower()
        host = parts.hostname
        port = parts.port
    except ValueError as exc:
        raise DataSourceError(None, f"bad TAK server URL {url!r}: {exc}") from exc
    if scheme not in COT_SCHEMES:
        raise DataSourceError(
            None,
            f"bad TAK server URL {url!r}: scheme must be one of "
            f"{', '.join(s + '://' for s in COT_SCHEMES)}",
        )
    if not host or port is None or port == 0:
        raise DataSourceError(
            None, f"bad TAK server URL {url!r}: give a host and port, e.g. {scheme}://host:8089"
        )
    return ("tls" if scheme == "ssl" else scheme), host, port


def _netloc(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _config(
    scheme: str,
    host: str,
    port: int,
    where: str,
    cert: Path | None,
    key: Path | None,
    cafile: Path | None,
    insecure: bool,
) -> Any:
    """Return the pytak configuration section for one push."""
    values = {"COT_URL": f"{scheme}://{_netloc(host, port)}"}
    if scheme == "tcp" and (cert or key or cafile or insecure):
        # more likely a mistyped scheme than a wish to send in clear text
        raise DataSourceError(
            None, f"cannot push CoT to {where}: cert, key, cafile and insecure apply to tls://"
        )
    if scheme == "tls":
        if cert is None:
            raise DataSourceError(
                None,
                f"cannot push CoT to {where}: TLS needs a client certificate (cert), "
                "as pytak always presents one",
            )
        if cafile is None and not insecure:
            default = ssl.get_default_verify_paths().cafile
            if default is None or not Path(default).is_file():
                raise DataSourceError(
                    None,
                    f"cannot push CoT to {where}: no system CA bundle to verify the server; "
                    "give cafile (or insecure=True for a test server)",
                )
            cafile = Path(default)
        files = {"certificate": cert, "key": key, "CA file": cafile}
        for what, path in files.items():
            if path is not None and not Path(path).is_file():
                raise DataSourceError(None, f"cannot push CoT to {where}: {what} {path} not found")
        values["PYTAK_TLS_CLIENT_CERT"] = str(cert)
        values["PYTAK_TLS_CLIENT_KEY"] = str(key if key is not None else cert)
        if cafile is not None:
            values["PYTAK_TLS_CLIENT_CAFILE"] = str(cafile)
        if insecure:
            values["PYTAK_TLS_DONT_VERIFY"] = "1"
            values["PYTAK_TLS_DONT_CHECK_HOSTNAME"] = "1"
        if any("%" in v for v in values.values()):
            # pytak re-reads these through an interpolating ConfigParser
            raise DataSourceError(
                None, f"cannot push CoT to {where}: certificate paths may not contain '%'"
            )
    parser = ConfigParser(interpolation=None)
    parser["plumetrace"] = values
    return parser["plumetrace"]


async def _send(events: list[bytes], config: Any, timeout_s: float, tls: bool) -> None:
    """Connect with pytak, write every event, drain and close, within ``timeout_s``."""
    import pytak

    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    writer: asyncio.StreamWriter | None = None
    try:
        async with asyncio.timeout_at(deadline):
            reader, writer = await pytak.protocol_factory(config)
            if writer is None:
                raise ConnectionError("pytak opened no connection")
            for event in events:
                writer.write(bytes(event))
            await writer.drain()
        if tls and reader is not None:
            await _check_accepted(reader, min(_SETTLE_S, max(deadline - loop.time(), 0.0)))
    finally:
        if writer is not None:
            await _close(writer)


async def _check_accepted(reader: asyncio.StreamReader, wait_s: float) -> None:
    """Give the server ``wait_s`` to reject the session after the handshake.

    With TLS 1.3 a server checks the client certificate after the client considers the
    handshake done, so a rejection (an alert, a reset) only shows on the next read.
    Silence or data within the wait count as accepted; an alert, a reset or a close
    (TAK servers keep streaming connections open) as rejected.
    """
    try:
        async with asyncio.timeout(wait_s):
            data = await reader.read(65536)
    except TimeoutError:
        return
    except (ssl.SSLError, ConnectionError) as exc:
        raise _RejectedError(str(getattr(exc, "reason", None) or exc)) from exc
    if not data:
        raise _RejectedError("connection closed")


class _RejectedError(ConnectionError):
    """The server ended the TLS session right after it started."""


async def _close(writer: asyncio.StreamWriter) -> None:
    """Close the connection; abort it if the peer does not finish closing in time."""
    writer.close()
    try:
        async with asyncio.timeout(_CLOSE_TIMEOUT_S):
            await writer.wait_closed()
    except (TimeoutError, OSError):
        writer.transport.abort()
        with contextlib.suppress(TimeoutError, OSError):
            async with asyncio.timeout(_CLOSE_TIMEOUT_S):
                await writer.wait_closed()


def _problem(exc: BaseException, timeout_s: float) -> str:
    """Return one line saying what went wrong."""
    cause = exc.__cause__ or exc.__context__
    if isinstance(exc, TimeoutError):
        return f"timed out after {timeout_s:g} s"
    if isinstance(exc, ssl.SSLCertVerificationError) or isinstance(
        cause, ssl.SSLCertVerificationError
    ):
        err = cause if isinstance(cause, ssl.SSLCertVerificationError) else exc
        reason = getattr(err, "verify_message", None) or getattr(err, "reason", None) or err
        return f"server certificate verification failed ({reason})"
    if isinstance(exc, _RejectedError):
        return f"the server ended the TLS session at once; does it trust our certificate? ({exc})"
    if isinstance(exc, ssl.SSLError):
        return f"TLS handshake failed ({exc.reason or exc})"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, ConnectionResetError | BrokenPipeError):
        return "the server closed the connection"
    if isinstance(exc, socket.gaierror):
        return f"cannot resolve the host name ({exc.strerror or exc})"
    if isinstance(exc, OSError) and exc.strerror:
        return f"network error ({exc.strerror})"
    if isinstance(exc, ValueError) and "Error opening resource" in str(exc):
        detail = f": {cause}" if cause is not None else ""
        return f"cannot load the client certificate or key{detail}"
    if isinstance(exc, SyntaxError):
        return f"pytak rejected the configuration ({exc.msg})"
    if isinstance(exc, ConfigError):
        return f"pytak rejected the configuration ({exc})"
    return f"{type(exc).__name__}: {exc}"
