"""Scaffolding as a peer can describe it, and as a credential records it.

Wood, Bruner & Ross (1976, "The role of tutoring in problem solving", J. Child Psychol.
Psychiatry 17(2), 89–100) name six functions a tutor performs; van de Pol, Volman &
Beishuizen (2010, "Scaffolding in teacher–student interaction", Educ. Psychol. Rev. 22,
271–296) name what makes help scaffolding rather than just help: it is contingent on what the
learner can already do, it fades, and responsibility transfers to the learner. A peer answers
in plain words; each answer is a code of one framework, published at
``/frameworks/scaffolding`` so that credentials can align to it (OB 3.0 §B.1.5 Alignment).

The answers of one attestation give it a rubric level (OB 3.0 §B.1.18 RubricCriterionLevel):

* L1 — a peer attested;
* L2 — at least one function, and the help was contingent;
* L3 — two functions or more, contingent help, and transfer evidenced by later work.

A credential records the highest level among its attestations as a Result (§B.1.16) of a
``RubricCriterionLevel`` ResultDescription (§B.1.17); an achievement's policy may require one.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from issuer.core.credentials import Alignment, RubricCriterionLevel
from issuer.services.context import ServiceContext
from issuer.storage.learning import Attestation

__all__ = [
    "CHARACTERISTICS",
    "FRAMEWORK_NAME",
    "FRAMEWORK_PATH",
    "FUNCTIONS",
    "LEVELS",
    "MAX_LEVEL",
    "Answers",
    "Item",
    "Level",
    "alignments",
    "answers_of",
    "codes_of",
    "framework_url",
    "item",
    "level_of",
    "level_words",
    "rubric_levels",
    "stored_codes",
]

FRAMEWORK_NAME = ("Scaffolding: the tutoring functions of Wood, Bruner & Ross (1976) and the "
                  "characteristics of van de Pol, Volman & Beishuizen (2010)")
FRAMEWORK_PATH = "/frameworks/scaffolding"


@dataclass(frozen=True)
class Item:
    """One item of the framework, worded for each reader."""

    code: str
    #: The term of the literature.
    name: str
    #: What the peer ticks, in the first person of the peer.
    peer: str
    #: What an employer reads, about the badge holder.
    reader: str
    #: What it means, for the published framework.
    description: str


#: The six functions of Wood, Bruner & Ross (1976), in their order.
FUNCTIONS: tuple[Item, ...] = (
    Item("recruitment", "Recruitment", "got me interested and engaged in the task",
         "got them engaged",
         "Enlisting the learner's interest in the task and keeping them at it."),
    Item("reduction-in-degrees-of-freedom", "Reduction in degrees of freedom",
         "broke it down into steps I could manage", "broke it down into manageable steps",
         "Simplifying the task so the learner can manage the part within reach."),
    Item("direction-maintenance", "Direction maintenance", "kept me on track towards the goal",
         "kept them on track",
         "Keeping the learner pursuing the goal rather than drifting or giving up."),
    Item("marking-critical-features", "Marking critical features",
         "showed me what mattered, or where I went wrong",
         "showed what mattered and where they went wrong",
         "Pointing out the features that matter and the gap between what was done and what "
         "was needed."),
    Item("frustration-control", "Frustration control", "eased my frustration when I was stuck",
         "eased their frustration when stuck",
         "Making failing less stressful without making the learner dependent."),
    Item("demonstration", "Demonstration", "showed me a worked example",
         "showed a worked example",
         "Modelling a solution, so the learner can imitate it and make it their own."),
)

#: What makes help scaffolding (van de Pol, Volman & Beishuizen 2010), as questions.
CHARACTERISTICS: tuple[Item, ...] = (
    Item("contingency", "Contingency",
         "Before helping, did they first check what you had tried or already knew?",
         "checked first what they had tried",
         "Help adjusted to what the learner could already do."),
    Item("fading", "Fading", "Did they step back as you got the hang of it?",
         "stepped back as they got it",
         "Less help over time, as the learner became able."),
    Item("transfer", "Transfer of responsibility", "Can you now do it without help?",
         "they can now do it unaided",
         "The learner then did it alone."),
)

_ITEMS = {i.code: i for i in (*FUNCTIONS, *CHARACTERISTICS)}


def item(code: str) -> Item | None:
    return _ITEMS.get(code)


def framework_url(ctx: ServiceContext, code: str | None = None) -> str:
    url = f"{ctx.base}{FRAMEWORK_PATH}"
    return f"{url}#{code}" if code else url


def codes_of(values: Iterable[str]) -> tuple[str, ...]:
    """The known function codes among ``values``, in the framework's order, each once."""
    wanted = set(values)
    return tuple(f.code for f in FUNCTIONS if f.code in wanted)


def stored_codes(text: str | None) -> tuple[str, ...]:
    """The function codes of a stored attestation (space-separated)."""
    return codes_of((text or "").split())


@dataclass(frozen=True)
class Answers:
    """What one peer said of the help they were given."""

    functions: tuple[str, ...] = ()
    contingency: bool | None = None
    fading: bool | None = None
    transfer: bool | None = None
    transfer_url: str | None = None

    @property
    def affirmed(self) -> tuple[str, ...]:
        """The codes of every function and characteristic the peer affirmed."""
        said = {"contingency": self.contingency, "fading": self.fading,
                "transfer": self.transfer}
        return (*self.functions, *(c.code for c in CHARACTERISTICS if said[c.code]))

    def summary(self) -> str:
        """The answers in plain words, about the badge holder; empty when none was given."""
        parts = []
        if self.functions:
            parts.append(", ".join(_ITEMS[c].reader for c in self.functions))
        for code, said in (("contingency", self.contingency), ("fading", self.fading)):
            if said:
                parts.append(_ITEMS[code].reader)
        if self.transfer:
            later = f" (later work: {self.transfer_url})" if self.transfer_url else ""
            parts.append(_ITEMS["transfer"].reader + later)
        return "; ".join(parts)


def answers_of(attestation: Attestation) -> Answers:
    """The scaffolding answers stored with ``attestation``."""
    return Answers(functions=stored_codes(attestation.scaffolding_functions),
                   contingency=attestation.contingency, fading=attestation.fading,
                   transfer=attestation.transfer, transfer_url=attestation.transfer_url)


@dataclass(frozen=True)
class Level:
    number: int
    code: str
    name: str
    description: str


LEVELS: tuple[Level, ...] = (
    Level(1, "L1", "Attested", "A peer attested to the help they were given."),
    Level(2, "L2", "Responsive help",
          "A peer names at least one scaffolding function, and the help started from what "
          "they could already do."),
    Level(3, "L3", "Help to independence",
          "A peer names two scaffolding functions or more, the help started from what they "
          "could already do, and they link to later work they did unaided."),
)
MAX_LEVEL = len(LEVELS)


def level_of(answers: Answers) -> int:
    """The rubric level (1–3) of one attestation's answers."""
    if len(answers.functions) >= 2 and answers.contingency and answers.transfer \
            and answers.transfer_url:
        return 3
    if answers.functions and answers.contingency:
        return 2
    return 1


def level_words(number: int) -> str:
    found = next((lv for lv in LEVELS if lv.number == number), None)
    return f"{found.code} {found.name}" if found else "none"


def alignments(ctx: ServiceContext, codes: Sequence[str]) -> tuple[Alignment, ...]:
    """OB 3.0 §B.1.5 Alignments to the published framework, one per code."""
    return tuple(
        Alignment(targetName=_ITEMS[c].name, targetUrl=framework_url(ctx, c),
                  targetDescription=_ITEMS[c].description, targetFramework=FRAMEWORK_NAME,
                  targetCode=c)
        for c in codes if c in _ITEMS)


def rubric_levels(level_id: str) -> tuple[RubricCriterionLevel, ...]:
    """The levels as OB 3.0 §B.1.18 RubricCriterionLevels; ids are ``level_id`` + number."""
    return tuple(
        RubricCriterionLevel(id=f"{level_id}{lv.number}", name=lv.name, level=lv.code,
                             points=str(lv.number), description=lv.description)
        for lv in LEVELS)
