from __future__ import annotations

import pytest

from legation.nlp import classify_crisis, crisis_categories
from legation.nlp.crisis import CLASSES, COARSE_OF

# Hand-written posts (not from HumAID), one or more per class, written the way people tweet in a disaster.
EXAMPLES = [
    ("Please stay indoors and avoid the coast, the storm surge warning is in effect until Friday",
     "caution_and_advice"),
    ("Thousands of residents evacuated from their homes as the river keeps rising, shelters are full",
     "displaced_people_and_evacuations"),
    ("The bridge collapsed and roads are destroyed, power lines down across the county",
     "infrastructure_and_utility_damage"),
    ("Death toll rises to 45, hundreds injured after the earthquake", "injured_or_dead_people"),
    ("My sister is missing since the fire, last seen near the school, please share", "missing_or_found_people"),
    ("We urgently need drinking water and food at the stadium, babies have no formula",
     "requests_or_urgent_needs"),
    ("Volunteers are collecting donations, text GIVE to donate to the relief fund",
     "rescue_volunteering_or_donation_effort"),
    ("Our thoughts and prayers are with everyone affected by the hurricane, stay strong",
     "sympathy_and_support"),
    ("Check out my new song on spotify lol", "not_humanitarian"),
]


@pytest.mark.parametrize("tier", ["fast", "accurate"])
def test_hand_written_crisis_posts_get_their_class(tier):
    pred = crisis_categories([t for t, _ in EXAMPLES], tier=tier)
    correct = sum(p == gold for p, (_, gold) in zip(pred, EXAMPLES, strict=True))
    assert correct >= 7, list(zip(pred, [g for _, g in EXAMPLES], strict=True))


def test_labels_are_the_ten_humaid_classes_and_all_map_to_coarse_categories():
    pred = classify_crisis(["flood", "fire"], tier="fast")
    assert sorted(pred.classes) == sorted(CLASSES)
    assert set(COARSE_OF) == set(CLASSES)
