"""Publishing refusals and guidance findings reach a person in their language, through the API and the pages."""

from __future__ import annotations

import html
import json

import pytest

from legation.guidance import services as guidance
from legation.network import services as network
from legation.publishing import services
from legation.publishing.models import Post
from legation.publishing.services import VariantInput


@pytest.fixture
def europe_rules(tree, alice):
    guidance.create_rule(alice, unit=tree.europe, kind="blocked_terms", name="Europe words",
                         config={"terms": ["propaganda"]})
    guidance.create_rule(alice, unit=tree.ministry, kind="sensitive_topic", name="Naming Norland",
                         config={"terms": ["Norland"]}, clearance_role="approver")


def _send(client, url, body, headers):
    return client.post(url, data=json.dumps(body), content_type="application/json", **headers)


def _body(account, text, submit=False):
    return {"unit_id": account.unit_id, "source_language": "fr", "variants": [{"language": "fr", "text": text}],
            "targets": [{"account_id": account.pk, "language": "fr"}], "submit": submit}


def test_a_french_publisher_is_refused_in_french_through_the_api(client, tree, bob, charlie, paris_accounts,
                                                                 europe_rules, token_for):
    network.set_language(bob, "fr")
    headers = token_for(bob)
    empty = _send(client, "/api/v1/posts", _body(paris_accounts[0], "   "), headers)
    assert empty.status_code == 422
    assert empty.json()["detail"] == [{"loc": ["body", "variants"], "msg": "le texte en fr est vide"}]
    blocked = _send(client, "/api/v1/posts", _body(paris_accounts[0], "Pure propaganda", submit=True), headers)
    assert blocked.status_code == 422
    assert blocked.json()["detail"][0]["msg"] == (
        "Europe words : Terme interdit « propaganda » trouvé sous la forme « propaganda »")
    assert Post.objects.get().status == "draft"  # drafted, then refused on submission
    network.set_language(charlie, "fr")
    outsider = _send(client, "/api/v1/posts", _body(paris_accounts[0], "Salut"), token_for(charlie))
    assert outsider.status_code == 403
    assert outsider.json()["detail"] == "Cela demande le rôle Lecteur ou supérieur sur Embassy in Paris."


def test_an_arabic_publisher_reads_findings_and_refusals_in_arabic_through_the_api(client, tree, bob, editor,
                                                                                   paris_accounts, europe_rules,
                                                                                   token_for):
    network.set_language(bob, "ar")
    post = services.submit(editor, services.create_post(
        editor, unit=tree.paris, source_language="fr", variants=[VariantInput("fr", "Rencontre avec Norland")],
        targets=[(paris_accounts[0], "fr")]))
    headers = token_for(bob)
    seen = client.get(f"/api/v1/posts/{post.pk}", **headers)
    assert seen.status_code == 200
    [finding] = seen.json()["findings"]
    assert finding["why"] == "موضوع حساس «Norland» وُجد بصيغة «Norland»؛ يتطلب موافقة مُعتمِد في Ministry"
    reasons = {(c["role"], c["reason"]) for c in seen.json()["clearances"]}
    assert reasons == {("approver", finding["why"]), ("publisher", "صاغه محرِّر")}
    refused = _send(client, f"/api/v1/posts/{post.pk}/correct", {"texts": {"fr": "Rectificatif"}}, headers)
    assert refused.status_code == 422
    assert refused.json()["detail"][0]["msg"] == "لم يُنشر شيء بعد: عدّل المنشور بدلًا من ذلك"
    post.refresh_from_db()
    assert post.findings[0]["why"].startswith("Sensitive topic “Norland”")  # stored as written, shown translated


def test_the_post_page_refuses_and_explains_in_the_persons_language(client, tree, bob, editor, paris_accounts,
                                                                     europe_rules):
    network.set_language(editor, "fr")
    client.force_login(editor)
    post = services.create_post(editor, unit=tree.paris, source_language="fr",
                                variants=[VariantInput("fr", "De la propaganda")], targets=[(paris_accounts[0], "fr")])
    page = client.post(f"/posts/{post.pk}/", {"submit": "1"}, follow=True)
    assert page.status_code == 200
    assert ("Europe words : Terme interdit « propaganda » trouvé sous la forme « propaganda »"
            in html.unescape(page.content.decode()))

    services.update_post(editor, post, source_language="fr", variants=[VariantInput("fr", "Visite à Norland")],
                         targets=[(paris_accounts[0], "fr")])
    services.submit(editor, post)
    network.set_language(bob, "ar")
    client.force_login(bob)
    shown = html.unescape(client.get(f"/posts/{post.pk}/").content.decode())
    assert "موضوع حساس «Norland» وُجد بصيغة «Norland»؛ يتطلب موافقة مُعتمِد في Ministry" in shown
    assert "يتطلب موافقة</strong>" in shown  # the severity too
    assert "<td>صاغه محرِّر</td>" in shown  # why the publisher's clearance is asked
    refused = html.unescape(client.post(f"/posts/{post.pk}/", {"retract": "1", "reason": " "},
                                        follow=True).content.decode())
    assert "اذكر سبب سحب المنشور" in refused


def test_the_composer_preview_explains_findings_in_the_persons_language(client, tree, editor, paris_accounts,
                                                                        europe_rules):
    network.set_language(editor, "es")
    client.force_login(editor)
    session = client.session
    session["unit_id"] = tree.paris.pk
    session.save()
    response = client.post("/posts/preview/", {"source_language": "fr", "source_text": "De la propaganda",
                                               f"account_{paris_accounts[0].pk}": "fr"})
    assert response.status_code == 200
    page = html.unescape(response.content.decode())
    assert ("Bloqueado</strong> — Europe words (Europe): Término prohibido «propaganda» encontrado como "
            "«propaganda»") in page
