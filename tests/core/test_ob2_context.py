"""The bundled Open Badges 2.0 context: OB 2.0 assertions read as JSON-LD, never fetched."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

from issuer import config
from issuer.core.bundled import SCHEMAS_DIR
from issuer.core.ob2 import OB2_CONTEXT, Gone, verify_ob2
from issuer.core.verify import Outcome
from tests.core.ob2_helpers import Ob2Issuer

NOW = datetime(2026, 6, 1, tzinfo=UTC)


def test_the_ob2_context_is_bundled_as_published() -> None:
    index = json.loads((SCHEMAS_DIR / "contexts" / "INDEX.json").read_text())
    path = SCHEMAS_DIR / "contexts" / index[OB2_CONTEXT]
    # schemas/SOURCES.md: 1EdTech/openbadges-specification ob_v2p0/v2/context.json
    assert hashlib.sha256(path.read_bytes()).hexdigest().startswith("3c0c25a0e581c64c")
    terms = json.loads(path.read_text())["@context"]
    assert terms["Assertion"] == "obi:Assertion" and terms["hosted"] == "obi:HostedBadge"
    assert config.context_loader().options()["documentLoader"](OB2_CONTEXT)["document"] \
        == {"@context": terms}


def documents(issuer: Ob2Issuer, assertion: dict[str, Any]) -> dict[str, Any]:
    return {**issuer.documents(), assertion["id"]: assertion}


def context_check(assertion: dict[str, Any], issuer: Ob2Issuer) -> Any:
    report = verify_ob2(assertion, documents(issuer, assertion).get, now=NOW,
                        loader=config.context_loader())
    found = report.check("context")
    assert found is not None
    return report, found


def test_an_assertion_in_ob2_terms_passes_the_context_check() -> None:
    issuer = Ob2Issuer("https://issuer.example")
    report, check = context_check(issuer.assertion(), issuer)
    assert report.valid, [c.to_json() for c in report.checks]
    assert (check.outcome, check.message) == (
        Outcome.PASSED, "every term is defined by the Open Badges 2.0 context")


def test_terms_the_context_does_not_define_are_a_remark() -> None:
    issuer = Ob2Issuer("https://issuer.example")
    report, check = context_check(issuer.assertion(favouriteColour="teal"), issuer)
    assert check.outcome == Outcome.WARNING and "favouriteColour" in check.message
    assert report.valid


def test_an_extension_context_is_not_fetched() -> None:
    issuer = Ob2Issuer("https://issuer.example")
    assertion = issuer.assertion()
    assertion["@context"] = [OB2_CONTEXT, "https://w3id.org/openbadges/extensions/example"]
    _report, check = context_check(assertion, issuer)
    assert check.outcome == Outcome.WARNING and "never fetched" in check.message


def test_without_a_loader_there_is_no_context_check() -> None:
    issuer = Ob2Issuer("https://issuer.example")
    assertion = issuer.assertion()
    report = verify_ob2(assertion, documents(issuer, assertion).get, now=NOW)
    assert report.check("context") is None


def test_gone_from_any_fetch_means_revoked_for_the_hosted_assertion() -> None:
    issuer = Ob2Issuer("https://issuer.example")
    assertion = issuer.assertion()
    store: dict[str, Any] = {**issuer.documents(),
                             assertion["id"]: Gone({"revoked": True,
                                                    "revocationReason": "left"})}
    report = verify_ob2(assertion["id"], store.get, now=NOW)
    status = report.check("status")
    assert status is not None and status.outcome == Outcome.FAILED
    assert status.message.endswith("; reason given: left")
    # A badge class that is gone is not the assertion's revocation: the issuer check fails.
    store = {**issuer.documents(), issuer.badge_id: Gone(), assertion["id"]: assertion}
    report = verify_ob2(assertion, store.get, now=NOW)
    check = report.check("issuer")
    assert check is not None and check.outcome == Outcome.FAILED
    assert "410 Gone" in check.message
