"""``issuer --help``, the ``verify`` and ``sign`` commands and the settings module load
neither the database layer, the web framework, the HTTP client, the JSON-LD processor nor
JSON Schema: each costs more to import than a small command takes to run. Running ``issuer
verify`` on an OB 3.0 credential loads the JSON-LD processor, but not the HTTP libraries
pyld would fetch with, nor the code of the formats the credential is not in."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from issuer.config import SCHEMAS_DIR, Settings
from tests.core.helpers import unsigned_badge

HEAVY = ("sqlalchemy", "sqlalchemy.orm", "flask", "httpx", "pyld", "jsonschema")


def loaded_after(statement: str) -> list[str]:
    """Which of :data:`HEAVY` a fresh interpreter has loaded after ``statement``."""
    probe = (f"import sys\n{statement}\n"
             f"print('LOADED', *(m for m in {HEAVY!r} if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          timeout=120, check=True)
    return done.stdout.splitlines()[-1].split()[1:]


@pytest.mark.parametrize("statement", [
    "from issuer.cli import main\ntry:\n    main(['--help'])\nexcept SystemExit:\n    pass",
    "import issuer.cli.credentials",
    "import issuer.cli.verify_many",
    "from issuer.cli import load_command; load_command('verify'); load_command('sign')",
    "import issuer.config",
])
def test_help_commands_and_settings_load_nothing_heavy(statement: str) -> None:
    assert loaded_after(statement) == []


def test_the_probe_sees_the_json_ld_processor() -> None:
    assert "pyld" in loaded_after("import issuer.core.jsonld")


def test_the_settings_name_the_bundled_schemas_and_the_core_budget() -> None:
    from issuer.core.bundled import SCHEMAS_DIR as BUNDLED
    from issuer.core.canon import DEFAULT_BUDGET

    assert SCHEMAS_DIR == BUNDLED
    assert Settings().schemas_dir == BUNDLED
    assert Settings().canon_max_seconds == DEFAULT_BUDGET.max_seconds


#: What verifying an OB 3.0 credential (JSON, an embedded eddsa-rdfc-2022 proof), offline,
#: has no use for: pyld's fetching loaders and what they import, the VC-JWT code, the
#: credential builders, the OB 2.0 verifier's fetcher, the TLS setup of the HTTP client, the
#: ECDSA cryptosuites (with CBOR) and did:web, as the badge is signed by a did:key.
NOT_FOR_AN_OB3_CREDENTIAL = (
    "requests", "urllib3", "aiohttp", "asyncio", "pyld.documentloader.requests",
    "pyld.documentloader.aiohttp", "issuer.core.proofs.vc_jwt", "issuer.core.proofs.jwt_claims",
    "issuer.core.credentials", "issuer.net.fetcher", "ssl", "httpx",
    "issuer.core.proofs.ecdsa_sd_2023", "issuer.core.proofs.ecdsa_rdfc_2019",
    "issuer.core.proofs.ecdsa_jcs_2019", "cbor2", "issuer.core.did_web",
)


@pytest.fixture(scope="module")
def signed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from issuer import config
    from issuer.core.dids import did_key_from_public_key, did_key_verification_method_id
    from issuer.core.keys import PrivateKey
    from issuer.core.proofs.data_integrity import SuiteContext, sign_document
    from issuer.core.proofs.registry import SIGNING_SUITES

    key = PrivateKey.generate("Ed25519")
    did = did_key_from_public_key(key.public_key)
    credential = sign_document(
        unsigned_badge(did), SIGNING_SUITES["eddsa-rdfc-2022"], key,
        verification_method=did_key_verification_method_id(did),
        ctx=SuiteContext(loader=config.context_loader(), budget=config.work_budget()),
    )
    path = tmp_path_factory.mktemp("start") / "credential.json"
    path.write_text(json.dumps(credential), encoding="utf-8")
    return path


def test_verifying_an_ob3_credential_loads_no_http_library_nor_unused_format(
    signed: Path,
) -> None:
    probe = (
        "import sys\n"
        "from issuer.cli import main\n"
        "try:\n"
        f"    main(['verify', '--offline', {str(signed)!r}])\n"
        "except SystemExit as exc:\n"
        "    print('EXIT', exc.code)\n"
        f"print('LOADED', *(m for m in {NOT_FOR_AN_OB3_CREDENTIAL!r} if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          timeout=120, check=True)
    lines = done.stdout.splitlines()
    assert "VALID: every check passed" in lines
    assert "EXIT 0" in lines
    assert lines[-1].split()[1:] == []


def test_pyld_imported_after_the_adapter_is_the_whole_package_and_fetches_nothing() -> None:
    probe = (
        "import issuer.core.jsonld\n"
        "import pyld\n"
        "from pyld import jsonld\n"
        "from pyld.documentloader import requests as loader\n"
        "assert jsonld is issuer.core.jsonld.jsonld\n"
        "assert pyld.RequestsDocumentLoader is loader.RequestsDocumentLoader\n"
        "assert {'FrozenDocumentLoader', 'jsonld'} <= set(pyld.__all__)\n"
        "try:\n"
        "    jsonld.get_document_loader()('https://example.org/context.jsonld', {})\n"
        "except jsonld.JsonLdError as exc:\n"
        "    print('REFUSED', exc.code)\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["REFUSED", "loading", "document", "failed"]
