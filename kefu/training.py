"""Everything the product derives from the knowledge base, refreshed in one place.

The server's start, ``kefu train`` (and the imports that change intents) and ``kefu eval
decisions`` all call ``refresh_models``, so an evaluation measures exactly the models a server
would serve: a step added here is run, and measured, everywhere.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass

from bot.intents import IntentModel

from .services import Services

__all__ = ["ProgressSteps", "Refreshed", "refresh_models"]

Progress = Callable[[int, int], None]
# Given a step's description, a context that yields its ``(done, total)`` callback
# (``kefu.progress.progress_bar`` fits).
ProgressSteps = Callable[[str], AbstractContextManager[Progress]]


@dataclass(frozen=True)
class Refreshed:
    index_rebuilt: bool
    # The model now serving (None while the knowledge base has too few intents).
    intent_model: IntentModel | None
    # The answer model learned from the FAQ entries (None while there are too few of them).
    answer_model: IntentModel | None = None


def refresh_models(
    services: Services, *, progress: ProgressSteps | None = None, retrain: bool = False
) -> Refreshed:
    """Rebuild the FAQ index if it lags the database, then train and activate the intent model
    and the answer model.

    Without ``retrain`` a saved model that fits the knowledge base's intents is loaded instead
    of trained again (a server restarting); ``retrain`` always trains a new one (``kefu train``).
    """
    step = progress or _quiet
    with step("Checking the FAQ index") as update:
        rebuilt = services.kb.ensure_index(progress=update)
    with step("Training the intent classifier") as update:
        if retrain:
            services.intents.train(progress=update)
        else:
            services.intents.start(progress=update)
    with step("Learning the knowledge base's phrasings") as update:
        services.answers.start(progress=update, retrain=retrain)
    return Refreshed(
        index_rebuilt=rebuilt,
        intent_model=services.intents.model,
        answer_model=services.answers.model,
    )


@contextmanager
def _quiet(_description: str) -> Iterator[Progress]:
    def update(_done: int, _total: int) -> None:
        return None

    yield update
