"""Team outfits: colours, headwear and faces of counter-terrorists and terrorists."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from yoloshrink.datasets.synthetic.common import Color, color_between, jitter, pick, pick_color


@dataclass(frozen=True)
class Outfit:
    """Colours and head style of one figure."""

    head: Color
    headwear: str  # helmet | beanie | hair | scarf | none
    headwear_color: Color
    face: str  # skin | goggles | slit | none
    skin: Color
    torso: Color
    vest: Color | None
    sleeves: Color
    hands: Color
    legs: Color
    boots: Color
    gun: Color


def _skin(rng: np.random.Generator) -> Color:
    """A skin tone."""
    tone = pick(rng, {"light": 1.0, "medium": 1.0, "dark": 0.7})
    return {
        "light": color_between(rng, (120, 150, 195), (160, 185, 225)),
        "medium": color_between(rng, (85, 115, 160), (115, 145, 190)),
        "dark": color_between(rng, (45, 60, 90), (70, 85, 120)),
    }[tone]


def ct_outfit(rng: np.random.Generator) -> Outfit:
    """Counter-terrorist: blue/blue-grey/charcoal uniform, helmet, dark gloves and boots."""
    style = pick(rng, {"navy": 3.0, "urban": 2.0, "dark": 1.0})
    uniform = {
        "navy": color_between(rng, (95, 45, 20), (150, 75, 45)),
        "urban": color_between(rng, (100, 88, 70), (130, 105, 88)),
        "dark": color_between(rng, (50, 42, 35), (72, 56, 46)),
    }[style]
    uniform = jitter(rng, uniform)
    helmet = jitter(
        rng,
        pick_color(
            rng,
            [
                ((105, 95, 80), (140, 118, 98)),
                ((70, 48, 30), (95, 65, 45)),
                ((38, 38, 40), (55, 55, 58)),
            ],
        ),
    )
    skin = _skin(rng)
    face = pick(rng, {"skin": 3.0, "goggles": 1.0, "slit": 0.6})
    head = skin if face != "slit" else color_between(rng, (25, 25, 28), (50, 50, 55))
    vest = jitter(
        rng,
        pick_color(
            rng,
            [
                ((50, 32, 18), (75, 48, 30)),
                ((28, 28, 30), (45, 45, 48)),
                ((95, 90, 80), (120, 110, 100)),
            ],
        ),
    )
    legs = (
        uniform
        if rng.random() < 0.6
        else jitter(rng, pick_color(rng, [((70, 70, 72), (100, 100, 102)), ((80, 45, 25), (110, 65, 40))]))
    )
    dark = color_between(rng, (22, 22, 24), (42, 42, 45))
    return Outfit(
        head,
        "helmet",
        helmet,
        face,
        skin,
        uniform,
        vest if rng.random() < 0.75 else None,
        uniform,
        dark,
        legs,
        color_between(rng, (18, 18, 20), (35, 35, 38)),
        color_between(rng, (25, 25, 27), (50, 50, 52)),
    )


def t_outfit(rng: np.random.Generator) -> Outfit:
    """Terrorist: tan/brown/olive/khaki/maroon clothes, balaclava/scarf/beanie, often jeans."""
    shirt = jitter(
        rng,
        pick_color(
            rng,
            [
                ((110, 150, 175), (145, 180, 210)),  # tan
                ((35, 65, 100), (60, 95, 140)),  # brown
                ((45, 95, 95), (70, 120, 120)),  # olive
                ((85, 130, 150), (110, 150, 170)),  # khaki
                ((35, 35, 90), (50, 50, 120)),  # maroon
                ((150, 165, 175), (175, 185, 195)),  # dirty white
            ],
            weights=[3, 2.5, 2.5, 2, 1, 0.7],
        ),
    )
    skin = _skin(rng)
    head_style = pick(rng, {"balaclava": 4.5, "olive_balaclava": 1.5, "scarf": 2.5, "beanie": 1.0, "hair": 1.5})
    if head_style in ("balaclava", "olive_balaclava"):
        head = (
            color_between(rng, (20, 20, 22), (48, 48, 50))
            if head_style == "balaclava"
            else color_between(rng, (40, 70, 70), (60, 95, 95))
        )
        headwear, hw_color, face = "none", head, "slit"
    elif head_style == "scarf":
        head, headwear, face = skin, "scarf", "skin"
        hw_color = jitter(
            rng,
            pick_color(
                rng,
                [
                    ((35, 35, 120), (55, 55, 160)),
                    ((100, 140, 170), (130, 170, 200)),
                    ((30, 30, 32), (50, 50, 55)),
                ],
            ),
        )
    else:
        head, headwear, face = skin, head_style, "skin"
        hw_color = (
            color_between(rng, (15, 18, 22), (45, 50, 60))
            if head_style == "hair"
            else jitter(
                rng,
                pick_color(rng, [((30, 30, 32), (50, 50, 55)), ((40, 80, 80), (60, 105, 105))]),
            )
        )
    legs = jitter(
        rng,
        pick_color(
            rng,
            [
                ((105, 85, 55), (140, 110, 80)),  # jeans
                ((40, 65, 90), (65, 95, 125)),  # brown
                ((80, 120, 140), (105, 145, 165)),  # khaki
                ((45, 90, 90), (65, 115, 115)),  # olive
                ((28, 28, 30), (48, 48, 50)),  # black
            ],
            weights=[3, 2, 2, 1.5, 1],
        ),
    )
    vest = jitter(rng, pick_color(rng, [((28, 45, 70), (45, 65, 95)), ((40, 80, 80), (60, 100, 100))]))
    gun = (
        color_between(rng, (25, 45, 75), (45, 70, 110))
        if rng.random() < 0.5
        else color_between(rng, (25, 25, 27), (50, 50, 52))
    )
    hands = skin if rng.random() < 0.6 else color_between(rng, (25, 35, 45), (45, 60, 75))
    return Outfit(
        head,
        headwear,
        hw_color,
        face,
        skin,
        shirt,
        vest if rng.random() < 0.4 else None,
        shirt,
        hands,
        legs,
        pick_color(rng, [((25, 35, 50), (45, 60, 80)), ((18, 18, 20), (35, 35, 38))]),
        gun,
    )
