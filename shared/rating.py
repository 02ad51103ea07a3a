"""RAG ratings of the national policy."""

from __future__ import annotations

from enum import StrEnum


class Rating(StrEnum):
    BLUE = "Blue"  # an inpatient in a mental health hospital now
    RED = "Red"  # immediate risk of admission; risks cannot be managed in the community
    AMBER = "Amber"  # risk of admission without urgent intervention
    GREEN = "Green"  # risks currently managed in the community

    @classmethod
    def parse(cls, text: str) -> Rating | None:
        cleaned = text.strip().lower()
        for rating in cls:
            if rating.value.lower() == cleaned:
                return rating
        return None
