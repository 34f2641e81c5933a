"""``issuer policies``: what an achievement asks of the measured help of a claim.

``issuer policies set-measures ISSUER/ACHIEVEMENT --min-people 5 --min-communities 2`` stores
the thresholds (an option left out is 0: nothing asked) and prints them;
``issuer policies show-measures ISSUER/ACHIEVEMENT`` prints them. ACHIEVEMENT may be the
badge's short name alone with ``--issuer``. A claim for the badge cannot be approved until
its measures (:mod:`issuer.core.activity.measures`) meet every threshold set, and any
threshold also requires the acknowledgements to come from enough different people.

Exit codes follow :mod:`issuer.cli.errors`: 0 done, 1 refused (an unknown issuer or badge, a
threshold out of range), 2 a setting or a database that cannot be used.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import click

from issuer.cli.common import actor, migrate, service_runtime, unit_of_work
from issuer.cli.errors import Refused

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from issuer.storage.models import Achievement

#: Option → threshold name of :data:`issuer.services.measures.LIMITS`.
OPTIONS = {
    "min_people": "Different people whose acknowledgement counts.",
    "min_acknowledgements": "Acknowledgements counted under the rules (halves allowed).",
    "min_rate": "Per cent of answers to others that were acknowledged (0-100).",
    "min_transfer": "Peers attesting that they can now do it unaided.",
    "min_threads": "Threads answered in.",
    "min_communities": "Communities in which help was acknowledged.",
    "min_months": "Months active.",
}


@click.group("policies")
def policies() -> None:
    """What an achievement asks of a claim's measured help (people helped, communities…)."""


def _achievement(session: Session, target: str, issuer_slug: str | None) -> Achievement:
    from issuer.services.achievements import get_achievement
    from issuer.services.issuers import get_issuer

    slug, _, badge = target.partition("/")
    if not badge:
        if not issuer_slug:
            raise Refused("name the badge as ISSUER/ACHIEVEMENT, or give --issuer")
        slug, badge = issuer_slug, target
    return get_achievement(session, get_issuer(session, slug), badge)


def _print(achievement: Achievement, values: dict[str, Any], as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps({"achievement": achievement.slug, **values}, indent=2))
        return
    asked = {k: v for k, v in values.items() if v}
    if not asked:
        click.echo(f"{achievement.name}: no thresholds of measured help")
        return
    click.echo(f"{achievement.name}:")
    for name, value in asked.items():
        click.echo(f"  {name.replace('_', '-')}: {value:g}")


@policies.command("set-measures")
@click.argument("target", metavar="ACHIEVEMENT")
@click.option("--issuer", "issuer_slug", default=None,
              help="The issuer's short name, when ACHIEVEMENT has no ISSUER/ prefix.")
@click.option("--min-people", type=int, default=0, help=OPTIONS["min_people"])
@click.option("--min-acknowledgements", type=float, default=0.0,
              help=OPTIONS["min_acknowledgements"])
@click.option("--min-rate", type=int, default=0, help=OPTIONS["min_rate"])
@click.option("--min-transfer", type=int, default=0, help=OPTIONS["min_transfer"])
@click.option("--min-threads", type=int, default=0, help=OPTIONS["min_threads"])
@click.option("--min-communities", type=int, default=0, help=OPTIONS["min_communities"])
@click.option("--min-months", type=int, default=0, help=OPTIONS["min_months"])
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def set_measures(target: str, issuer_slug: str | None, as_json: bool, **values: Any) -> None:
    """Set the thresholds of measured help a claim for ACHIEVEMENT must meet."""
    from issuer.services.measures import set_thresholds

    with service_runtime() as rt:
        migrate(rt)
        with unit_of_work(rt) as session:
            achievement = _achievement(session, target, issuer_slug)
            stored = set_thresholds(session, rt.services, achievement, values, actor=actor())
            _print(achievement, stored.as_json(), as_json)


@policies.command("show-measures")
@click.argument("target", metavar="ACHIEVEMENT")
@click.option("--issuer", "issuer_slug", default=None,
              help="The issuer's short name, when ACHIEVEMENT has no ISSUER/ prefix.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def show_measures(target: str, issuer_slug: str | None, as_json: bool) -> None:
    """Print the thresholds of measured help a claim for ACHIEVEMENT must meet."""
    from issuer.services.measures import thresholds_for

    with service_runtime() as rt, unit_of_work(rt) as session:
        achievement = _achievement(session, target, issuer_slug)
        _print(achievement, thresholds_for(session, achievement).as_json(), as_json)
