"""Evidence of informal learning from community archives a person can download.

One module per archive format turns a file into normalized :class:`~issuer.core.activity.model.
Interaction` records (:mod:`.stackexchange`, :mod:`.discourse`, :mod:`.mastodon`, :mod:`.mbox`);
:mod:`.rules` summarises one person's help under rules that resist gaming. Everything here reads
bytes with the standard library: no network, no framework, no database.
"""

from __future__ import annotations

__all__: list[str] = []
