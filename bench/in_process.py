"""Calling the app in this process, as ``issuer serve`` builds it, without an HTTP server:
what ``instructions`` and ``floor`` measure, so that gunicorn's share is left out."""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from bench.databases import fresh_database
from bench.http import ISSUER_SLUG, _cli

#: (method, path, JSON body or None, the status expected) → the answer's bytes.
Call = Callable[[str, str, bytes | None, int], bytes]


@contextmanager
def installation(backend: str, root: Path, base: str) -> Iterator[tuple[dict[str, str], str]]:
    """A fresh installation on ``backend`` (``issuer init``, an issuer, an API token): its
    settings (the ``ISSUER_*`` variables) and the token, until the block ends."""
    with fresh_database(backend, root) as url:
        settings = {"ISSUER_BASE_URL": base, "ISSUER_DATABASE_URL": url,
                    "ISSUER_KEYS_DIR": str(root / "keys"),
                    "ISSUER_INSTANCE_DIR": str(root / "instance"),
                    "ISSUER_SECRET_KEY": secrets.token_urlsafe(32)}
        env = {**os.environ, **settings}
        _cli(env, "init")
        _cli(env, "issuers", "create", "--slug", ISSUER_SLUG, "--name", "Benchmark Guild")
        token = _cli(env, "tokens", "create", "--issuer", ISSUER_SLUG, "--name", "bench")
        yield settings, token.strip()


def caller(app: Callable[..., Iterable[bytes]], token: str, base: str) -> Call:
    """Requests to ``app`` (a WSGI app) with ``token``, each checked for its status."""
    from werkzeug.test import EnvironBuilder

    def call(method: str, path: str, body: bytes | None, expected: int) -> bytes:
        builder = EnvironBuilder(method=method, path=path, data=body, base_url=base,
                                 headers={"Authorization": f"Bearer {token}",
                                          "Accept": "application/json"},
                                 content_type="application/json" if body else None)
        environ = builder.get_environ()
        builder.close()
        status: list[str] = []
        chunks = app(environ, lambda s, _h, _e=None: status.append(s))
        data = b"".join(chunks)
        getattr(chunks, "close", lambda: None)()
        if not status or int(status[0].split()[0]) != expected:
            raise RuntimeError(f"{method} {path}: {status} {data[:300]!r}")
        return data

    return call
