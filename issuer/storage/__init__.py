"""Persistence: rows, sessions, migrations and the key store."""

# Every table module is imported with the package so the ORM registry and the migrations
# always see the whole schema.
from issuer.storage import (
    idempotency,
    jobs,
    key_material,
    learner_sessions,
    learning,
    measure_policies,
    models,
    ob_api,
    oid4vci,
    traces,
    wallets,
)

__all__ = ["idempotency", "jobs", "key_material", "learner_sessions", "learning",
           "measure_policies", "models", "ob_api", "oid4vci", "traces", "wallets"]
