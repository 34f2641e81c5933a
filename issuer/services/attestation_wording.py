"""What a peer attestation says, in the words of each reader.

A peer attests to one of a fixed set of statements (the achievement's policy chooses which
one peers are offered). The same statement is worded three ways:

* for the issuer's staff choosing the policy (:data:`ATTESTATION_KINDS`);
* for the peer who makes it and the learner who asked, in the first person of the peer
  (:func:`peer_sentence`);
* in the signed EndorsementCredential, about the badge holder (:func:`credential_sentence`).
  That wording is part of issued credentials: changing it changes what new credentials say.
"""

from __future__ import annotations

__all__ = ["ATTESTATION_KINDS", "DEFAULT_KIND", "KINDS", "credential_sentence", "peer_sentence"]

#: What a peer attests to, as the policy page offers it.
ATTESTATION_KINDS = {
    "helped-me-learn": "The learner helped them learn (scaffolding)",
    "genuine-contribution": "The learner's contribution is genuine",
}
KINDS = tuple(ATTESTATION_KINDS)
#: What peers attest to when the achievement's policy does not say.
DEFAULT_KIND = "helped-me-learn"


def peer_sentence(kind: str, learner_name: str, topic: str) -> str:
    """The statement a peer makes, in plain words."""
    if kind == "genuine-contribution":
        return f"{learner_name}’s contribution is genuine"
    return f"{learner_name} helped me learn {topic}"


def credential_sentence(kind: str, holder: str) -> str:
    """The statement as the endorsement in the credential words it (OB 3.0 §B.1.8)."""
    if kind == "helped-me-learn":
        return f"{holder} helped them learn"
    if kind == "genuine-contribution":
        return f"{holder}'s contribution is genuine"
    return f"{holder}'s claim is supported"
