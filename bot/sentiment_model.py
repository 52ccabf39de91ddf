"""The trained part of sentiment: calibrated P(negative) from vectors the bot already has.

Each head is one logistic function over a message's sentence vector (MiniLM for English, the
Han model's e5 vector for Chinese) and the rule-based readings (VADER or the Chinese lexicon and
SnowNLP, the customer-service cues). Scaling and the Platt calibration are folded into its
weights at training time (benchmarks/train_sentiment.py), so predicting is one dot product.
A message whose vector is missing (no Han model configured, or a caller without vectors) gets
the rules-only head of its language, trained and calibrated the same way.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np
import numpy.typing as npt

__all__ = ["HEADS_FILE", "HeadSet", "LinearHead", "head_key"]

HEADS_FILE = "heads.npz"

Floats = npt.NDArray[np.float32]


def head_key(language: str, block: str) -> str:
    """``en-main``, ``zh-han``, ``en-rules`` ...: which language and which vector it reads."""
    return f"{language}-{block}"


@dataclass(frozen=True)
class LinearHead:
    weights: Floats  # vector dimensions first, then the rule features
    bias: float
    threshold: float  # P(negative) at or above which the message is labelled negative

    def probability(self, features: Floats) -> float:
        if features.shape != self.weights.shape:
            raise ValueError(f"expected {self.weights.shape[0]} features, got {features.shape[0]}")
        z = float(np.dot(self.weights, features)) + self.bias
        # Overflow-safe logistic.
        return 1.0 / (1.0 + math.exp(-z)) if z >= 0 else math.exp(z) / (1.0 + math.exp(z))


@dataclass(frozen=True)
class HeadSet:
    version: str
    heads: dict[str, LinearHead]

    @classmethod
    def load(cls, path: Path | None = None) -> HeadSet:
        """The heads shipped in the package, or those in ``path`` (a training run's output)."""
        source = path or Path(str(resources.files("bot") / "sentiment_model" / HEADS_FILE))
        with np.load(source, allow_pickle=False) as data:
            version = str(data["version"])
            keys = [str(k) for k in data["keys"]]
            heads = {
                key: LinearHead(
                    weights=np.asarray(data[f"{key}/weights"], dtype=np.float32),
                    bias=float(data[f"{key}/bias"]),
                    threshold=float(data[f"{key}/threshold"]),
                )
                for key in keys
            }
        return cls(version, heads)

    def save(self, path: Path) -> None:
        arrays: dict[str, npt.NDArray[np.generic]] = {
            "version": np.array(self.version),
            "keys": np.array(sorted(self.heads)),
        }
        for key, head in self.heads.items():
            arrays[f"{key}/weights"] = head.weights.astype(np.float32)
            arrays[f"{key}/bias"] = np.array(head.bias)
            arrays[f"{key}/threshold"] = np.array(head.threshold)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as handle:
            np.savez_compressed(handle, **arrays)  # type: ignore[arg-type]
