"""Pushing CoT events to a (local, fake) TAK server over TCP and TLS."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import socket
import ssl
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from plumetrace.errors import DataSourceError, InvalidParameterError
from plumetrace.io import cot_push
from plumetrace.io.cot_push import push_cot

EVENTS = [
    b'<?xml version="1.0" encoding="UTF-8"?>\n<event version="2.0" uid="a"><detail/></event>',
    b'<?xml version="1.0" encoding="UTF-8"?>\n<event version="2.0" uid="b">'
    b"<detail><remarks>caf\xc3\xa9 &amp; &lt;x&gt;</remarks></detail></event>",
]


class Listener:
    """An asyncio TCP (or TLS) server in a thread that records what each client sent."""

    def __init__(self, ssl_ctx: ssl.SSLContext | None = None) -> None:
        self.ssl_ctx = ssl_ctx
        self.received: list[bytes] = []
        self.got = threading.Event()
        self.port = 0
        self._ready = threading.Event()
        self._loop = asyncio.new_event_loop()
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Listener:
        self._thread.start()
        assert self._ready.wait(5), "listener did not start"
        return self

    def __exit__(self, *exc: object) -> None:
        stop = self._stop
        assert stop is not None
        self._loop.call_soon_threadsafe(stop.set)
        self._thread.join(5)
        assert not self._thread.is_alive()

    def _run(self) -> None:
        self._loop.run_until_complete(self._serve())
        self._loop.close()

    async def _serve(self) -> None:
        self._stop = asyncio.Event()
        server = await asyncio.start_server(self._handle, "127.0.0.1", 0, ssl=self.ssl_ctx)
        self.port = server.sockets[0].getsockname()[1]
        self._ready.set()
        async with server:
            await self._stop.wait()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            async with asyncio.timeout(5):
                self.received.append(await reader.read())
        except (TimeoutError, OSError):
            pass
        finally:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()
            self.got.set()

    def wait(self) -> bytes:
        assert self.got.wait(5), "nothing arrived"
        return b"".join(self.received)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


# --------------------------------------------------------------------------- certificates


def _self_signed(directory: Path, name: str, cn: str) -> tuple[Path, Path]:
    cert, key = directory / f"{name}.pem", directory / f"{name}.key"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "ec",
            "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
            "-keyout", str(key), "-out", str(cert), "-days", "2", "-subj", f"/CN={cn}",
            "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
        ],
        check=True,
        capture_output=True,
        timeout=20,
    )  # fmt: skip
    return cert, key


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, Path]]:
    """Self-signed server, client and unrelated certificates (PEM cert, key)."""
    if shutil.which("openssl") is None:
        pytest.skip("the openssl command is not available")
    d = tmp_path_factory.mktemp("pki")
    return {
        "server": _self_signed(d, "server", "localhost"),
        "client": _self_signed(d, "client", "plumetrace-client"),
        "other": _self_signed(d, "other", "someone-else"),
    }


@pytest.fixture(autouse=True)
def short_settle(monkeypatch: pytest.MonkeyPatch) -> None:
    """Wait 0.2 s, not 0.5 s, for a local TLS server to reject our certificate."""
    monkeypatch.setattr(cot_push, "_SETTLE_S", 0.2)


@pytest.fixture
def tls_listener(pki: dict[str, tuple[Path, Path]]) -> Iterator[Listener]:
    """A TLS listener that, like a TAK server, requires our client certificate."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(*pki["server"])
    ctx.verify_mode = ssl.CERT_REQUIRED
    ctx.load_verify_locations(cafile=pki["client"][0])
    with Listener(ctx) as listener:
        yield listener


# --------------------------------------------------------------------------- TCP


def test_push_over_tcp() -> None:
    with Listener() as server:
        n = push_cot(EVENTS, f"tcp://127.0.0.1:{server.port}", timeout_s=5)
        assert n == 2
        assert server.wait() == b"".join(EVENTS)


def test_no_events_sends_nothing() -> None:
    assert push_cot([], f"tcp://127.0.0.1:{_free_port()}") == 0


def test_connection_refused() -> None:
    url = f"tcp://127.0.0.1:{_free_port()}"
    with pytest.raises(DataSourceError, match="connection refused") as info:
        push_cot(EVENTS, url, timeout_s=5)
    assert url in str(info.value)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(
    ("url", "match"),
    [
        ("udp://127.0.0.1:6969", "scheme"),
        ("http://127.0.0.1:8080", "scheme"),
        ("127.0.0.1:8087", "scheme"),
        ("tcp://127.0.0.1", "host and port"),
        ("tcp://:8087", "host and port"),
        ("tcp://127.0.0.1:99999", "bad TAK server URL"),
    ],
)
def test_bad_url(url: str, match: str) -> None:
    with pytest.raises(DataSourceError, match=match) as info:
        push_cot(EVENTS, url)
    assert url in str(info.value)


@pytest.mark.parametrize("timeout", [0, -1.0, float("nan")])
def test_bad_timeout(timeout: float) -> None:
    with pytest.raises(InvalidParameterError, match="timeout_s"):
        push_cot(EVENTS, "tcp://127.0.0.1:8087", timeout_s=timeout)


def test_events_must_be_bytes() -> None:
    with pytest.raises(InvalidParameterError, match="event 1"):
        push_cot([EVENTS[0], "<event/>"], "tcp://127.0.0.1:8087")  # type: ignore[list-item]


# --------------------------------------------------------------------------- TLS


def test_push_over_tls(tls_listener: Listener, pki: dict[str, tuple[Path, Path]]) -> None:
    cert, key = pki["client"]
    url = f"tls://127.0.0.1:{tls_listener.port}"
    n = push_cot(EVENTS, url, cert=cert, key=key, cafile=pki["server"][0], timeout_s=5)
    assert n == 2
    assert tls_listener.wait() == b"".join(EVENTS)


def test_push_over_tls_insecure(tls_listener: Listener, pki: dict[str, tuple[Path, Path]]) -> None:
    # pytak warns when verification is off; the warning must not reach the caller
    cert, key = pki["client"]
    url = f"ssl://127.0.0.1:{tls_listener.port}"
    assert push_cot(EVENTS[:1], url, cert=cert, key=key, insecure=True, timeout_s=5) == 1
    assert tls_listener.wait() == EVENTS[0]


def test_tls_key_in_cert_file(
    tls_listener: Listener, pki: dict[str, tuple[Path, Path]], tmp_path: Path
) -> None:
    cert, key = pki["client"]
    both = tmp_path / "both.pem"
    both.write_bytes(cert.read_bytes() + key.read_bytes())
    url = f"tls://127.0.0.1:{tls_listener.port}"
    assert push_cot(EVENTS, url, cert=both, cafile=pki["server"][0], timeout_s=5) == 2
    assert tls_listener.wait() == b"".join(EVENTS)


def test_tls_client_certificate_rejected(
    tls_listener: Listener, pki: dict[str, tuple[Path, Path]]
) -> None:
    # TLS 1.3: the server rejects the certificate after our side of the handshake is done
    cert, key = pki["other"]
    url = f"tls://127.0.0.1:{tls_listener.port}"
    with pytest.raises(DataSourceError, match="does it trust our certificate") as info:
        push_cot(EVENTS, url, cert=cert, key=key, cafile=pki["server"][0], timeout_s=5)
    assert url in str(info.value)
    assert tls_listener.received == []


def test_tls_untrusted_server(tls_listener: Listener, pki: dict[str, tuple[Path, Path]]) -> None:
    cert, key = pki["client"]
    url = f"tls://127.0.0.1:{tls_listener.port}"
    with pytest.raises(DataSourceError, match="certificate verification failed") as info:
        push_cot(EVENTS, url, cert=cert, key=key, cafile=pki["other"][0], timeout_s=5)
    assert url in str(info.value)


def test_tls_needs_client_certificate() -> None:
    with pytest.raises(DataSourceError, match="client certificate"):
        push_cot(EVENTS, "tls://127.0.0.1:8089", insecure=True)


def test_tls_options_refused_for_tcp(pki: dict[str, tuple[Path, Path]]) -> None:
    with pytest.raises(DataSourceError, match="apply to tls://"):
        push_cot(EVENTS, "tcp://127.0.0.1:8087", cert=pki["client"][0])
    with pytest.raises(DataSourceError, match="apply to tls://"):
        push_cot(EVENTS, "tcp://127.0.0.1:8087", insecure=True)


def test_tls_missing_files(tmp_path: Path) -> None:
    with pytest.raises(DataSourceError, match=r"certificate .*missing\.pem not found"):
        push_cot(EVENTS, "tls://127.0.0.1:8089", cert=tmp_path / "missing.pem", insecure=True)


def test_tls_bad_certificate_file(pki: dict[str, tuple[Path, Path]], tmp_path: Path) -> None:
    junk = tmp_path / "junk.pem"
    junk.write_text("not a certificate")
    with Listener() as server:
        url = f"tls://127.0.0.1:{server.port}"
        with pytest.raises(DataSourceError, match="client certificate or key") as info:
            push_cot(EVENTS, url, cert=junk, insecure=True, timeout_s=5)
    assert url in str(info.value)


def test_tls_handshake_timeout(pki: dict[str, tuple[Path, Path]]) -> None:
    # a server that accepts TCP connections but never answers the TLS handshake
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        url = f"tls://127.0.0.1:{silent.getsockname()[1]}"
        cert, key = pki["client"]
        with pytest.raises(DataSourceError, match=r"timed out after 0\.3 s") as info:
            push_cot(EVENTS, url, cert=cert, key=key, insecure=True, timeout_s=0.3)
    assert url in str(info.value)


def test_pytak_import_warning_does_not_leak() -> None:
    # in a fresh interpreter with warnings as errors, pytak is imported on the first push
    code = (
        "from plumetrace.errors import DataSourceError\n"
        "from plumetrace.io.cot_push import push_cot\n"
        f"try:\n    push_cot([b'<event/>'], 'tcp://127.0.0.1:{_free_port()}', timeout_s=2)\n"
        "except DataSourceError as e:\n    print('refused' if 'refused' in str(e) else e)\n"
    )
    out = subprocess.run(
        [sys.executable, "-W", "error", "-c", code], capture_output=True, text=True, timeout=30
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "refused"
