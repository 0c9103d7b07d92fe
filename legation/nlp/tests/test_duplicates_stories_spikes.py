from __future__ import annotations

import json
import os
import subprocess
import sys

from legation.nlp import (
    DuplicateIndex,
    SpikeDetector,
    StoryClusterer,
    detect_spikes,
    near_duplicate_groups,
    signatures,
)


def test_retweets_and_copy_paste_are_grouped_but_different_posts_are_not():
    groups = near_duplicate_groups(
        [
            "RT @bob: Massive flooding on Main Street, stay away! http://t.co/x",
            "Massive flooding on Main Street, stay away!",
            "Massive flooding on Main Street stay away!!! #flood",
            "The embassy is open today",
            "",
            "",
        ]
    )
    assert groups == [0, 0, 0, 3, 4, 5]


def test_index_remembers_earlier_batches_by_key():
    index = DuplicateIndex()
    sms = "URGENT send 50 dollars to this number to free your relative at the border"
    first = index.check_and_add(["a1", "a2"], signatures([sms, "Nothing to see here today"]))
    assert first == [None, None]
    later = index.check_and_add(["b1"], signatures([sms + " now"]))
    assert later == ["a1"]


def test_signatures_are_stable_across_processes():
    sig = signatures(["same text every time"])[0]
    code = "from legation.nlp import signatures; print(signatures(['same text every time'])[0].tolist())"
    env = {**os.environ, "PYTHONHASHSEED": "123"}
    other = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert sig.dtype.name == "uint32"
    assert json.loads(other.stdout) == sig.tolist()


def test_stories_group_related_posts_and_separate_unrelated_ones():
    clusterer = StoryClusterer()
    ids = clusterer.add(
        [
            "Earthquake hits Istanbul, buildings collapsed in Avcilar",
            "Strong earthquake in Istanbul: buildings collapsed, people in the streets",
            "New trade agreement signed between Kenya and Japan",
            "Istanbul earthquake: rescue teams search collapsed buildings",
            "Kenya and Japan sign trade agreement in Nairobi",
        ]
    )
    assert ids[0] == ids[1] == ids[3]
    assert ids[2] == ids[4] != ids[0]
    assert clusterer.stories[ids[0]].size == 3


def test_stories_form_in_hindi_chinese_japanese_and_thai():
    # Hindi words keep their vowel signs (before, every letter was a "word" and no Hindi post had terms);
    # Chinese, Japanese and Thai, written without spaces, are read as overlapping pairs of letters.
    posts = [
        ["दिल्ली में भारी बाढ़, सैकड़ों लोग फंसे", "दिल्ली में बाढ़ से सैकड़ों लोग फंसे हुए हैं",
         "मुंबई में क्रिकेट मैच आज रात", "दिल्ली बाढ़: सैकड़ों लोग फंसे, मदद चाहिए"],
        ["北京市发生地震，请大家注意安全", "北京发生地震了，大家注意安全", "上海今天天气晴朗", "北京地震，请注意安全"],
        ["東京で大きな地震、電車が止まっています", "東京で地震、電車が止まっています", "大阪のラーメンが美味しい",
         "東京 地震 電車止まる"],
        ["น้ำท่วมกรุงเทพ ต้องการน้ำดื่ม", "น้ำท่วมหนักที่กรุงเทพ ต้องการน้ำดื่มด่วน", "ฟุตบอลไทยชนะเมื่อคืนนี้",
         "กรุงเทพน้ำท่วม ต้องการน้ำดื่ม"],
    ]
    for texts in posts:
        ids = StoryClusterer().add(texts)
        assert ids[0] == ids[1] == ids[3] != 0, (texts, ids)
        assert ids[2] not in (0, ids[0]), (texts, ids)


def test_a_spike_is_flagged_once_the_baseline_is_known():
    flags = detect_spikes([5, 6, 4, 5, 7, 5, 6, 60, 6, 5])
    assert flags == [False] * 7 + [True] + [False] * 2


def test_spikes_per_key_pick_the_key_that_jumps():
    detector = SpikeDetector()
    for _ in range(6):
        assert detector.update({"flood": 3, "embassy": 20}) == []
    spikes = detector.update({"flood": 80, "embassy": 22})
    assert [s.key for s in spikes] == ["flood"]
    assert spikes[0].expected < 5
