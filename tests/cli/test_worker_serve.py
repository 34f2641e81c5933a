"""`issuer serve` without a queue (what `make run` does): a worker process beside the web
workers finishes a bulk award nobody started, and the probes and metrics answer."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from issuer.config import Settings
from issuer.services.achievements import get_achievement
from issuer.services.bulk import PENDING, create_job, parse_csv
from issuer.services.context import ServiceContext
from issuer.services.demo import DEMO_ACHIEVEMENT, DEMO_SLUG
from issuer.services.issuers import get_issuer
from issuer.storage.db import make_engine, session_factory
from issuer.storage.keystore import KeyStore
from issuer.storage.models import BulkJob, Credential
from tests.live_server import live_server

pytestmark = pytest.mark.db


def test_serve_runs_an_embedded_worker_and_answers_probes_and_metrics(
        tmp_path: Path) -> None:
    with live_server(tmp_path) as server:
        settings = Settings(database_url=server.env["ISSUER_DATABASE_URL"],
                            base_url=server.base, keys_dir=tmp_path / "keys",
                            secret_key="unused").validated()
        ctx = ServiceContext(settings=settings, keystore=KeyStore(settings.keys_dir))
        engine = make_engine(settings.database_url)
        try:
            source = ("recipient\n" + "".join(f"p{n}@example.org\n" for n in range(5))).encode()
            with session_factory(engine)() as session:
                issuer = get_issuer(session, DEMO_SLUG)
                # Queued as a web node that died right after its commit leaves it: nobody
                # was told to run it.
                job = create_job(session, ctx, issuer,
                                 get_achievement(session, issuer, DEMO_ACHIEVEMENT),
                                 status=PENDING, total=len(parse_csv(source).rows),
                                 source=source, actor="test", notify=False)
                session.commit()
                job_id = job.id
            deadline = time.monotonic() + 60
            status = PENDING
            while time.monotonic() < deadline and status != "done":
                time.sleep(0.5)
                with session_factory(engine)() as session:
                    found = session.get(BulkJob, job_id)
                    assert found is not None
                    status = found.status
            assert status == "done", "".join(server.output)
            with session_factory(engine)() as session:
                rows = session.scalars(select(Credential.bulk_row)
                                       .where(Credential.bulk_job_id == job_id)).all()
            assert sorted(rows) == [2, 3, 4, 5, 6]
        finally:
            engine.dispose()

        assert server.get("/healthz", accept="application/json")[0] == 200
        code, _, body = server.get("/readyz", accept="application/json")
        assert code == 200, body
        for _ in range(6):
            server.get("/healthz")
        code, headers, body = server.get("/metrics")
        assert code == 200 and headers["Content-Type"].startswith("text/plain")
        text = body.decode()
        # Pooled over the gunicorn workers, whichever of them answers the scrape.
        counted = re.search(r'^issuer_http_requests_total\{method="GET",route="/healthz",'
                            r'status="200"\} (\S+)$', text, re.M)
        assert counted is not None and float(counted.group(1)) == 7.0, text[:2000]
        assert re.search(r"^issuer_credentials_issued_total \d+", text, re.M)
