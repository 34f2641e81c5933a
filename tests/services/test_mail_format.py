"""Message bytes written directly are the standard library's bytes, for any message.

``plain_bytes`` writes the common message itself and leaves everything else to the
library (``library_bytes``); both are compared on generated messages, and the direct way
must be the one taken for ordinary badge mail, or it would not be tested at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from email import message_from_bytes, policy

from hypothesis import given, settings
from hypothesis import strategies as st

from issuer.services import mail_format
from issuer.services.mail import render_mail

MSGID = "<173.42.1@guild.example>"
WHEN = datetime(2026, 12, 3, 9, 30, 5, tzinfo=UTC)


@dataclass(frozen=True)
class Message:
    to: str
    subject: str
    body: str
    created_at: datetime = WHEN


def both(name: str, address: str, message: Message) -> tuple[bytes, bytes]:
    return (mail_format.plain_bytes(name, address, message, MSGID),
            mail_format.library_bytes(name, address, message, MSGID))


def test_an_ordinary_badge_mail_is_written_directly_and_equals_the_librarys() -> None:
    subject, body = render_mail("badge_awarded", achievement_name="Peer Scaffolder",
                                issuer_name="Guild of Mentors",
                                credential_link="https://badges.example/credentials/1")
    message = Message("ada@example.org", subject, body)
    direct = mail_format._direct("Guild of Mentors", "badges@guild.example", message, MSGID)
    assert direct is not None
    assert direct == mail_format.library_bytes("Guild of Mentors", "badges@guild.example",
                                               message, MSGID)
    parsed = message_from_bytes(direct, policy=policy.default)
    assert parsed["To"] == "ada@example.org" and parsed["Subject"] == subject
    assert parsed["Message-ID"] == MSGID
    assert parsed.get_content().replace("\r\n", "\n") == body


@settings(max_examples=600, deadline=None, derandomize=True)
@given(
    name=st.sampled_from(["", "Guild", "Guild of Mentors", 'The "Best" Guild', "Smith, Jo",
                          "Zoë’s Guild", "a" * 70, "Guild (North)"]),
    # Subjects as send_mail stores them: any whitespace (line breaks, tabs, separators such
    # as \x1e) made one space, none at either end.
    subject=(st.text(st.characters(codec="ascii"), max_size=90)
             | st.text(st.sampled_from(" aZ.,:;!?-_'\"()é€\t\x1e"), max_size=90))
    .map(lambda raw: " ".join(raw.split())),
    body=st.text(st.sampled_from("ab Z.\n\r\tFrom-é\x0b\x0c\x1c\x1e\x7f"), max_size=300)
    | st.lists(st.sampled_from(["From here", ".", "", "x" * 997, "x" * 999, "line"]),
               max_size=8).map("\n".join),
    to=st.sampled_from(["ada@example.org", "a.very.long.address." * 3 + "@example.org"]),
)
def test_whatever_the_message_the_bytes_are_the_librarys(name: str, subject: str, body: str,
                                                         to: str) -> None:
    direct, library = both(name, "badges@guild.example", Message(to, subject, body))
    assert direct == library


def test_what_the_library_must_do_is_left_to_it() -> None:
    address = "badges@guild.example"
    for message in (Message("a@example.org", "Badge für dich", "Hallo"),  # encoded word
                    Message("a@example.org", "word " * 20, "long subject: folded"),
                    Message("a@example.org", "Hi", "Grüße"),  # quoted-printable body
                    Message("a@example.org", "Hi", "x" * 1200)):  # a line over 998
        assert mail_format._direct("Guild", address, message, MSGID) is None
        direct, library = both("Guild", address, message)
        assert direct == library
