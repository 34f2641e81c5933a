"""What the peer attestations of a claim add to its credential's ``result``.

An approved claim's AchievementCredential records, each as a Result (OB 3.0 §B.1.16) of a
ResultDescription (§B.1.17) carried in the credential's copy of the achievement:

* ``#scaffolding-level`` (``RubricCriterionLevel``): the highest rubric level among the
  attestations about help given, as ``achievedLevel``, aligned (§B.1.5) to every item of the
  scaffolding framework a peer affirmed; ``requiredLevel`` is the policy's level, if any;
* ``#peer-attestations`` (``RawScore``): how many distinct peers attested; ``valueMin`` is
  the number the policy requires;
* ``#transfer-attestations`` (``RawScore``): how many peers say they can now do it unaided.

The levels and the framework are those of :mod:`issuer.services.attestation_scaffolding`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from issuer.services.achievements import achievement_id
from issuer.services.attestation_scaffolding import (
    CHARACTERISTICS,
    FUNCTIONS,
    alignments,
    answers_of,
    level_of,
    rubric_levels,
)
from issuer.services.attestation_wording import SCAFFOLDING_KINDS
from issuer.services.context import ServiceContext
from issuer.storage.learning import AchievementPolicy, Attestation
from issuer.storage.models import Achievement

__all__ = ["LEVEL_FRAGMENT", "attestation_results", "scaffolding_level"]

LEVEL_FRAGMENT = "#scaffolding-level"


def scaffolding_level(attestations: Sequence[Attestation]) -> int:
    """The highest rubric level (1–3) among the attestations about help; 0 without one."""
    return max((level_of(answers_of(a)) for a in attestations
                if a.kind in SCAFFOLDING_KINDS), default=0)


def attestation_results(ctx: ServiceContext, achievement: Achievement,
                        policy: AchievementPolicy, attestations: Sequence[Attestation]
                        ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The Results and the ResultDescriptions they answer, as keyword arguments of
    :class:`issuer.core.credentials.Result` and ``ResultDescription``."""
    base = achievement_id(ctx, achievement)
    results: list[dict[str, Any]] = []
    descriptions: list[dict[str, Any]] = []
    if policy.attestations_required > 0 or attestations:
        descriptions.append({
            "id": f"{base}#peer-attestations",
            "name": "Distinct peers who attested to the learner's help",
            "resultType": "RawScore", "valueMin": str(policy.attestations_required)})
        results.append({"resultDescription": f"{base}#peer-attestations",
                        "value": str(len(attestations))})
    helped = [a for a in attestations if a.kind in SCAFFOLDING_KINDS]
    if not helped:
        return results, descriptions
    level_id = f"{base}{LEVEL_FRAGMENT}-"
    required = policy.scaffolding_level_required or 0
    descriptions.append({
        "id": f"{base}{LEVEL_FRAGMENT}",
        "name": "Scaffolding level, from the peers' attestations",
        "resultType": "RubricCriterionLevel",
        "rubricCriterionLevel": rubric_levels(level_id),
        **({"requiredLevel": f"{level_id}{required}"} if required else {})})
    affirmed = {code for a in helped for code in answers_of(a).affirmed}
    order = [i.code for i in (*FUNCTIONS, *CHARACTERISTICS)]
    results.append({
        "resultDescription": f"{base}{LEVEL_FRAGMENT}",
        "achievedLevel": f"{level_id}{scaffolding_level(helped)}",
        "alignment": alignments(ctx, [c for c in order if c in affirmed])})
    descriptions.append({
        "id": f"{base}#transfer-attestations",
        "name": "Peers who can now do it unaided",
        "resultType": "RawScore", "valueMin": "0"})
    results.append({"resultDescription": f"{base}#transfer-attestations",
                    "value": str(sum(1 for a in helped if a.transfer))})
    return results, descriptions
