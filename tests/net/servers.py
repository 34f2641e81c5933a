"""Real HTTPS servers on loopback for the fetcher's tests: a private CA, a server
certificate for a few names, and a threaded ``http.server`` that serves set routes and
counts the connections it accepts."""

from __future__ import annotations

import http.server
import ipaddress
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

#: Names the server certificate is valid for (the tests resolve them to 127.0.0.1).
NAMES = ("localhost", "issuer.test", "status.test", "other.test")


@dataclass(frozen=True)
class Pki:
    ca_file: Path
    cert_file: Path
    key_file: Path

    def client_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.ca_file))


def make_pki(folder: Path) -> Pki:
    """A CA and a server certificate it signed, for :data:`NAMES` and 127.0.0.1."""
    now = datetime.now(UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Test CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(now - timedelta(hours=1)).not_valid_after(now + timedelta(days=1))
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False,
                                       key_encipherment=False, data_encipherment=False,
                                       key_agreement=False, key_cert_sign=True, crl_sign=True,
                                       encipher_only=False, decipher_only=False),
                         critical=True)
          .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()),
                         critical=False)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    names: list[x509.GeneralName] = [x509.DNSName(name) for name in NAMES]
    names.append(x509.IPAddress(ipaddress.ip_address("127.0.0.1")))
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, NAMES[0])]))
            .issuer_name(ca_name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(hours=1)).not_valid_after(now + timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName(names), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]),
                           critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    pki = Pki(folder / "ca.pem", folder / "server.pem", folder / "server.key")
    pki.ca_file.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    pki.cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    pki.key_file.write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))
    return pki


@dataclass
class Reply:
    """What a route answers; ``drip`` sends the body one byte every ``drip`` seconds."""

    body: bytes = b""
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    drip: float | None = None


Route = Reply | Callable[[http.server.BaseHTTPRequestHandler], Reply]


@dataclass
class Seen:
    path: str
    host: str | None
    sni: str | None
    if_none_match: str | None


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, tls: ssl.SSLContext | None) -> None:
        self.routes: dict[str, Route] = {}
        self.seen: list[Seen] = []
        self.connections = 0
        self._tls = tls
        self._sni = threading.local()
        super().__init__(("127.0.0.1", 0), _Handler)

    @property
    def port(self) -> int:
        return int(self.server_address[1])

    @property
    def authority(self) -> str:
        return f"localhost:{self.port}"

    def get_request(self) -> tuple[socket.socket, object]:
        sock, address = super().get_request()
        self.connections += 1
        return sock, address

    def finish_request(self, request: object, client_address: object) -> None:
        sock = request
        sni: list[str | None] = [None]
        if self._tls is not None:
            context = self._tls

            def remember(_obj: ssl.SSLObject, name: str | None, _ctx: ssl.SSLContext) -> None:
                sni[0] = name

            context.sni_callback = remember  # type: ignore[assignment]
            try:
                sock = context.wrap_socket(request, server_side=True)  # type: ignore[arg-type]
            except (ssl.SSLError, OSError):
                return
        self._sni.name = sni[0]
        try:
            super().finish_request(sock, client_address)  # type: ignore[arg-type]
        finally:
            if sock is not request:
                sock.close()  # type: ignore[attr-defined]


class _Handler(http.server.BaseHTTPRequestHandler):
    server: Server

    def log_message(self, *_: object) -> None:
        pass

    def do_GET(self) -> None:
        self.server.seen.append(Seen(self.path, self.headers.get("Host"),
                                     getattr(self.server._sni, "name", None),
                                     self.headers.get("If-None-Match")))
        route = self.server.routes.get(self.path)
        reply = (Reply(b"not found", 404) if route is None
                 else route(self) if callable(route) else route)
        self.send_response(reply.status)
        for name, value in reply.headers.items():
            self.send_header(name, value)
        if reply.drip is None and "Content-Length" not in reply.headers:
            self.send_header("Content-Length", str(len(reply.body)))
        self.end_headers()
        try:
            if reply.drip is None:
                self.wfile.write(reply.body)
                return
            for byte in reply.body:
                self.wfile.write(bytes([byte]))
                self.wfile.flush()
                time.sleep(reply.drip)
        except OSError:
            pass  # the client gave up, as it should


@contextmanager
def serving(pki: Pki | None) -> Iterator[Server]:
    """An HTTPS server (plain HTTP when ``pki`` is None) on 127.0.0.1, for one block."""
    tls = None
    if pki is not None:
        tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        tls.load_cert_chain(pki.cert_file, pki.key_file)
    server = Server(tls)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
