"""What is masked where: the personal-data policy, taken from ``Settings`` once at start.

The raw text stays in ``conversation_event`` (the record, and what a reveal reads). Every other
surface that shows or stores a customer's words asks the policy whether to mask them.
"""

from __future__ import annotations

from dataclasses import dataclass

from .pii import mask_personal_data
from .settings import PII_SURFACES, PiiSurface, Settings

__all__ = ["ALL_SURFACES", "PersonalDataPolicy", "Surface"]

Surface = PiiSurface
ALL_SURFACES: frozenset[Surface] = frozenset(PII_SURFACES)


@dataclass(frozen=True)
class PersonalDataPolicy:
    masked: frozenset[Surface] = ALL_SURFACES
    reveal_roles: frozenset[str] = frozenset({"supervisor", "admin"})

    @classmethod
    def of(cls, settings: Settings) -> PersonalDataPolicy:
        return cls(frozenset(settings.pii_mask), frozenset(settings.pii_reveal_roles))

    def masks(self, surface: Surface) -> bool:
        return surface in self.masked

    def shown(self, surface: Surface, text: str) -> str:
        """``text`` as ``surface`` may show or store it."""
        return mask_personal_data(text) if surface in self.masked else text

    def may_reveal(self, role: str) -> bool:
        return role in self.reveal_roles
