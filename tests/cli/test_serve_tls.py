"""`issuer serve --certfile --keyfile`: a local https instance in one command."""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import os
import signal
import socket
import ssl
import subprocess
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.databases import new_database
from tests.live_server import ISSUER

pytestmark = pytest.mark.db  # the server runs on the test database


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _self_signed(root: Path) -> tuple[Path, Path]:
    """A P-256 certificate for 127.0.0.1, valid for a day."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
            .sign(key, hashes.SHA256()))
    certfile, keyfile = root / "cert.pem", root / "key.pem"
    certfile.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    keyfile.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                          serialization.PrivateFormat.PKCS8,
                                          serialization.NoEncryption()))
    return certfile, keyfile


def test_serve_answers_over_https_with_the_given_certificate(tmp_path: Path) -> None:
    certfile, keyfile = _self_signed(tmp_path)
    port = _free_port()
    base = f"https://127.0.0.1:{port}"
    trusting = ssl.create_default_context(cafile=str(certfile))
    with new_database(tmp_path, "tls") as url:
        env = {**os.environ, "ISSUER_BASE_URL": base, "ISSUER_DATABASE_URL": url,
               "ISSUER_KEYS_DIR": str(tmp_path / "keys"),
               "ISSUER_INSTANCE_DIR": str(tmp_path / "instance")}
        process = subprocess.Popen(
            [ISSUER, "serve", "--workers", "1", "--certfile", str(certfile),
             "--keyfile", str(keyfile)], env=env, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, text=True, start_new_session=True)
        output: list[str] = []
        assert process.stdout is not None
        stream = process.stdout
        threading.Thread(target=lambda: output.extend(stream), daemon=True).start()
        try:
            status = _wait_for(base + "/verify", trusting, process, output)
            assert status == 200
            request = urllib.request.Request(
                base + "/credentials/verify", method="POST",
                data=json.dumps({"verifiableCredential": {"hello": "world"}}).encode(),
                headers={"Content-Type": "application/json"})
            with pytest.raises(urllib.error.HTTPError) as refused:
                urllib.request.urlopen(request, timeout=10, context=trusting)
            assert refused.value.code == 422
            assert json.loads(refused.value.read())["verified"] is False
            # Plain http on the same port is not served.
            with pytest.raises((urllib.error.URLError, ConnectionError)):
                urllib.request.urlopen(f"http://127.0.0.1:{port}/verify", timeout=5)
        finally:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
            stream.close()


def _wait_for(url: str, context: ssl.SSLContext, process: subprocess.Popen[str],
              output: list[str]) -> int:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail("the server exited:\n" + "".join(output))
        try:
            with urllib.request.urlopen(url, timeout=2, context=context) as response:
                return int(response.status)
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.2)
    pytest.fail("the server did not start:\n" + "".join(output))


def test_serve_needs_both_files_and_an_https_base_url(tmp_path: Path) -> None:
    certfile, keyfile = _self_signed(tmp_path)
    env = {**os.environ, "ISSUER_BASE_URL": "http://127.0.0.1:8999",
           "ISSUER_DATABASE_URL": f"sqlite:///{tmp_path / 'issuer.db'}",
           "ISSUER_KEYS_DIR": str(tmp_path / "keys"),
           "ISSUER_INSTANCE_DIR": str(tmp_path / "instance")}
    alone = subprocess.run([ISSUER, "serve", "--certfile", str(certfile)], env=env,
                           capture_output=True, text=True, timeout=60)
    assert alone.returncode == 2 and "--keyfile" in alone.stderr
    http = subprocess.run([ISSUER, "serve", "--certfile", str(certfile), "--keyfile",
                           str(keyfile)], env=env, capture_output=True, text=True, timeout=60)
    assert http.returncode == 2 and "https://" in http.stderr
