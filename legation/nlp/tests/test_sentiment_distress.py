"""Distress, complaint and praise posts as a ministry meets them, in the fast tier (the one every listened post
gets). Written by hand on 2026-12-07, before the fast model learnt weakly labelled crisis posts; see the sentiment
model card ("Crisis posts"). Before that change the fast tier read 6 of the 24 distress and complaint posts as
positive (the demo's flood requests among them) and got 22 of the 41 right; after it, 2 and 26. An evacuation
schedule was added (and good news of an evacuation flight made a clear case) on 2026-12-07, when that model read
"evacuation" as negative at 1.0; with the displaced posts that name an evacuation left out of its weak labels, 2
read positive and 28 of the 42 are right."""

from __future__ import annotations

import pytest

from legation.nlp import classify_sentiment

# (text, language, what a reader would call it)
POSTS = [
    # distress
    ("URGENT Benghazi flood: 40 families stranded near the port need water and food, call +218 91 000 0100", "en",
     "negative"),
    ("Benghazi flood: families stranded near the port need water and food", "en", "negative"),
    ("We are stuck at the airport, please help us", "en", "negative"),
    ("Help please, no food for 2 days", "en", "negative"),
    ("No food for 3 days, the children are sick", "en", "negative"),
    ("My brother is missing since the earthquake, nobody answers at the hospital", "en", "negative"),
    ("Our house was destroyed by the storm and we have nowhere to sleep", "en", "negative"),
    ("Aidez-nous s'il vous plaît, nous n'avons plus d'eau", "fr", "negative"),
    ("Nous sommes bloqués à l'aéroport depuis hier, personne ne nous aide", "fr", "negative"),
    ("Ayuda por favor, estamos atrapados en el techo, el agua sigue subiendo", "es", "negative"),
    ("Necesitamos agua y comida urgente, hay niños heridos", "es", "negative"),
    ("Aiuto, siamo bloccati sotto le macerie dopo il terremoto", "it", "negative"),
    ("Precisamos de ajuda, a enchente levou tudo e não temos comida", "pt", "negative"),
    ("Hilfe, wir sitzen seit zwei Tagen ohne Wasser fest", "de", "negative"),
    ("نحتاج إلى مساعدة عاجلة، لا يوجد ماء ولا طعام منذ يومين", "ar", "negative"),
    ("حسبي الله ونعم الوكيل", "ar", "negative"),
    # complaints
    ("C'est décevant, l'ambassade ne répond pas", "fr", "negative"),
    ("Three weeks waiting for my visa and still no answer from the consulate, terrible service", "en", "negative"),
    ("The embassy phone line has been dead all day, useless", "en", "negative"),
    ("Una vergüenza, el consulado nos dejó solos", "es", "negative"),
    ("Che schifo, nessuno dell'ambasciata ci ha aiutato", "it", "negative"),
    ("Absolut enttäuschend, die Botschaft ignoriert unsere Anfragen", "de", "negative"),
    ("Péssimo atendimento no consulado, ninguém resolve nada", "pt", "negative"),
    ("السفارة لا ترد على اتصالاتنا، خدمة سيئة جدا", "ar", "negative"),
    # praise, thanks, sympathy
    ("Super, très content", "fr", "positive"),
    ("obrigado", "pt", "positive"),
    ("Bonjour tout le monde, merci", "fr", "positive"),
    ("Thank you so much to the embassy team, they got us home safely!", "en", "positive"),
    ("Great news, the evacuation flight landed and everyone is fine", "en", "positive"),
    ("Merci infiniment au consulat pour votre aide rapide", "fr", "positive"),
    ("Muchas gracias al consulado, excelente atención", "es", "positive"),
    ("Grazie mille all'ambasciata, siete stati fantastici", "it", "positive"),
    ("Vielen Dank an die Botschaft, super Hilfe!", "de", "positive"),
    ("Muito obrigado pela ajuda, vocês são incríveis", "pt", "positive"),
    ("شكرا جزيلا للسفارة على المساعدة الرائعة", "ar", "positive"),
    ("Praying for everyone affected by the flood", "en", "positive"),
    # plain news
    ("Die Delegation veröffentlicht einen neuen Bericht", "de", "neutral"),
    ("The minister will visit Rome on Tuesday to discuss trade", "en", "neutral"),
    ("Le ministre se rendra à Rome mardi", "fr", "neutral"),
    ("El embajador presentará sus credenciales el lunes", "es", "neutral"),
    ("A embaixada divulgou o horário de funcionamento para a próxima semana", "pt", "neutral"),
    ("Evacuation flights from Tripoli leave Tuesday at 10:00, register with the embassy", "en", "neutral"),
]

# The clear cases a user must see right: requests for help in English (the demo's crisis burst), sympathy with
# the victims of a disaster (a crisis word is not a negative post), thanks in five languages, an evacuation
# schedule and good news of an evacuation (the word alone is not distress).
CLEAR = {
    "URGENT Benghazi flood: 40 families stranded near the port need water and food, call +218 91 000 0100":
        "negative",
    "Benghazi flood: families stranded near the port need water and food": "negative",
    "We are stuck at the airport, please help us": "negative",
    "Help please, no food for 2 days": "negative",
    "No food for 3 days, the children are sick": "negative",
    "Our house was destroyed by the storm and we have nowhere to sleep": "negative",
    "Nous sommes bloqués à l'aéroport depuis hier, personne ne nous aide": "negative",
    "Praying for everyone affected by the flood": "positive",
    "Thank you so much to the embassy team, they got us home safely!": "positive",
    "Merci infiniment au consulat pour votre aide rapide": "positive",
    "Muchas gracias al consulado, excelente atención": "positive",
    "Grazie mille all'ambasciata, siete stati fantastici": "positive",
    "Muito obrigado pela ajuda, vocês são incríveis": "positive",
    "Great news, the evacuation flight landed and everyone is fine": "positive",
    "Evacuation flights from Tripoli leave Tuesday at 10:00, register with the embassy": "neutral",
}


@pytest.fixture(scope="module")
def fast():
    pred = classify_sentiment([t for t, _, _ in POSTS], tier="fast")
    return dict(zip([t for t, _, _ in POSTS], pred.labels, strict=True))


def test_the_set_covers_seven_of_the_eight_training_languages():
    assert {lang for _, lang, _ in POSTS} == {"ar", "en", "fr", "de", "it", "pt", "es"}  # no romanised Hindi


def test_clear_requests_for_help_read_negative_and_thanks_and_sympathy_positive(fast):
    wrong = {t: (fast[t], want) for t, want in CLEAR.items() if fast[t] != want}
    assert not wrong, wrong


def test_distress_and_complaints_are_rarely_read_positive(fast):
    # Known (2026-12-07): "Aidez-nous s'il vous plaît ..." ("s'il vous plaît" leans positive in UMSAB's French) and
    # "حسبي الله ونعم الوكيل" (a religious formula of grievance; UMSAB's Arabic has it in praise too).
    positive = [t for t, _, want in POSTS if want == "negative" and fast[t] == "positive"]
    assert len(positive) <= 2, positive


def test_most_of_the_set_is_read_as_a_person_would(fast):
    right = sum(fast[t] == want for t, _, want in POSTS)
    assert right / len(POSTS) >= 0.6, [(t, fast[t], want) for t, _, want in POSTS if fast[t] != want]
