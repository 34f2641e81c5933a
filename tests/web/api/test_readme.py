"""The README's API examples work: its `curl` requests are read from the README and sent,
with the same methods, headers and bodies, through the test client."""

from __future__ import annotations

import re
import shlex
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from flask.testing import FlaskClient

from tests.conftest import World

README = Path(__file__).resolve().parents[3] / "README.md"


def _api_block() -> str:
    text = README.read_text(encoding="utf-8")
    section = text.split("\n## API\n", 1)[1].split("\n## ", 1)[0]
    match = re.search(r"```sh\n(.*?)```", section, re.S)
    assert match, "the README's API section has no shell example"
    return match.group(1).replace("\\\n", " ")  # continuation lines joined


@dataclass
class Curl:
    method: str
    path: str
    headers: dict[str, str] = field(default_factory=dict)
    data: str | None = None
    data_file: str | None = None


def _curls(block: str) -> list[Curl]:
    commands = []
    for line in block.splitlines():
        line = line.split("  #", 1)[0].strip()
        if "curl " not in line:
            continue
        words = shlex.split(line[line.index("curl "):])
        curl = Curl("GET", "")
        items = iter(words[1:])
        for word in items:
            if word == "-X":
                curl.method = next(items)
            elif word == "-H":
                name, _, value = next(items).partition(": ")
                curl.headers[name] = value
            elif word == "-d":
                curl.data = next(items)
            elif word == "--data-binary":
                curl.data_file = next(items).removeprefix("@")
            elif word == "-o":
                next(items)
            elif not word.startswith("-"):
                curl.path = word
        if curl.data_file and curl.method == "GET":
            curl.method = "POST"
        commands.append(curl)
    return commands


def _send(client: FlaskClient, curl: Curl, values: dict[str, str],
          files: dict[str, bytes]) -> Any:
    def fill(text: str) -> str:
        for name, value in values.items():
            text = text.replace(f"${name}", value).replace(name, value)
        return text

    url = urlsplit(fill(curl.path))
    body = curl.data.encode() if curl.data is not None else files.get(curl.data_file or "")
    return client.open(url.path, method=curl.method, query_string=url.query,
                       headers={k: fill(v) for k, v in curl.headers.items()}, data=body)


def test_the_readme_api_examples_award_batch_bulk_award_and_verify(client: FlaskClient,
                                                             world: World) -> None:
    block = _api_block()
    award, batch, bulk, progress, results, fetch, verify = _curls(block)
    values = {"BASE": "", "TOKEN": world.token}
    # The demo issuer's badge is the test issuer's too.
    assert "peer-scaffolder" == world.achievement_slug

    answer = _send(client, award, values, {})
    assert answer.status_code == 201, answer.get_json()
    credential = answer.get_json()["credential"]

    batched = _send(client, batch, values, {})
    assert batched.status_code == 201, batched.get_json()
    assert [(a["credential"]["credentialSubject"].get("id"), a["email"]["status"])
            for a in batched.get_json()["awards"]] == [
        (None, "held"), ("did:example:cleo", "no_address")]
    again = _send(client, batch, values, {})  # its Idempotency-Key: the same credentials
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json() == batched.get_json()

    printf = re.search(r"printf '([^']*)' > (\S+)", block)
    assert printf, "the README writes the CSV file it posts"
    files = {printf.group(2): printf.group(1).replace("\\n", "\n").encode()}
    started = _send(client, bulk, values, files)
    assert started.status_code == 202, started.get_json()
    values["JOB"] = str(started.get_json()["job"]["id"])
    deadline = time.monotonic() + 60
    while (job := _send(client, progress, values, {}).get_json()["job"])["status"] not in (
            "done", "failed"):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert (job["status"], job["done"], job["skipped"]) == ("done", 2, 0)
    rows = _send(client, results, values, {}).get_data(as_text=True).splitlines()
    assert len(rows) == 3 and rows[1].startswith("2,alan@example.org,Alan Turing,issued,")

    values["CREDENTIAL_ID"] = credential["id"].rsplit("/", 1)[1]
    fetched = _send(client, fetch, values, {})
    assert fetched.status_code == 200 and fetched.get_json() == credential
    # printf '{"verifiableCredential": %s}' "$(cat badge.json)": the file inside the object.
    assert """printf '{"verifiableCredential": %s}' "$(cat badge.json)" |""" in block
    files["-"] = b'{"verifiableCredential": ' + fetched.data + b"}"
    verdict = _send(client, verify, values, files)
    assert verdict.status_code == 200, verdict.get_json()
    assert verdict.get_json()["errors"] == []
