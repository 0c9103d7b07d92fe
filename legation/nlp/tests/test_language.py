from __future__ import annotations

import csv
import time
from pathlib import Path

import pytest

from legation.nlp import detect_languages, detect_languages_scored

FIXTURES = Path(__file__).parent / "fixtures"


def _fixture(name: str) -> tuple[list[str], list[str]]:
    with (FIXTURES / f"{name}.tsv").open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    return [r["text"] for r in rows], [r["lang"] for r in rows]


def _accuracy(name: str, cascade: bool) -> tuple[float, list[tuple[str, str, str]]]:
    texts, gold = _fixture(name)
    pred = [code for code, _ in detect_languages_scored(texts, cascade=cascade)]
    wrong = [(g, p, t) for t, g, p in zip(texts, gold, pred, strict=True) if g != p]
    return 1 - len(wrong) / len(gold), wrong


@pytest.mark.parametrize("cascade", [False, True], ids=["fast", "accurate"])
def test_own_fixtures_cover_35_languages_in_both_tiers(cascade):
    # Clean sentences (105), noisy posts (210) and held-out noisy posts (140), 35 languages each.
    for name, floor in (("langid_sentences", 0.98), ("langid_posts", 0.96), ("langid_posts_heldout", 0.96)):
        texts, gold = _fixture(name)
        assert len(set(gold)) >= 35
        accuracy, wrong = _accuracy(name, cascade)
        assert accuracy >= floor, (name, wrong)


@pytest.mark.parametrize("cascade", [False, True], ids=["fast", "accurate"])
def test_second_post_sets_hold_their_measured_accuracy(cascade):
    # langid_posts2_tune.tsv (210 posts, 6 per language; tuned on) and langid_posts2_heldout.tsv (210 more; 0.962
    # fast, 0.967 accurate before the 2026-12-05 changes, 0.981 in both tiers after the Swahili word list). Floors:
    # the figures rounded down to two decimals.
    for name, floor in (("langid_posts2_tune", 0.97), ("langid_posts2_heldout", 0.98)):
        texts, gold = _fixture(name)
        assert len(set(gold)) >= 35 and len(gold) == 210
        accuracy, wrong = _accuracy(name, cascade)
        assert accuracy >= floor, (name, wrong)


@pytest.mark.parametrize("cascade", [False, True], ids=["fast", "accurate"])
def test_plain_swahili_sentences_are_swahili_and_their_neighbours_are_not(cascade):
    # langid_swahili_check.tsv: 12 Swahili posts and 12 in languages fastText confuses it with, written before the
    # Swahili word list was tried (before it: fast 20 / 24, accurate 22 / 24; "Wagonjwa wengi wanasubiri matibabu
    # hospitalini bila dawa" was Malay, "mtoto amepotea sokoni Kariakoo, tafadhali ..." English).
    accuracy, wrong = _accuracy("langid_swahili_check", cascade)
    assert wrong == []


def test_a_close_call_made_of_swahili_words_is_swahili():
    texts = ["Serikali imetangaza kuongeza bei ya mafuta kuanzia mwezi ujao."]  # fastText: German 0.34
    assert [c for c, _ in detect_languages_scored(texts, cascade=False)] == ["sw"]
    assert detect_languages(texts) == ["sw"]
    # Two Swahili-looking words are not enough when the rest is another language's.
    assert detect_languages(["Simba and Kenya tonight at the stadium, who is coming?"]) == ["en"]


def test_belarusian_answer_with_only_ukrainian_letters_is_ukrainian():
    # fastText says Belarusian (0.80); і without ы, э or ў is Ukrainian.
    assert detect_languages(["на добраніч усім 😴"]) == ["uk"]


def test_swahili_possessives_are_marker_words():
    texts = ["asante sana ndugu zangu"]  # fastText: Dutch 0.78, then Turkish from the word lists
    assert [c for c, _ in detect_languages_scored(texts, cascade=False)] == ["sw"]
    assert detect_languages(texts) == ["sw"]


def test_lingua_also_weighs_the_word_lists_choice():
    # Romanian without accents: fastText's three best are Czech, Slovenian and Estonian; the word lists find
    # Romanian, which Lingua must be allowed to choose (it chose Estonian among fastText's three).
    texts = ["zbor anulat si nimeni nu ne spune nimic, rusine", "noapte buna tuturor 😴"]
    assert detect_languages(texts) == ["ro", "ro"]
    assert [c for c, _ in detect_languages_scored(texts, cascade=False)] == ["ro", "ro"]


def test_romanised_hindi_is_hindi_and_plain_english_stays_english():
    assert detect_languages(
        [
            "yaar ye match toh bahut accha tha, kya baat hai",
            "Thanks so much for helping us get home safely!",
            "bhai mujhe nahi pata ki kal kya hoga",
            "The embassy will be closed tomorrow for the national holiday.",
        ]
    ) == ["hi", "en", "hi", "en"]


def test_italian_words_that_look_like_hindi_markers_stay_italian():
    # "hai" and "mai" are Hinglish markers and everyday Italian words.
    assert detect_languages(["non hai mai visto una cosa del genere, te lo giuro"]) == ["it"]


def test_shouted_italian_and_portuguese_are_not_english():
    assert detect_languages(
        [
            "GOVERNO: IL PRESIDENTE CHIEDE APPOGGIO AI PARTITI PER LA RIFORMA",
            "NÃO ACREDITO QUE ELES PERDERAM DE NOVO #Brasil",
        ]
    ) == ["it", "pt"]


def test_scripts_settle_what_fasttext_gets_wrong_on_short_posts():
    assert detect_languages(
        [
            "谢谢大家的祝福 ❤️ https://t.co/x",  # Han only: Chinese, whatever the emoji and link suggest
            "大使館は明日休館です",  # kana: Japanese
            "Посольство завтра буде зачинене через державне свято.",  # і, є: Ukrainian, not Russian
            "کیا زبردست میچ تھا!!! 🏏",  # ھ: Urdu, not Persian
        ]
    ) == ["zh", "ja", "uk", "ur"]


def test_word_frequencies_separate_close_languages():
    assert detect_languages(
        [
            "A embaixada estará fechada amanhã por causa do feriado.",
            "Ada sesiapa tahu sama ada lapangan terbang sudah dibuka semula selepas ribut?",
            "Ada yang tahu apakah bandara sudah dibuka lagi setelah badai?",
        ]
    ) == ["pt", "ms", "id"]


def test_codes_are_iso_639_1_and_confidence_is_bounded():
    scored = detect_languages_scored(["مرحبا بكم في السفارة", "😀😀", "http://t.co/x @user", "kya baat hai yaar"])
    assert scored[0][0] == "ar" and 0.5 < scored[0][1] <= 1.0
    assert scored[1] == ("und", 0.0)
    assert scored[2] == ("und", 0.0)
    assert scored[3][0] == "hi" and 0.5 <= scored[3][1] <= 1.0


def test_fast_tier_keeps_its_speed_budget_order_of_magnitude():
    # The enrichment budget wants >= 25,000 posts/s on one idle core; a shared test machine is slower and
    # noisier, so this only guards against an order-of-magnitude regression (e.g. Lingua in the fast tier).
    texts, _ = _fixture("langid_posts")
    detect_languages_scored(texts, cascade=False)
    batch = texts * 10
    start = time.process_time()
    detect_languages_scored(batch, cascade=False)
    assert len(batch) / (time.process_time() - start) > 3000


def test_word_lists_bring_in_a_language_fasttext_did_not_name():
    # fastText calls this short Brazilian TV post English; "vcs", "viram" are Portuguese words.
    assert detect_languages(["Vcs viram o Pedro? #BBB23"]) == ["pt"]


def test_swahili_marker_words_settle_close_calls():
    texts = ["mvua kubwa leo, hakuna umeme mtaa wetu", "asante sana rafiki yangu 🙏", "habari yako, uko wapi sasa?"]
    assert [c for c, _ in detect_languages_scored(texts, cascade=False)] == ["sw", "sw", "sw"]
    assert detect_languages(texts) == ["sw", "sw", "sw"]


def test_hinglish_markers_count_even_when_fasttext_is_sure_of_another_language():
    # fastText is sure this is French; "abhi" and "ghar" are Hindi marker words ("hai" is Italian too).
    assert detect_languages(["Abhi ghar par hai"]) == ["hi"]
    assert detect_languages(["non hai mai visto una cosa del genere, te lo giuro"]) == ["it"]


def test_short_hinglish_fasttext_calls_italian_goes_to_the_hinglish_model():
    # fastText is sure this is Italian and "kahan" is the only marker: the romanised-Hindi model decides.
    # Markers that are Italian words ("hai") do not send short Italian there.
    italian = ["Hai ragione", "Che hai?", "hai capito", "Tu hai", "Hai fame?", "Non hai capito niente"]
    assert detect_languages(["vishal kahan hai"] + italian) == ["hi"] + ["it"] * len(italian)


def test_names_retweet_marks_and_english_words_are_not_taken_for_swahili_indonesian_or_hindi():
    """False positives of the marker words and the word-list candidate, found in review on CrisisLexT26 posts."""
    texts = [
        "RT @ShyhiemB: #PrayForBoston RT",  # "rt" is in the Indonesian list: not evidence of a language
        "Tu es la femme de ma vie, Mimi",  # a name and short Romance words are not Swahili
        "Jambo Jambo, welcome to Kenya safari",
        "Jab we met is my favourite movie",  # a film title is not Hinglish
        "Flood warning until 20:42h, stay indoors na",
    ]
    assert detect_languages(texts) == ["en", "fr", "en", "en", "en"]


@pytest.mark.parametrize("cascade", [False, True], ids=["fast", "accurate"])
def test_indian_english_is_not_taken_for_hinglish(cascade):
    # The Hinglish model was once trained with the English tweets of UMSAB's Hindi folder as Hindi, and gave
    # posts like these 0.95-0.99.
    texts = [
        "rt @bcci: #indvsaus india win the toss and elect to bat first at the mcg",
        "huge celebrations in the stands after kohli's fifty #cwc",
        "#budget2026 what about the railway fares, minister?",
        "spotted at the delhi book fair, stall no. 12 #blockbuster",
    ]
    codes = [code for code, _ in detect_languages_scored(texts, cascade=cascade)]
    assert codes == ["en"] * 4
    # Hindi sentences with few marker words still are Hindi.
    assert [c for c, _ in detect_languages_scored(["ghar jake start karunga", "kal milte hain yaar"], cascade)] == [
        "hi", "hi"]


@pytest.mark.parametrize("cascade", [False, True], ids=["fast", "accurate"])
def test_arabic_is_not_taken_for_persian(cascade):
    texts = [
        # Presentation forms (the shapes letters take inside a word), as some keyboards and PDFs give them:
        "\ufe8d\ufef5\ufee5 \ufef3\ufee8\ufeec\ufebe \ufe97\ufea4\ufeaa\ufef1 \ufe87\ufef3\ufeae\ufe8d\ufee5",
        "حد عنده ويندوز 10 ؟",  # short dialect Arabic, no Persian letter: fastText says Persian
        "جستن بيبر؟ http://t.co/x",
        "کسی می‌دونه چی شده؟",  # Persian letters: Persian
        # Persian written without any Persian-only letter, but with "است" (is) and "خوب" (good), which Arabic
        # does not use: Persian ("hello friends, things in Tehran are good")
        "سلام دوستان، اوضاع در تهران خوب است",
    ]
    assert [c for c, _ in detect_languages_scored(texts, cascade=cascade)] == ["ar", "ar", "ar", "fa", "fa"]


@pytest.mark.parametrize("cascade", [False, True], ids=["fast", "accurate"])
def test_tweeted_portuguese_that_fasttext_calls_vietnamese_is_portuguese(cascade):
    # fastText reads "vai ... hj" without accents as Vietnamese (0.86); the tweet-language model knows tweeted
    # Portuguese. It must not take a Spanish post with a look-alike show hashtag, or Catalan and Galician, along.
    texts = [
        "Vai sair hj o Pedro, certeza #MasterChefBR",
        "jajaja q risa me da #MasterChefMX",
        "Bon dia a tothom! Avui fa sol a Barcelona",
        "Moitas grazas pola axuda, veciños e veciñas de Lugo",
    ]
    assert [c for c, _ in detect_languages_scored(texts, cascade=cascade)] == ["pt", "es", "ca", "gl"]


def test_without_the_tweet_language_model_the_cascade_still_answers(monkeypatch: pytest.MonkeyPatch):
    from legation.nlp import language

    monkeypatch.setitem(language._small_models, "latin.npz", None)  # as if latin.npz were missing
    assert detect_languages(["Vai sair hj o Pedro, certeza #MasterChefBR", "Hello there, friends"])[1] == "en"


@pytest.mark.parametrize("cascade", [False, True], ids=["fast", "accurate"])
def test_a_trailing_exclamation_mark_does_not_make_short_posts_italian(cascade):
    # Glued to a word, "!" left fastText only the punctuation's n-grams: "hi!", "merci!", "hola!" were Italian.
    texts = ["Hola!", "hola!", "Hola!!", "Hola :)", "Merci!", "Hi!"]
    codes = [c for c, _ in detect_languages_scored(texts, cascade=cascade)]
    assert codes[:5] == ["es", "es", "es", "es", "fr"]
    assert codes[5] == "und"  # nothing fastText knows: undetermined, not a confident wrong language


@pytest.mark.parametrize("cascade", [False, True], ids=["fast", "accurate"])
def test_short_greetings_are_not_taken_for_romanised_hindi(cascade):
    # The romanised-Hindi model called these Hindi at 0.77-0.9998; short Hinglish with a marker word still is Hindi.
    texts = ["hi", "apa kabar?", "Kumusta ka?", "kal milte hain yaar"]
    codes = [c for c, _ in detect_languages_scored(texts, cascade=cascade)]
    assert codes[0] == "und" and codes[1] in ("id", "ms") and codes[2] == "tl" and codes[3] == "hi"


@pytest.mark.parametrize("cascade", [False, True], ids=["fast", "accurate"])
def test_arabizi_with_digit_letters_is_arabic_and_ordinals_are_not(cascade):
    texts = [
        "3ayez a3raf eh elly 7asal",
        "el 7amdulillah kwayes",
        "harden got 25pts in the 3rd, 2nd half starts at 9",
        "Batman 44 releases on the 9th, mp3 and 3D versions",
    ]
    assert [c for c, _ in detect_languages_scored(texts, cascade=cascade)] == ["ar", "ar", "en", "en"]


@pytest.mark.parametrize("cascade", [False, True], ids=["fast", "accurate"])
def test_short_greetings_check_set(cascade):
    # langid_short_check.tsv: 150 short greetings and phrases in 35 languages (Arabizi included), written before
    # the 2026-12-06 changes and scored before (130 / 150 in both tiers) and after (137 fast / 135 accurate).
    accuracy, wrong = _accuracy("langid_short_check", cascade)
    assert accuracy >= 0.89, wrong
