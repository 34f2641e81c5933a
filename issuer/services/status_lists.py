"""Each issuer's W3C Bitstring Status Lists: index allocation, publication, local look-up.

* Every credential issued here gets one random index in its issuer's current pair of lists,
  the ``revocation`` list and the ``suspension`` list with the same number: the same index
  in both, so one allocation (one uniqueness guarantee) serves both entries, and a second
  index would tell nobody anything more, since both entries sit side by side in the
  credential. Indexes are drawn at random so that they do not reveal the order of issuance
  (Bitstring Status List §6.1, group privacy). The database keeps them unique: a
  UNIQUE(issuer, list number, index) constraint, written with ``INSERT … ON CONFLICT DO
  NOTHING`` and another random draw when the index is taken. A lost race is then a normal
  outcome, not an error that would abort the transaction (as it would on PostgreSQL) or need
  a SAVEPOINT per draw (a round trip more on the hottest path of issuing).
  Issuing runs this for every credential, so the first draw is taken in the newest list by
  one ``INSERT … SELECT`` statement; only when that finds no list or a taken index is the
  list looked at and drawn from again.
* A credential issued on its own takes its index from a block of :data:`BLOCK` random
  indexes its worker allocated with one statement (:class:`IndexBlocks`), as a bulk award
  takes a batch's: the same random draw and the same UNIQUE constraint, one statement per
  block instead of one per credential.
* A list holds :data:`LIST_SIZE` entries (§3.2 minimum); when it is full the next pair is
  opened.
* The bits are never stored: a list is read from the credentials' ``status`` when it is
  needed, so two changes at the same moment cannot overwrite each other's bit. The signed
  list credential (§2.2) is kept with the list ``version`` it shows and signed again only
  after a change.
* :class:`LocalStatusChecker` answers the verifier for lists hosted here straight from the
  database, so a change shows on the very next verification. Any other list is "could not
  check", never "not revoked": the service does not fetch other sites.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
import threading
import weakref
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import (
    Engine,
    Integer,
    Row,
    Select,
    String,
    bindparam,
    cast,
    delete,
    event,
    func,
    null,
    select,
    true,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from issuer.core.errors import IssuerError
from issuer.core.nodes import issuer_id, types_of
from issuer.core.status_list import (
    ENTRY_TYPE,
    MIN_ENTRIES,
    PURPOSES,
    Bitstring,
    check_entry,
    index_number,
    status_entry,
    status_list_credential,
)
from issuer.core.verify import Outcome, StatusResult
from issuer.services.context import ServiceContext
from issuer.services.errors import NotFound
from issuer.services.issuers import IssuersBySlug, active_key, get_issuer, issuer_did, issuer_url
from issuer.services.signing import sign_as
from issuer.storage.models import Credential, Issuer, StatusAllocation, StatusList

ACTIVE = "active"
REVOKED = "revoked"
SUSPENDED = "suspended"
STATES = (ACTIVE, REVOKED, SUSPENDED)
#: The state whose credentials have their bit set in a list of each purpose (§2.1).
STATE_OF_PURPOSE = {"revocation": REVOKED, "suspension": SUSPENDED}

#: Entries per list: the §3.2 minimum, which is also what gives holders group privacy.
LIST_SIZE = MIN_ENTRIES
#: Random draws before the free indexes are looked up one by one (a nearly full list).
RANDOM_DRAWS = 24


def list_url(ctx: ServiceContext, slug: str, purpose: str, number: int) -> str:
    return f"{issuer_url(ctx, slug)}/status/{purpose}/{number}"


def _url_pattern(ctx: ServiceContext) -> re.Pattern[str]:
    prefix = re.escape(f"{ctx.base}/issuers/")
    return re.compile(
        prefix + r"([a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?)/status/(" + "|".join(PURPOSES)
        + r")/([1-9][0-9]{0,8})$"
    )


# --- allocation ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Slot:
    """An index taken for one credential, and the two status entries that name it."""

    allocation_id: int
    number: int
    index: int
    entries: tuple[dict[str, Any], ...]


def _insert(session: Session) -> Any:
    """The dialect's INSERT, which has ``on_conflict_do_nothing``."""
    return _insert_for(session.get_bind().dialect.name)


def _insert_for(name: str) -> Any:
    if name == "postgresql":
        return postgresql.insert
    if name == "sqlite":
        return sqlite.insert
    raise NotImplementedError(  # pragma: no cover - the service runs on these two only
        f"status lists need PostgreSQL or SQLite, not {name}")


def _insert_if_absent(session: Session, model: Any, values: Mapping[str, Any],
                      keys: list[str]) -> int | None:
    """INSERT … ON CONFLICT DO NOTHING RETURNING id: the new id, or None if the key exists."""
    stmt = (_insert(session)(model).values(**values).on_conflict_do_nothing(index_elements=keys)
            .returning(model.id))
    result: int | None = session.execute(stmt).scalar_one_or_none()
    return result


def _open_pair(session: Session, issuer: Issuer, number: int, now: datetime) -> None:
    for purpose in PURPOSES:
        _insert_if_absent(session, StatusList, {
            "issuer_id": issuer.id, "purpose": purpose, "number": number, "size": LIST_SIZE,
            "version": 1, "created_at": now, "changed_at": now,
        }, ["issuer_id", "purpose", "number"])


def _take(session: Session, issuer: Issuer, number: int, index: int,
          now: datetime) -> int | None:
    return _insert_if_absent(session, StatusAllocation, {
        "issuer_id": issuer.id, "list_number": number, "list_index": index,
        "allocated_at": now,
    }, ["issuer_id", "list_number", "list_index"])


def draw_index(size: int) -> int:
    """A uniformly random index below ``size``, from the operating system's CSPRNG."""
    return secrets.randbelow(size)


def _claim(session: Session, issuer: Issuer, number: int, size: int, now: datetime,
           first: int | None = None) -> tuple[int, int] | None:
    """A random free index of list ``number`` and its allocation id; None when it is full.

    ``first`` is an index already drawn but not yet tried in this list.
    """
    for attempt in range(RANDOM_DRAWS):
        index = first if attempt == 0 and first is not None else draw_index(size)
        allocation_id = _take(session, issuer, number, index, now)
        if allocation_id is not None:
            return allocation_id, index
    # So many taken indexes in a row: the list is (nearly) full. Choose among the free ones.
    taken = set(session.scalars(select(StatusAllocation.list_index).where(
        StatusAllocation.issuer_id == issuer.id, StatusAllocation.list_number == number)))
    while len(taken) < size:
        index = secrets.choice([i for i in range(size) if i not in taken])
        allocation_id = _take(session, issuer, number, index, now)
        if allocation_id is not None:
            return allocation_id, index
        taken.add(index)  # taken meanwhile by another worker
    return None


def _take_in_newest_list(session: Session, issuer: Issuer, index: int,
                         now: datetime) -> tuple[int, int] | None:
    """Take ``index`` in the issuer's newest list in one statement (the common case): the
    allocation id and the list number, or None when there is no list yet, the list is
    smaller or the index is taken. Uniqueness is the same UNIQUE constraint's."""
    stmt = _take_statement(session.get_bind().dialect.name)
    # Rows the caller has not flushed yet (a bulk award's batch) cannot bear on it.
    with session.no_autoflush:
        row = session.execute(stmt, {"issuer_id": issuer.id, "list_index": index,
                                     "allocated_at": now}).first()
    return (int(row.id), int(row.list_number)) if row is not None else None


@cache
def _take_statement(dialect: str) -> Any:
    # Built once: it runs for every credential issued, and putting the statement together
    # cost more than running it.
    newest = (select(StatusList.number, StatusList.size)
              .where(StatusList.issuer_id == bindparam("issuer_id", type_=Integer),
                     StatusList.purpose == PURPOSES[0])
              .order_by(StatusList.number.desc()).limit(1).subquery())
    index = bindparam("list_index", type_=Integer)
    source = select(
        bindparam("issuer_id", type_=Integer), newest.c.number, index,
        bindparam("allocated_at", type_=StatusAllocation.__table__.c.allocated_at.type),
    ).where(newest.c.size > index)
    return _insert_allocations(dialect, source, "list_number")


@cache
def _take_many_statement(dialect: str) -> Any:
    # One statement text whatever the count: the indexes travel as one parameter (an array
    # on PostgreSQL, a JSON list on SQLite), so the statement is built and compiled once,
    # where a VALUES list of 50 rows was put together and compiled again for every batch.
    if dialect == "postgresql":
        drawn = (func.unnest(bindparam("indexes", type_=postgresql.ARRAY(Integer)))
                 .table_valued("value").render_derived(name="drawn"))
    else:  # json_each names its columns itself, the elements' being "value"
        drawn = func.json_each(bindparam("indexes", type_=String)).table_valued("value") \
            .alias("drawn")
    source = select(
        bindparam("issuer_id", type_=Integer), bindparam("list_number", type_=Integer),
        cast(drawn.c.value, Integer),
        bindparam("allocated_at", type_=StatusAllocation.__table__.c.allocated_at.type),
    ).select_from(drawn).where(true())  # SQLite: WHERE before ON CONFLICT (no ambiguity)
    return _insert_allocations(dialect, source, "list_index")


def _insert_allocations(dialect: str, source: Any, returned: str) -> Any:
    """``INSERT … SELECT`` of allocations, skipping taken indexes; returns the id and
    ``returned``. A Core statement: its parameters are not rows."""
    table = StatusAllocation.__table__
    return (_insert_for(dialect)(table)
            .from_select(["issuer_id", "list_number", "list_index", "allocated_at"], source)
            .on_conflict_do_nothing(index_elements=["issuer_id", "list_number", "list_index"])
            .returning(table.c.id, table.c[returned]))


def _list_size(session: Session, issuer: Issuer, number: int) -> int:
    size = session.scalar(select(StatusList.size).where(
        StatusList.issuer_id == issuer.id, StatusList.purpose == PURPOSES[0],
        StatusList.number == number))
    return int(size or LIST_SIZE)


def status_entries(ctx: ServiceContext, slug: str, number: int,
                   index: int) -> tuple[dict[str, Any], ...]:
    """The ``credentialStatus`` entries for an index: revocation, then suspension (§2.1)."""
    return tuple(status_entry(list_url(ctx, slug, purpose, number), index, purpose)
                 for purpose in PURPOSES)


def allocate(session: Session, ctx: ServiceContext, issuer: Issuer) -> Slot:
    """A random free index in the issuer's current lists, for one credential.

    Taken from this worker's block of indexes (:class:`IndexBlocks`) when it has one left;
    else a new block of :data:`BLOCK` random indexes is taken with one statement in the
    caller's transaction, one of them used at once and the rest kept for the next credentials
    once that transaction commits. Only when no block can be had (no list yet, a nearly full
    list) is one index taken alone (:func:`allocate_one`). See :func:`reserved` for giving the
    index back when issuing fails.
    """
    key = (issuer.id,)
    blocks = index_blocks(session)
    slot = blocks.take(session, key)
    if slot is None:
        block = _take_block(session, ctx, issuer, BLOCK)
        if not block:
            return allocate_one(session, ctx, issuer)
        # The block comes in index order; handing it out in that order would let the order
        # of issuing show in the indexes (§6.1).
        _RANDOM.shuffle(block)
        slot = block.pop()
        blocks.keep(session, key, block)
    # Blocks keep no entries: they are written for this request's base URL and slug.
    return Slot(slot.allocation_id, slot.number, slot.index,
                status_entries(ctx, issuer.slug, slot.number, slot.index))


def allocate_one(session: Session, ctx: ServiceContext, issuer: Issuer) -> Slot:
    """Take one random free index in the issuer's current lists, opening new lists if
    needed, in the caller's transaction."""
    now = ctx.now()
    # This runs for every credential, so first one statement that draws and takes an index
    # in the newest list; lists are all LIST_SIZE long, so the draw is the same as below.
    index = draw_index(LIST_SIZE)
    taken = _take_in_newest_list(session, issuer, index, now)
    if taken is not None:
        allocation_id, number = taken
        return Slot(allocation_id, number, index,
                    status_entries(ctx, issuer.slug, number, index))
    # No list yet, or the index was taken: look at the newest list and draw again.
    current = _newest_list(session, issuer)
    untried: int | None = None
    if current is None:
        number = 1
        _open_pair(session, issuer, number, now)
        size = _list_size(session, issuer, number)
        # There was no list to try the index in: it is still as good as a new draw.
        untried = index if index < size else None
    else:
        number, size = int(current.number), int(current.size or LIST_SIZE)
    while True:
        claimed = _claim(session, issuer, number, size, now, untried)
        untried = None
        if claimed is not None:
            allocation_id, index = claimed
            return Slot(allocation_id, number, index,
                        status_entries(ctx, issuer.slug, number, index))
        number += 1
        _open_pair(session, issuer, number, now)
        size = _list_size(session, issuer, number)


def allocate_many(session: Session, ctx: ServiceContext, issuer: Issuer,
                  count: int) -> list[Slot]:
    """Up to ``count`` random free indexes of the issuer's newest list, taken with two
    statements whatever the count (a bulk award's batch); fewer when drawn indexes were
    taken already, none when there is no list yet. The caller takes any more it needs
    with :func:`allocate`, and gives back what it did not use with :func:`release_many`.

    The same draw as :func:`allocate` (uniform over the list, W3C Bitstring Status List
    §6.1 herd privacy), written in the caller's transaction, and in random order: taken
    in list order, the order of issuing would show in the indexes.
    """
    block = _take_block(session, ctx, issuer, count)
    _RANDOM.shuffle(block)
    return [Slot(slot.allocation_id, slot.number, slot.index,
                 status_entries(ctx, issuer.slug, slot.number, slot.index))
            for slot in block]


def _take_block(session: Session, ctx: ServiceContext, issuer: Issuer,
                count: int) -> list[Slot]:
    """:func:`allocate_many` without the entries, which cost more than the allocation."""
    if count <= 0:
        return []
    with session.no_autoflush:
        current = _newest_list(session, issuer)
        if current is None:
            return []
        number, size = int(current.number), int(current.size or LIST_SIZE)
        indexes: set[int] = set()
        while len(indexes) < min(count, size):
            indexes.add(draw_index(size))
        dialect = session.get_bind().dialect.name
        ordered = sorted(indexes)
        taken = session.execute(_take_many_statement(dialect), {
            "issuer_id": issuer.id, "list_number": number, "allocated_at": ctx.now(),
            "indexes": ordered if dialect == "postgresql" else json.dumps(ordered),
        }).all()
    return [Slot(int(row.id), number, int(row.list_index), ()) for row in taken]


#: Indexes a worker takes at once for the credentials it issues one by one (an award, the VC
#: API): one statement per block instead of one per credential.
BLOCK = 32
_RANDOM = secrets.SystemRandom()


class IndexBlocks:
    """This process's allocated but unused indexes, per issuer, for one database.

    An index of a block is written (allocated) by the transaction that took the block; it
    joins the shared stock only when that transaction commits, so a block rolled back is
    never handed out, and until then only that transaction uses it. Each index is handed
    out once: the stock is taken from under a lock, and a credential's allocation is
    UNIQUE in the database besides. Other processes take their own blocks, kept apart by
    the UNIQUE(issuer, list, index) constraint as single allocations are. An index a
    process still held when it ended stays allocated and unused: a 0 bit nobody reads,
    at most ``BLOCK - 1`` per issuer and process.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._stock: dict[tuple[int, ...], list[Slot]] = {}

    def take(self, session: Session, key: tuple[int, ...]) -> Slot | None:
        """An index of this transaction's own new block, else one of the stock."""
        own = _SessionBlocks.of(session, self)
        slot = own.take(key)
        if slot is None:
            with self._lock:
                stock = self._stock.get(key)
                slot = stock.pop() if stock else None
            if slot is not None:
                own.handed[slot.allocation_id] = (key, None, slot)
        return slot

    def keep(self, session: Session, key: tuple[int, ...], slots: list[Slot]) -> None:
        """Hold ``slots`` (just written in the session's current transaction) for it, and
        add them to the stock when the whole transaction commits."""
        _SessionBlocks.of(session, self).keep(session, key, slots)

    def give_back(self, session: Session, slot: Slot) -> bool:
        """Put an index handed out by :meth:`take` back where it came from, for a credential
        that was not issued; False if it did not come from a block."""
        own = _SessionBlocks.of(session, self)
        origin = own.handed.pop(slot.allocation_id, None)
        if origin is None:
            return False
        key, transaction, _ = origin
        if transaction is None:
            self.add(key, [slot])
        else:
            own.pending.setdefault(transaction, {}).setdefault(key, []).append(slot)
        return True

    def add(self, key: tuple[int, ...], slots: list[Slot]) -> None:
        with self._lock:
            self._stock.setdefault(key, []).extend(slots)

    def held(self) -> list[Slot]:
        """The indexes in stock, allocated and not yet handed out."""
        with self._lock:
            return [slot for slots in self._stock.values() for slot in slots]

    def clear(self) -> None:
        with self._lock:
            self._stock.clear()


class _SessionBlocks:
    """A session's blocks not yet committed, by the transaction (or SAVEPOINT) that wrote
    them, and where each index it was handed came from."""

    _KEY = "status_index_blocks"

    def __init__(self, blocks: IndexBlocks) -> None:
        self.blocks = blocks
        self.pending: dict[Any, dict[tuple[int, ...], list[Slot]]] = {}
        #: allocation id → (issuer key, the transaction whose block it is or None for the
        #: stock, the index): what this transaction was handed, to give back.
        self.handed: dict[int, tuple[tuple[int, ...], Any, Slot]] = {}

    @classmethod
    def of(cls, session: Session, blocks: IndexBlocks) -> _SessionBlocks:
        own = session.info.get(cls._KEY)
        if own is None or own.blocks is not blocks:
            own = session.info[cls._KEY] = cls(blocks)
        return own

    def take(self, key: tuple[int, ...]) -> Slot | None:
        for transaction, held in self.pending.items():
            slots = held.get(key)
            if slots:
                slot = slots.pop()
                self.handed[slot.allocation_id] = (key, transaction, slot)
                return slot
        return None

    def keep(self, session: Session, key: tuple[int, ...], slots: list[Slot]) -> None:
        transaction = session.get_nested_transaction() or session.get_transaction()
        if transaction is not None and slots:
            self.pending.setdefault(transaction, {}).setdefault(key, []).extend(slots)


def _committed(session: Session) -> None:
    own: _SessionBlocks | None = session.info.get(_SessionBlocks._KEY)
    if own is None:
        return
    nested = session.get_nested_transaction()
    if nested is not None:
        # A SAVEPOINT released: its blocks now stand or fall with the enclosing transaction.
        held = own.pending.pop(nested, None)
        if held and nested.parent is not None:
            into = own.pending.setdefault(nested.parent, {})
            for key, slots in held.items():
                into.setdefault(key, []).extend(slots)
        for allocation_id, (key, transaction, slot) in list(own.handed.items()):
            if transaction is nested:
                own.handed[allocation_id] = (key, nested.parent, slot)
        return
    own.handed.clear()
    root = session.get_transaction()
    held = own.pending.pop(root, None) if root is not None else None
    for key, slots in (held or {}).items():
        own.blocks.add(key, slots)


def _ended(session: Session, transaction: Any) -> None:
    """What a transaction that ended (uncommitted: a commit came first) still holds was
    rolled back with it; indexes it was handed from the stock, whose allocations an
    earlier transaction wrote, are free again."""
    own: _SessionBlocks | None = session.info.get(_SessionBlocks._KEY)
    if own is None:
        return
    own.pending.pop(transaction, None)
    root = transaction.parent is None
    for allocation_id, (key, origin, slot) in list(own.handed.items()):
        if origin is transaction or root:
            del own.handed[allocation_id]
            if root and origin is None:
                own.blocks.add(key, [slot])


# Heard from every session (listening on each new one cost more than the rest of taking an
# index), and first: a session's own listeners come after the class's, and one that fails
# after the commit must not keep the handed indexes from being known as used.
event.listen(Session, "after_commit", _committed, insert=True)
event.listen(Session, "after_transaction_end", _ended)


_BLOCKS: weakref.WeakKeyDictionary[Engine, IndexBlocks] = weakref.WeakKeyDictionary()
_BLOCKS_LOCK = threading.Lock()


def index_blocks(session: Session) -> IndexBlocks:
    """The blocks this process holds in the session's database."""
    bind = session.get_bind()
    engine = bind if isinstance(bind, Engine) else bind.engine
    with _BLOCKS_LOCK:
        found = _BLOCKS.get(engine)
        if found is None:
            found = _BLOCKS[engine] = IndexBlocks()
        return found


def _forget_blocks() -> None:
    # A forked worker starts with a copy of its parent's stock; both handing the same
    # indexes out would give two credentials one index.
    for blocks in list(_BLOCKS.values()):
        blocks.clear()


os.register_at_fork(after_in_child=_forget_blocks)


def _newest_list(session: Session, issuer: Issuer) -> Any:
    """The number and size of the issuer's newest (revocation) list, or None."""
    return session.execute(
        select(StatusList.number, StatusList.size)
        .where(StatusList.issuer_id == issuer.id, StatusList.purpose == PURPOSES[0])
        .order_by(StatusList.number.desc()).limit(1)).first()


def release(session: Session, slot: Slot) -> None:
    session.execute(delete(StatusAllocation).where(StatusAllocation.id == slot.allocation_id))


def release_many(session: Session, slots: Sequence[Slot]) -> None:
    """Give back allocations no credential was issued with."""
    if slots:
        session.execute(delete(StatusAllocation).where(
            StatusAllocation.id.in_([slot.allocation_id for slot in slots])))


@contextmanager
def reserved(session: Session, ctx: ServiceContext, issuer: Issuer) -> Iterator[Slot]:
    """An allocation for the credential being issued inside the block.

    If the block fails, the index is given back (to the block it came from, or its
    allocation removed), so a refused award leaves nothing behind even when the caller goes
    on with the same transaction (bulk award). When the database itself failed, the
    transaction is lost anyway and the caller rolls it back.
    """
    slot = allocate(session, ctx, issuer)
    try:
        yield slot
    except BaseException:
        # An index from a block goes back to it; one taken alone is deleted.
        if not index_blocks(session).give_back(session, slot):
            try:
                release(session, slot)
            except SQLAlchemyError:
                pass  # the session needs a rollback, which removes the allocation too
        raise


# --- the lists -----------------------------------------------------------------------------


def list_bits(session: Session, issuer_id_: int, purpose: str, number: int,
              size: int = LIST_SIZE) -> Bitstring:
    """The list as it stands now, read from the credentials' status."""
    bits = Bitstring(size)
    rows = session.scalars(
        select(StatusAllocation.list_index)
        .join(Credential, Credential.status_allocation_id == StatusAllocation.id)
        .where(StatusAllocation.issuer_id == issuer_id_,
               StatusAllocation.list_number == number,
               Credential.status == STATE_OF_PURPOSE[purpose]))
    for index in rows:
        bits.set(index)
    return bits


def list_and_entry_bits(session: Session, issuer_id_: int, purpose: str, number: int,
                        index: Any) -> tuple[Row[Any], Bitstring] | None:
    """The stored list's ``size`` and ``changed_at``, and the list as the §3.2 Validate
    Algorithm reads it for one entry.

    With 1-bit entries (the only ones checked) the algorithm reads the bit at the entry's
    ``statusListIndex`` and no other, so only that credential's status is looked up: one
    indexed read, however many credentials the list holds, made in the statement that reads
    the list's row. The other bits stay 0. None when there is no such list.
    """
    wanted = index_number(index)  # None: no list holds it, nothing to read
    values: dict[str, Any] = {"issuer": issuer_id_, "purpose": purpose, "number": number}
    if wanted is not None:
        values["index"] = wanted
    # On the connection: the list's columns are all that is read, no ORM instance.
    row = session.connection().execute(_list_and_entry(with_entry=wanted is not None),
                                       values).first()
    if row is None:
        return None
    current = row.current
    bits = Bitstring(row.size)
    if wanted is not None and wanted < row.size and current == STATE_OF_PURPOSE[purpose]:
        bits.set(wanted)
    return row, bits


@cache
def _list_and_entry(*, with_entry: bool) -> Select[Any]:
    # Built once: every status entry checked runs it, and building it cost as much as
    # running it.
    state: Any = null()
    if with_entry:
        state = (
            select(Credential.status)
            .join(StatusAllocation, Credential.status_allocation_id == StatusAllocation.id)
            .where(StatusAllocation.issuer_id == bindparam("issuer"),
                   StatusAllocation.list_number == bindparam("number"),
                   StatusAllocation.list_index == bindparam("index"))
            .scalar_subquery())
    lists = StatusList.__table__
    return select(lists.c.size, lists.c.changed_at, state.label("current")).where(
        lists.c.issuer_id == bindparam("issuer"), lists.c.purpose == bindparam("purpose"),
        lists.c.number == bindparam("number"))


@cache
def _list_of() -> Select[tuple[StatusList]]:
    # Built once: verifiers fetch the published lists far more often than anything changes.
    return select(StatusList).where(
        StatusList.issuer_id == bindparam("issuer"), StatusList.purpose == bindparam("purpose"),
        StatusList.number == bindparam("number"))


def get_list(session: Session, issuer: Issuer, purpose: str, number: int) -> StatusList:
    found = None
    if purpose in PURPOSES:
        found = session.scalar(_list_of(), {"issuer": issuer.id, "purpose": purpose,
                                            "number": number})
    if found is None:
        raise NotFound(f"{issuer.name} has no {purpose} list number {number}")
    return found


def _issuer_of_list(ctx: ServiceContext, issuer: Issuer) -> dict[str, str]:
    # VC 2.0 terms only (see issuer.core.status_list.status_list_credential).
    return {"id": issuer_did(ctx, issuer), "name": issuer.name}


@dataclass(frozen=True)
class PublishedList:
    text: str
    etag: str
    changed_at: datetime


def published_list(session: Session, ctx: ServiceContext, slug: str, purpose: str,
                   number: int) -> PublishedList:
    """The signed ``BitstringStatusListCredential`` (§2.2, §3.1) as it stands now.

    Signed with the issuer's active key, again only when the list changed since it was
    last signed (or the key did); ``validFrom`` is the moment of the last change. The
    caller commits, which keeps the signed copy for the next request.
    """
    issuer = get_issuer(session, slug)
    row = get_list(session, issuer, purpose, number)
    key_row = active_key(issuer)
    if (row.signed_version == row.version and row.signing_key_id == key_row.id
            and row.signed_credential and row.signed_etag):
        return PublishedList(row.signed_credential, row.signed_etag, row.changed_at)
    # The version is read before the bits: a change committed in between is then shown
    # under the older version, and signed again on the next request.
    version = row.version
    url = list_url(ctx, slug, purpose, number)
    document = status_list_credential(
        url, _issuer_of_list(ctx, issuer), purpose,
        list_bits(session, issuer.id, purpose, number, row.size), row.changed_at)
    signed = sign_as(ctx, issuer, document, ctx.now(), what="status list")
    text = json.dumps(signed.document, ensure_ascii=False, separators=(",", ":"))
    etag = hashlib.sha256(text.encode("utf-8")).hexdigest()
    row.signed_credential = text
    row.signed_etag = etag
    row.signed_version = version
    row.signing_key_id = signed.key.id
    session.flush()
    return PublishedList(text, etag, row.changed_at)


# --- the verifier's look-up ----------------------------------------------------------------


def _unknown(why: str) -> StatusResult:
    return StatusResult(Outcome.WARNING, f"could not check the status: {why}")


class LocalStatusChecker:
    """The verifier's status checker (OB 3.0 §9.1 step 4) for the lists hosted here.

    A list of this service is read from the database when the verifier asks (no HTTP, no
    cache), so the answer is the issuer's current one; only the entry's own bit is read
    (:func:`list_and_entry_bits`). The same §3.2 Validate Algorithm
    runs on it as on a fetched list (:func:`issuer.core.status_list.check_entry`); the list
    needs no signature check, since it never left the database. A list elsewhere is a
    WARNING here; the online verifier (:mod:`issuer.net.verifying`) sends such lists to the
    guarded fetcher before they reach this checker.
    """

    def __init__(self, session: Session, ctx: ServiceContext,
                 issuers: IssuersBySlug | None = None) -> None:
        self._session = session
        self._ctx = ctx
        self._pattern = _url_pattern(ctx)
        self._issuers = issuers or IssuersBySlug(session, ctx)

    def hosts(self, url: str) -> bool:
        """Whether ``url`` names a status list of this service."""
        return self._pattern.match(url) is not None

    def __call__(self, entry: Mapping[str, Any],
                 credential: Mapping[str, Any]) -> StatusResult:
        types = types_of(entry)
        if ENTRY_TYPE not in types:
            name = types[0] if types else "without a type"
            return _unknown(f"the status method {name!r} is not supported")
        url = entry.get("statusListCredential")
        if not isinstance(url, str) or not url:
            return _unknown("the status entry names no statusListCredential")
        match = self._pattern.match(url)
        if match is None:
            return _unknown(f"the status list {url} is not published by this service, and "
                            "other sites are not contacted when verifying")
        slug, purpose, number = match.group(1), match.group(2), int(match.group(3))
        issuer = self._issuers.by_slug(slug)
        found = (None if issuer is None else list_and_entry_bits(
            self._session, issuer.id, purpose, number, entry.get("statusListIndex")))
        if issuer is None or found is None:
            return _unknown(f"there is no status list at {url}")
        did = issuer_did(self._ctx, issuer)
        if issuer_id(credential) != did:
            return _unknown(f"the status list is issued by {did}, not by the credential's "
                            f"issuer {issuer_id(credential)}")
        row, bits = found
        document = status_list_credential(
            url, _issuer_of_list(self._ctx, issuer), purpose, bits, row.changed_at)
        try:
            return check_entry(entry, document)
        except IssuerError as exc:
            return _unknown(exc.message)
