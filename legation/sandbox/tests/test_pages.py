"""The sandbox pages: acting as a member of the public, messages and SMS to an embassy, replaying a file."""

from __future__ import annotations

import pytest

from legation.sandbox import services
from legation.sandbox.models import Member, Message, Post, Sms
from legation.sandbox.replay import replay


@pytest.fixture
def embassy(db):
    return services.official_member("@VeridiaFR", display_name="Embassy in Paris", phone="+33142000000")


def test_the_sandbox_is_only_for_people_signed_in(client, embassy):
    response = client.get("/sandbox/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_a_member_of_the_public_replies_messages_and_texts_an_embassy(client, bob, embassy):
    client.force_login(bob)
    post = Post.objects.create(author=embassy, text="Consulate closed Monday #holiday")
    assert "Consulate closed Monday" in client.get("/sandbox/").content.decode()
    client.post("/sandbox/join/", {"handle": "amal_public", "next": "/sandbox/"})
    client.post("/sandbox/act/", {"action": "reply", "post": post.pk, "text": "And Tuesday?"})
    client.post("/sandbox/act/", {"action": "message", "recipient": "@VeridiaFR", "text": "Help with my visa"})
    client.post("/sandbox/act/", {"action": "sms", "from_number": "+218 91 234 5678", "to_number": "+33142000000",
                                  "text": "Stranded in Misrata, 40 of us"})
    amal = Member.objects.get(handle="@amal_public")
    assert Post.objects.get(author=amal).reply_to == post
    assert Message.objects.get(sender=amal).recipient == embassy
    assert Sms.objects.get().from_number == "+218912345678"
    assert "And Tuesday?" in client.get(f"/sandbox/posts/{post.pk}/").content.decode()
    tagged = client.get("/sandbox/?tag=holiday").content.decode()
    assert "Consulate closed Monday" in tagged


def test_bad_input_is_refused_with_the_reason(client, bob, embassy):
    client.force_login(bob)
    client.post("/sandbox/join/", {"handle": "amal_public"})
    empty = client.post("/sandbox/act/", {"action": "post", "text": "   "})
    assert empty.status_code == 400 and "write something first" in empty.content.decode()
    bad_number = client.post("/sandbox/act/", {"action": "sms", "from_number": "not a number", "to_number": "+1",
                                               "text": "hi"})
    assert bad_number.status_code == 400 and "international number" in bad_number.content.decode()
    bad_handle = client.post("/sandbox/join/", {"handle": "@x"})
    assert bad_handle.status_code == 400
    assert not Sms.objects.exists() and not Post.objects.exists()


def test_replay_posts_good_lines_and_reports_bad_ones(db, tmp_path):
    feed = tmp_path / "posts.jsonl"
    feed.write_text('{"text": "first", "author": "@one_person"}\nnot json\n{"text": ""}\n["list"]\n'
                    '{"text": "second"}\n', encoding="utf-8")
    pauses: list[float] = []
    report = replay(feed, rate=100, sleep=pauses.append)
    assert report.posted == 2
    assert [n for n, _ in report.bad_lines] == [2, 3, 4]
    assert sorted(Post.objects.values_list("text", flat=True)) == ["first", "second"]
    assert Member.objects.filter(handle__in=["@one_person", "@public"]).count() == 2
    csv_file = tmp_path / "posts.csv"
    csv_file.write_text("body\nhello\n", encoding="utf-8")
    assert replay(csv_file, rate=0).bad_lines == [(1, "the CSV header has no 'text' column")]
