"""What every use case needs from the outside world, passed in as one object."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property

from issuer.config import Settings, context_loader, schema_registry, work_budget
from issuer.core.canon import WorkBudget
from issuer.core.jsonld import ContextLoader
from issuer.core.schema import SchemaRegistry
from issuer.services.lookups import Lookups
from issuer.services.passwords import PasswordHasher
from issuer.storage.keystore import SigningKeys


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class ServiceContext:
    """The settings and what is built from them; ``loader``, ``schemas`` and ``budget``
    default to those ``settings`` name (a test may pass others)."""

    settings: Settings
    keystore: SigningKeys
    loader: ContextLoader = None  # type: ignore[assignment]  # from settings, see below
    schemas: SchemaRegistry = None  # type: ignore[assignment]
    budget: WorkBudget = None  # type: ignore[assignment]
    clock: Callable[[], datetime] = _utcnow
    #: This process's copies of rows read by every API request, checked on each use.
    lookups: Lookups = field(default_factory=Lookups, compare=False, repr=False)

    def __post_init__(self) -> None:
        defaults = {"loader": context_loader, "schemas": schema_registry, "budget": work_budget}
        for name, build in defaults.items():
            if getattr(self, name) is None:
                object.__setattr__(self, name, build(self.settings))

    @cached_property
    def passwords(self) -> PasswordHasher:
        """The staff password hasher of ``settings.password_hashing``, made when first used."""
        return PasswordHasher(self.settings.password_hashing)

    @property
    def base(self) -> str:
        return self.settings.base

    def now(self) -> datetime:
        return self.clock().astimezone(UTC).replace(microsecond=0)
