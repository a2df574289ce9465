"""The similar-open-wish rule: same category, similar text, within about a kilometre."""

from __future__ import annotations

from rules.similar import WishSketch, distance_km, find_similar_wish, text_similarity

HOME = (31.2304, 121.4737)
NEAR = (31.2350, 121.4737)  # about 500 m north
FAR = (31.2600, 121.4737)  # about 3.3 km north


def test_distance() -> None:
    assert 0.4 < distance_km(HOME, NEAR) < 0.6
    assert distance_km(HOME, FAR) > 3


def test_similar_texts_score_higher() -> None:
    assert text_similarity("小区停水三天了，老人没水做饭", "小区停水好几天，老人做饭没水") > 0.3
    assert text_similarity("小区停水三天了", "想学用手机挂号") < 0.1


def test_the_nearby_similar_wish_of_the_same_category_is_found() -> None:
    draft = WishSketch(0, "hardship_help", "小区停水三天了，老人没水做饭", location=HOME)
    candidates = [
        WishSketch(1, "hardship_help", "小区停水三天了，老人没水做饭", location=FAR),
        WishSketch(2, "environment", "小区停水三天了，老人没水做饭", location=NEAR),
        WishSketch(3, "hardship_help", "想请人修一下路灯", location=NEAR),
        WishSketch(4, "hardship_help", "小区停水好几天，老人做饭没水", location=NEAR),
    ]
    found = find_similar_wish(draft, candidates)
    assert found is not None
    assert found.id == 4


def test_without_locations_the_area_decides() -> None:
    draft = WishSketch(0, "free_clinic", "想请医生来村里量血压", area="桃园村")
    same_area = WishSketch(7, "free_clinic", "请医生来村里给老人量血压", area="桃园村")
    other_area = WishSketch(8, "free_clinic", "请医生来村里给老人量血压", area="石桥乡")
    assert find_similar_wish(draft, [other_area]) is None
    assert find_similar_wish(draft, [other_area, same_area]) == same_area
