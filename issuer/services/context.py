"""What every use case needs from the outside world, passed in as one object."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from issuer.config import Settings, context_loader, schema_registry, work_budget
from issuer.core.canon.rdfc import WorkBudget
from issuer.core.jsonld import ContextLoader
from issuer.core.schema import SchemaRegistry
from issuer.storage.keystore import KeyStore


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class ServiceContext:
    settings: Settings
    keystore: KeyStore
    loader: ContextLoader = field(default_factory=context_loader)
    schemas: SchemaRegistry = field(default_factory=schema_registry)
    budget: WorkBudget = field(default_factory=work_budget)
    clock: Callable[[], datetime] = _utcnow

    @property
    def base(self) -> str:
        return self.settings.base

    def now(self) -> datetime:
        return self.clock().astimezone(UTC).replace(microsecond=0)
