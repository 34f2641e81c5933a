"""Rows of community traces: archives a learner imported, the interactions read from them,
and pages captured so a cited post survives being edited or deleted.

Only what the counting rules and the evidence need is kept of other people: their handle as
the archive writes it, the post ids, times and acknowledgements, and the SHA-256 of their
words, never the words. Schema changes go through migrations.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from issuer.storage.models import Base, UTCDateTime, utcnow


class TraceImport(Base):
    """One archive a learner uploaded, read as ``format`` for ``handle``."""

    __tablename__ = "trace_imports"

    id: Mapped[int] = mapped_column(primary_key=True)
    learner_id: Mapped[int] = mapped_column(ForeignKey("learners.id", ondelete="CASCADE"),
                                            index=True)
    #: The claim page the import was made from; None once that claim is gone.
    claim_id: Mapped[int | None] = mapped_column(ForeignKey("claims.id", ondelete="SET NULL"),
                                                 index=True)
    #: ``stackexchange``, ``discourse``, ``mastodon`` or ``mbox`` (as ``issuer activity``).
    format: Mapped[str] = mapped_column(String(32))
    #: Which file of that format: ``posts_xml``, ``api_json``, ``topic_json``,
    #: ``user_archive_csv``, ``outbox_json`` or ``mbox``.
    source_kind: Mapped[str] = mapped_column(String(32))
    #: The platform the interactions name (``stackexchange``, ``discourse``, ``mastodon``,
    #: ``mbox``).
    platform: Mapped[str] = mapped_column(String(32))
    #: The learner's handle as the archive writes people (normalized).
    handle: Mapped[str] = mapped_column(String(320))
    file_name: Mapped[str | None] = mapped_column(String(255))
    source_sha256: Mapped[str] = mapped_column(String(64), index=True)
    source_bytes: Mapped[int] = mapped_column(Integer)
    #: Interactions the archive held, before keeping only those about ``handle``.
    items_read: Mapped[int] = mapped_column(Integer, default=0)
    #: ``[{"item": n, "message": "..."}]``: items left out, and why.
    errors: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    truncated: Mapped[bool] = mapped_column(Boolean, default=False)
    #: ``{person: ISO 8601 time}``: when accounts were made, where the archive says (only
    #: the people kept in ``trace_items``).
    accounts_created: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    items: Mapped[list[TraceItem]] = relationship(
        back_populates="trace_import", order_by="TraceItem.id", cascade="all, delete-orphan",
        passive_deletes=True)


class TraceItem(Base):
    """One normalized interaction (:class:`issuer.core.activity.model.Interaction`).

    Kept: the importing learner's own posts, the posts they replied to, and the replies to
    their posts: what a summary of their help needs (reciprocity included), nothing more.
    """

    __tablename__ = "trace_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    import_id: Mapped[int] = mapped_column(ForeignKey("trace_imports.id", ondelete="CASCADE"),
                                           index=True)
    learner_id: Mapped[int] = mapped_column(ForeignKey("learners.id", ondelete="CASCADE"),
                                            index=True)
    platform: Mapped[str] = mapped_column(String(32))
    post_id: Mapped[str] = mapped_column(String(500))
    permalink: Mapped[str | None] = mapped_column(String(1000))
    author: Mapped[str | None] = mapped_column(String(320))
    created: Mapped[datetime | None] = mapped_column(UTCDateTime())
    thread: Mapped[str] = mapped_column(String(500))
    community: Mapped[str] = mapped_column(String(300))
    reply_to_post: Mapped[str | None] = mapped_column(String(500))
    reply_to_person: Mapped[str | None] = mapped_column(String(320))
    #: ``[{"kind": "accepted|solved|reaction|thanks", "by": str|None, "at": ISO|None}]``.
    acknowledgements: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    content_sha256: Mapped[str | None] = mapped_column(String(64))
    source_sha256: Mapped[str] = mapped_column(String(64))
    opens_thread: Mapped[bool] = mapped_column(Boolean, default=False)
    says_thanks: Mapped[bool] = mapped_column(Boolean, default=False)
    #: Written by the import's handle.
    own: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    #: An own post answering someone else (an act of help that may go into a claim).
    answers_other: Mapped[bool] = mapped_column(Boolean, default=False)
    #: Acknowledged (accepted, solved, thanked) by the person it answered.
    acknowledged: Mapped[bool] = mapped_column(Boolean, default=False)
    #: The evidence item this act of help became, if the learner picked it.
    evidence_record_id: Mapped[int | None] = mapped_column(
        ForeignKey("evidence_records.id", ondelete="SET NULL"), index=True)
    #: OB 3.0 §B.1.9 ``genre`` and ``audience`` of that evidence.
    genre: Mapped[str | None] = mapped_column(String(64))
    audience: Mapped[str | None] = mapped_column(String(300))

    trace_import: Mapped[TraceImport] = relationship(back_populates="items")


class TraceCapture(Base):
    """A cited page as fetched at one moment, kept as a WARC file (ISO 28500).

    Visible to the learner and the issuer's reviewers only, never on a public page: it may
    hold other people's words, which the credential carries only as the capture's hash.
    """

    __tablename__ = "trace_captures"

    id: Mapped[int] = mapped_column(primary_key=True)
    claim_id: Mapped[int] = mapped_column(ForeignKey("claims.id", ondelete="CASCADE"),
                                          index=True)
    evidence_record_id: Mapped[int] = mapped_column(
        ForeignKey("evidence_records.id", ondelete="CASCADE"), index=True)
    learner_id: Mapped[int] = mapped_column(ForeignKey("learners.id", ondelete="CASCADE"))
    url: Mapped[str] = mapped_column(String(1000))
    #: Where the last redirect led.
    final_url: Mapped[str] = mapped_column(String(1000))
    http_status: Mapped[int] = mapped_column(Integer)
    media_type: Mapped[str | None] = mapped_column(String(100))
    captured_at: Mapped[datetime] = mapped_column(UTCDateTime())
    #: SHA-256 of the response body as received (the WARC's ``WARC-Payload-Digest`` in hex).
    payload_sha256: Mapped[str] = mapped_column(String(64))
    payload_bytes: Mapped[int] = mapped_column(Integer)
    warc_sha256: Mapped[str] = mapped_column(String(64))
    warc_data: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
