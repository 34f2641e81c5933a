"""What the verifier may fetch from the web, and how: one guarded HTTP client.

:mod:`issuer.net.addresses` decides which addresses may be reached, :mod:`issuer.net.cache`
keeps responses for as long as their server allows, and :mod:`issuer.net.fetcher` ties them
together. JSON-LD contexts are never fetched: the context loader reads bundled copies only.
"""
