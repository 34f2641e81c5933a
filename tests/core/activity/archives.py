"""Small archives as each platform writes them, with invented people, for the importers and
the command line. Each builder returns the bytes of one file; the expected numbers are
worked out in the tests that use them."""

from __future__ import annotations

import json
from typing import Any
from xml.sax.saxutils import quoteattr

SITE = "cooking.stackexchange.com"


def _row(**attributes: object) -> str:
    return "  <row " + " ".join(f"{k}={quoteattr(str(v))}" for k, v in attributes.items()
                                if v is not None) + " />"


def se_post(post_id: int, kind: int, owner: int | None, created: str, *,
            parent: int | None = None, accepted: int | None = None, score: int = 0,
            body: str = "<p>Some words.</p>") -> str:
    return _row(Id=post_id, PostTypeId=kind, ParentId=parent, AcceptedAnswerId=accepted,
                CreationDate=created, Score=score, Body=body, OwnerUserId=owner)


def posts_xml(rows: list[str]) -> bytes:
    return ('<?xml version="1.0" encoding="utf-8"?>\n<posts>\n' + "\n".join(rows)
            + "\n</posts>\n").encode("utf-8")


#: User 10 helps on a cooking site. Worked out for 10: posts 2, 5, 6, 8, 10, 12, 14 (7);
#: answers to others 2 (user 20), 5 (21), 10 (30), 12 (20), 14 (22) — 8 answers their own
#: question; accepted: 2, 5, 10, 12 by 20, 21, 30, 20. User 10 accepted 21's answer 7, so
#: 10 and 21 are a reciprocal pair; user 30's account was made five days before it accepted.
SE_POSTS = [
    se_post(1, 1, 20, "2024-01-05T09:00:00.000", accepted=2, score=4,
            body="<p>Why does my bread collapse?</p>"),
    se_post(2, 2, 10, "2024-01-05T10:00:00.000", parent=1, score=9,
            body="<p>Shorten the proof.</p>"),
    se_post(3, 2, 22, "2024-01-05T11:00:00.000", parent=1),
    se_post(4, 1, 21, "2024-02-10T08:00:00.000", accepted=5),
    se_post(5, 2, 10, "2024-02-10T09:30:00.000", parent=4),
    _row(Id=15, PostTypeId=5, CreationDate="2024-02-11T00:00:00.000", Body="tag wiki"),
    se_post(6, 1, 10, "2024-03-01T12:00:00.000", accepted=7),
    se_post(7, 2, 21, "2024-03-01T13:00:00.000", parent=6),
    se_post(8, 2, 10, "2024-03-01T14:00:00.000", parent=6),
    se_post(9, 1, 30, "2024-03-25T07:00:00.000", accepted=10),
    se_post(10, 2, 10, "2024-03-25T08:00:00.000", parent=9),
    se_post(11, 1, 20, "2024-01-20T07:00:00.000", accepted=12),
    se_post(12, 2, 10, "2024-01-20T08:00:00.000", parent=11),
    se_post(13, 1, 22, "2024-04-02T07:00:00.000"),
    se_post(14, 2, 10, "2024-04-02T08:00:00.000", parent=13),
]

USERS_XML = ('<?xml version="1.0" encoding="utf-8"?>\n<users>\n' + "\n".join([
    _row(Id=10, CreationDate="2020-02-01T00:00:00.000", DisplayName="Ines Okafor"),
    _row(Id=20, CreationDate="2019-06-01T00:00:00.000", DisplayName="Pavel Rusu"),
    _row(Id=21, CreationDate="2021-09-01T00:00:00.000", DisplayName="Mei Larsen"),
    _row(Id=22, CreationDate="2022-03-01T00:00:00.000", DisplayName="Tomas Ekwueme"),
    _row(Id=30, CreationDate="2024-03-20T00:00:00.000", DisplayName="fresh_one"),
]) + "\n</users>\n").encode("utf-8")

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE posts [
  <!ENTITY lol "lol">
  <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
]>
<posts><row Id="1" PostTypeId="1" Body="&lol2;" /></posts>
"""


def se_api_json() -> bytes:
    """Question 100 by 20 with its accepted answer 101 by 10; answer 102 by 10 to a question
    not in the file; and one broken item."""
    items: list[Any] = [
        {"question_id": 100, "owner": {"user_id": 20}, "accepted_answer_id": 101,
         "creation_date": 1717236000, "link": f"https://{SITE}/q/100", "score": 3},
        {"answer_id": 101, "question_id": 100, "is_accepted": True,
         "owner": {"user_id": 10, "display_name": "Ines Okafor"}, "score": 12,
         "creation_date": 1717239600, "link": f"https://{SITE}/a/101"},
        {"answer_id": 102, "question_id": 200, "is_accepted": False,
         "owner": {"user_id": 10}, "creation_date": 1719831600,
         "link": f"https://{SITE}/a/102"},
        {"answer_id": 103, "question_id": "two hundred", "owner": {"user_id": 10}},
    ]
    return json.dumps({"items": items, "has_more": False, "quota_max": 300,
                       "quota_remaining": 297}).encode("utf-8")


def discourse_post(number: int, username: str, created: str, cooked: str, *,
                   reply_to: int | None = None, reply_user: str | None = None,
                   likes: int = 0, accepted: bool = False) -> dict[str, Any]:
    post: dict[str, Any] = {
        "id": 9000 + number, "name": username.title(), "username": username,
        "created_at": created, "cooked": cooked, "post_number": number, "post_type": 1,
        "reply_count": 0, "reply_to_post_number": reply_to, "topic_id": 42,
        "actions_summary": [{"id": 2, "count": likes}] if likes else [],
        "accepted_answer": accepted, "can_accept_answer": False,
    }
    if reply_user:
        post["reply_to_user"] = {"username": reply_user, "name": reply_user.title(),
                                 "avatar_template": "/letter_avatar/x/{size}/1.png"}
    return post


def discourse_topic() -> bytes:
    """Maria asks; tom answers (solved, marked by Maria, and thanked by her, liked seven
    times); lee thanks tom too but was not the one helped; tom answers lee; one broken post."""
    posts = [
        discourse_post(1, "maria", "2024-05-01T08:00:00.000Z",
                       "<p>My starter smells of acetone. What now?</p>"),
        discourse_post(2, "tom", "2024-05-01T09:00:00.000Z",
                       "<p>Feed it twice a day for a week.</p>", likes=7, accepted=True),
        discourse_post(3, "maria", "2024-05-03T09:00:00.000Z",
                       "<p>Thanks, that worked!</p>", reply_to=2, reply_user="tom"),
        discourse_post(4, "lee", "2024-05-04T09:00:00.000Z",
                       "<p>Thanks tom, useful for me too.</p>", reply_to=2,
                       reply_user="tom"),
        discourse_post(5, "tom", "2024-06-04T09:00:00.000Z",
                       "<p>Glad it helps, lee.</p>", reply_to=4, reply_user="lee"),
        {**discourse_post(6, "lee", "2024-06-05T09:00:00.000Z", "<p>x</p>"),
         "post_number": "six"},
    ]
    topic = {"id": 42, "title": "Sourdough starter smells of acetone",
             "slug": "sourdough-starter-smells-of-acetone", "category_id": 5,
             "posts_count": 6, "post_stream": {"posts": posts, "stream": [9001, 9002]},
             "accepted_answer": {"post_number": 2, "username": "tom", "name": "Tom",
                                 "accepter_username": "maria", "excerpt": "Feed it"}}
    return json.dumps(topic).encode("utf-8")


USER_ARCHIVE_CSV = (
    b"topic_title,categories,is_pm,post_raw,post_cooked,like_count,reply_count,url,created_at\n"
    b"Sourdough starter,Baking,No,Feed it twice a day.,<p>Feed it twice a day.</p>,7,1,"
    b"https://forum.bakers.example/t/sourdough-starter/42/2,2024-05-01 09:00:00 UTC\n"
    b"Rye ratios,Baking,No,\"Try 80%, then 75%.\",<p>Try</p>,0,0,"
    b"https://forum.bakers.example/t/rye-ratios/57/3,2024-07-12 10:00:00 UTC\n"
    b"Broken,Baking,No,text,<p>text</p>,0,0,not a link,2024-07-13 10:00:00 UTC\n"
)


def note(number: int, published: str, content: str, *, in_reply_to: str | None = None,
         mentions: tuple[str, ...] = ()) -> dict[str, Any]:
    actor = "https://social.example/users/alice"
    status = f"{actor}/statuses/{number}"
    tags = [{"type": "Mention", "href": f"https://{m.split('@')[1]}/users/{m.split('@')[0]}",
             "name": f"@{m}"} for m in mentions]
    tags.append({"type": "Hashtag", "href": "https://social.example/tags/rust",
                 "name": "#rust"})
    return {
        "id": f"{status}/activity", "type": "Create", "actor": actor, "published": published,
        "to": ["https://www.w3.org/ns/activitystreams#Public"],
        "object": {"id": status, "type": "Note", "published": published,
                   "url": f"https://social.example/@alice/{number}",
                   "attributedTo": actor, "inReplyTo": in_reply_to, "content": content,
                   "tag": tags, "sensitive": False},
    }


def outbox_json() -> bytes:
    """alice@social.example: a post of her own, answers to bob (fosstodon) and carol
    (hachyderm), a follow-up to herself, a boost, and a broken Create."""
    items: list[Any] = [
        note(1, "2024-08-01T10:00:00Z", "<p>Borrow checker tips thread</p>"),
        note(2, "2024-08-02T10:00:00Z", "<p>@bob use a scoped block</p>",
             in_reply_to="https://fosstodon.example/users/bob/statuses/77",
             mentions=("bob@fosstodon.example",)),
        {"id": "https://social.example/users/alice/statuses/3/activity", "type": "Announce",
         "actor": "https://social.example/users/alice", "published": "2024-08-03T10:00:00Z",
         "object": "https://hachyderm.example/users/carol/statuses/5"},
        note(4, "2024-08-04T10:00:00Z", "<p>One more tip</p>",
             in_reply_to="https://social.example/users/alice/statuses/1"),
        note(5, "2024-09-05T10:00:00Z", "<p>@carol try cargo expand</p>",
             in_reply_to="https://hachyderm.example/@carol/109",
             mentions=("carol@hachyderm.example",)),
        {"id": "x", "type": "Create", "actor": "https://social.example/users/alice",
         "object": {"type": "Note", "content": "no id"}},
    ]
    outbox = {"@context": "https://www.w3.org/ns/activitystreams",
              "id": "outbox.json", "type": "OrderedCollection",
              "totalItems": len(items), "orderedItems": items}
    return json.dumps(outbox).encode("utf-8")


def mail(message_id: str, sender: str, date: str, body: str, *,
         in_reply_to: str | None = None, references: tuple[str, ...] = (),
         subject: str = "Rebasing a branch") -> str:
    headers = [f"From {sender} {date}", f"From: {sender.split('@')[0].title()} <{sender}>",
               "To: help@lists.example", f"Subject: {subject}",
               "Date: " + {"Sat Jun  1": "Sat, 01 Jun 2024 10:00:00 +0200",
                           "Sun Jun  2": "Sun, 02 Jun 2024 10:00:00 +0200",
                           "Mon Jun  3": "Mon, 03 Jun 2024 10:00:00 +0200",
                           "Tue Jul  2": "Tue, 02 Jul 2024 10:00:00 +0200"}[date[:10]],
               "List-Id: Help with git <help.lists.example>",
               "Content-Type: text/plain; charset=utf-8"]
    if message_id:
        headers.append(f"Message-ID: <{message_id}>")
    if in_reply_to:
        headers.append(f"In-Reply-To: <{in_reply_to}>")
    if references:
        headers.append("References: " + " ".join(f"<{r}>" for r in references))
    return "\n".join(headers) + "\n\n" + body + "\n\n"


def mbox_file() -> bytes:
    """ann asks; helper answers; ann thanks helper; dan replies quoting a thank-you; helper
    answers dan; one message without a Message-ID."""
    return "".join([
        mail("m1@lists.example", "ann@example.org", "Sat Jun  1 10:00:00 2024",
             "How do I rebase my branch onto main?"),
        mail("m2@lists.example", "helper@example.net", "Sat Jun  1 10:00:00 2024",
             "Use git rebase -i main.", in_reply_to="m1@lists.example",
             references=("m1@lists.example",)),
        mail("m3@lists.example", "ann@example.org", "Sun Jun  2 10:00:00 2024",
             "> Use git rebase -i main.\nThanks, that did it!", in_reply_to="m2@lists.example",
             references=("m1@lists.example", "m2@lists.example")),
        mail("m4@lists.example", "dan@example.com", "Mon Jun  3 10:00:00 2024",
             "> Thanks, that did it!\nI would merge instead.", in_reply_to="m2@lists.example",
             references=("m1@lists.example", "m2@lists.example")),
        mail("m5@lists.example", "Helper@Example.net", "Tue Jul  2 10:00:00 2024",
             "Merging keeps history; both work.", in_reply_to="m4@lists.example",
             references=("m1@lists.example", "m2@lists.example", "m4@lists.example")),
        mail("", "eve@example.org", "Tue Jul  2 10:00:00 2024", "No id here."),
    ]).encode("utf-8")
