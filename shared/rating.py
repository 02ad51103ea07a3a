"""RAG ratings of the national policy."""

from __future__ import annotations

from enum import StrEnum


class Rating(StrEnum):
    BLUE = "Blue"  # an inpatient in a mental health hospital now
    RED = "Red"  # immediate risk of admission; risks cannot be managed in the community
    AMBER = "Amber"  # risk of admission without urgent intervention
    GREEN = "Green"  # risks currently managed in the community

    @classmethod
    def choices(cls) -> dict[str, str]:
        """How a form may write each rating: its name, or the letter a drop-down stores
        (`A` for Amber)."""
        return {
            **{rating.value.lower(): rating.value for rating in cls},
            **{rating.value[0].lower(): rating.value for rating in cls},
        }

    @classmethod
    def parse(cls, text: str) -> Rating | None:
        cleaned = text.strip().lower()
        for rating in cls:
            if rating.value.lower() == cleaned:
                return rating
        return None
