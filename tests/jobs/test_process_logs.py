"""What the processes print: `issuer serve` one JSON line per request (gunicorn's own
access log is off), `issuer worker` JSON lines with each job's id, rows and outcome, and no
e-mail address in full."""

from __future__ import annotations

import json
import logging
import re
import sys
from pathlib import Path

import pytest

from issuer.jobs.logs import JsonLines, masked
from issuer.services.bulk import DONE
from tests.cli.test_worker import (  # noqa: F401 - fixtures
    instance,
    job_state,
    people,
    queue_job,
    sink,
    start_worker,
    stop,
    wait_for,
)
from tests.cli_instance import CliInstance
from tests.live_server import live_server
from tests.services.test_mail import SmtpSink

#: A line of gunicorn's access log: ``127.0.0.1 - - [date] "GET /path HTTP/1.1" 200 …``.
ACCESS_LINE = re.compile(r'"(GET|POST|HEAD) /\S* HTTP/1\.[01]" \d{3}')


def json_lines(text: str) -> list[dict[str, object]]:
    found = []
    for line in text.splitlines():
        if line.startswith("{"):
            found.append(json.loads(line))
    return found


def test_addresses_are_cut_to_a_letter_and_the_domain() -> None:
    assert masked("mail to ada.lovelace+x@example.org: sent") == "mail to a…@example.org: sent"
    assert masked("no address here, not even a@b") == "no address here, not even a@b"
    formatter = JsonLines()
    try:
        raise ValueError("refused: grace@navy.example.mil")
    except ValueError:
        record = logging.LogRecord("issuer.jobs.mail", logging.WARNING, __file__, 1,
                                   "mail to %s failed", ("alan@example.org",), sys.exc_info())
    record.fields = {"to": "alan@example.org", "rows": 3}  # type: ignore[attr-defined]
    line = formatter.format(record)
    entry = json.loads(line)
    assert entry["message"] == "mail to a…@example.org failed"
    assert entry["to"] == "a…@example.org" and entry["rows"] == 3
    assert "g…@navy.example.mil" in str(entry["error"])
    assert "alan@" not in line and "grace@" not in line


@pytest.mark.db
def test_the_worker_logs_each_job_as_json_without_addresses(
        instance: CliInstance, sink: SmtpSink) -> None:  # noqa: F811
    job_id = queue_job(instance, people(7))
    worker = start_worker(instance, sink, "--poll", "0.2")
    try:
        wait_for(lambda: job_state(instance, job_id)[0] == DONE, 120, "the job to finish")
        wait_for(lambda: len(sink.messages) >= 7, 60, "the badge mail")
    finally:
        log = stop(worker)
    lines = log.splitlines()
    entries = json_lines(log)
    assert lines and len(entries) == len(lines), log  # every line is JSON
    assert all({"time", "level", "logger", "message"} <= set(e) for e in entries)
    jobs = [e for e in entries if e.get("event") == "bulk_job"]
    assert len(jobs) == 1, log
    assert {k: jobs[0][k] for k in ("job_id", "outcome", "rows", "issued", "failed")} == {
        "job_id": job_id, "outcome": "done", "rows": 7, "issued": 7, "failed": 0}
    assert [e["event"] for e in entries if e.get("event", "").startswith("worker_")] == [  # type: ignore[union-attr]
        "worker_started", "worker_stopped"]
    assert not re.search(r"person\d+@", log), log
    assert instance.settings.secret_key not in log


@pytest.mark.db
def test_serve_prints_one_line_per_request(tmp_path: Path) -> None:
    with live_server(tmp_path) as server:
        before = len(server.output)
        for _ in range(5):
            assert server.get("/healthz", accept="application/json")[0] == 200
        assert server.get("/no/such/page")[0] == 404
        wait_for(lambda: sum('"/healthz"' in line for line in server.output[before:]) >= 5
                 and any('"status": 404' in line for line in server.output[before:]),
                 10, "the request lines")
        printed = "".join(server.output[before:])
    assert not ACCESS_LINE.search(printed), printed
    entries = json_lines(printed)
    assert len([e for e in entries if e.get("route") == "/healthz"]) == 5, printed
    assert len([e for e in entries if e.get("status") == 404]) == 1, printed
