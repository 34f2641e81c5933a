"""The framework-free core: credentials, canonicalization, keys, proofs and verification.

Nothing here imports Flask or SQLAlchemy, reads environment variables or touches fixed paths;
every resource (contexts, schemas, keys, clock, resolvers) is passed in. See README.md here.

The package itself exports nothing, so that importing one small module (the command line
reads dates and keys before anything else) does not load the JSON-LD processor, the JSON
Schema validators and the cryptography bindings. Each public module declares its surface in
``__all__``; other layers import only those names, from the module that declares them
(``tests/core/test_exported_members.py`` keeps this true).
"""

from __future__ import annotations

__all__: list[str] = []
