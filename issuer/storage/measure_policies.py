"""Rows of the thresholds an achievement asks of the measures of help
(:mod:`issuer.core.activity.measures`), and of the community exports staff measure against
them to suggest awards. Schema changes go through migrations."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, ForeignKey, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from issuer.storage.models import Base, UTCDateTime, utcnow


class MeasurePolicy(Base):
    """What a claim's measured help must reach before it can be approved.

    Absent row, or every threshold 0: the measures are shown to reviewers and asked nothing.
    Any threshold also requires the acknowledgements to come from enough different people.
    """

    __tablename__ = "measure_policies"

    achievement_id: Mapped[int] = mapped_column(
        ForeignKey("achievements.id", ondelete="CASCADE"), primary_key=True)
    #: Distinct people whose acknowledgement counts.
    min_people: Mapped[int] = mapped_column(Integer, default=0)
    #: Acknowledgements counted under the rules (reciprocal ones weigh half).
    min_acknowledgements: Mapped[float] = mapped_column(Float, default=0.0)
    #: Percentage of answers to others that were acknowledged.
    min_rate: Mapped[int] = mapped_column(Integer, default=0)
    #: Peers who attest that they can now do it unaided.
    min_transfer: Mapped[int] = mapped_column(Integer, default=0)
    min_threads: Mapped[int] = mapped_column(Integer, default=0)
    #: Communities in which help was acknowledged.
    min_communities: Mapped[int] = mapped_column(Integer, default=0)
    min_months: Mapped[int] = mapped_column(Integer, default=0)
    updated_by: Mapped[str | None] = mapped_column(String(320))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class SuggestionUpload(Base):
    """A community's export uploaded by the issuer's staff to find who meets an achievement's
    measure policy. The file is kept (bounded in size) so the people chosen on the results
    page are measured from the very bytes shown, and the suggested claims can name them."""

    __tablename__ = "suggestion_uploads"

    id: Mapped[int] = mapped_column(primary_key=True)
    issuer_id: Mapped[int] = mapped_column(ForeignKey("issuers.id", ondelete="CASCADE"),
                                           index=True)
    achievement_id: Mapped[int] = mapped_column(
        ForeignKey("achievements.id", ondelete="CASCADE"))
    #: Which file it is: ``posts_xml``, ``api_json``, ``topic_json``, ``outbox_json`` or
    #: ``mbox`` (the names of :mod:`issuer.storage.traces`).
    kind: Mapped[str] = mapped_column(String(32))
    #: The community a Stack Exchange dump comes from (``cooking.stackexchange.com``).
    site: Mapped[str | None] = mapped_column(String(255))
    file_name: Mapped[str | None] = mapped_column(String(255))
    source_sha256: Mapped[str] = mapped_column(String(64), index=True)
    source: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    #: A Stack Exchange dump's ``Users.xml``, when given: when each account was made.
    users_source: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)
    created_by: Mapped[str] = mapped_column(String(320))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
