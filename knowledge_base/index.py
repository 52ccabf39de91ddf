"""The FAQ index: every published phrasing as a FAISS vector and a BM25 document, kept on disk.

Each phrasing (an entry's question or one of its alternatives) gets an int64 vector id; an
entry's score is its best phrasing's. Edits add and remove single vectors, never rebuild.
On disk, every save writes a new generation directory and then swaps the ``CURRENT`` pointer
with an atomic rename, so a process killed mid-save leaves the previous generation usable.
"""

from __future__ import annotations

import json
import os
import shutil
import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import faiss
import numpy as np
import numpy.typing as npt

from core.language import han_ratio

from .embeddings import Embedder, HanAwareEmbedder, encode_in_batches
from .lexical import BM25Index

__all__ = ["FaqIndex", "Hit", "IndexState", "IndexedEntry", "Neighbour", "PreparedEntry"]

Progress = Callable[[int, int], None]

# Below this many vectors an exact flat index answers in well under a millisecond; above it,
# an inverted-file index keeps a search at a few milliseconds.
_IVF_THRESHOLD = 20_000
_NPROBE = 16
_FORMAT = 1

# One query at a time is memory-bound; OpenMP threads only add contention (measured 5x slower
# for a single query on two cores).
faiss.omp_set_num_threads(1)


@dataclass(frozen=True)
class IndexedEntry:
    """What the index needs of a published FAQ entry."""

    entry_id: str
    language: str
    phrasings: tuple[str, ...]


@dataclass(frozen=True)
class PreparedEntry:
    """An entry with its embeddings computed, ready to be applied without any further failure."""

    entry: IndexedEntry
    vectors: npt.NDArray[np.float32]


@dataclass(frozen=True)
class Hit:
    entry_id: str
    score: float
    dense: float
    lexical: float
    phrasing: str
    language: str


@dataclass(frozen=True)
class Neighbour:
    """An indexed phrasing asked back with its own entry left out (``FaqIndex.neighbours``)."""

    entry_id: str
    language: str
    # The best other entry's fused score: what a question this knowledge base does not answer,
    # but that sits among its entries, scores here.
    score: float


@dataclass
class IndexState:
    model: str
    revision: int
    entries: int
    vectors: int
    kind: str


@dataclass
class _Phrasing:
    entry_id: str
    text: str
    language: str


class FaqIndex:
    def __init__(
        self,
        embedder: Embedder,
        directory: Path,
        *,
        han_embedder: Embedder | None = None,
        dense_weight_latin: float = 0.8,
        dense_weight_han: float = 0.1,
        han_model_weight: float = 0.5,
    ) -> None:
        """``embedder`` is the main model, whose vectors callers pass to ``search``.

        ``han_embedder``, a Chinese-capable model, adds a second block to each vector of a
        phrasing with Han characters (see ``HanAwareEmbedder``); one FAISS index holds both.
        """
        self._embedder = embedder
        self._vectors = HanAwareEmbedder(embedder, han_embedder)
        self._dir = directory
        self._weight_latin = dense_weight_latin
        self._weight_han = dense_weight_han
        self._han_model_weight = han_model_weight if han_embedder is not None else 0.0
        self._lock = threading.RLock()
        self._reset()

    def _reset(self) -> None:
        self._dense: faiss.Index = faiss.IndexIDMap2(faiss.IndexFlatIP(self._vectors.dim))
        self._lexical = BM25Index()
        self._phrasings: dict[int, _Phrasing] = {}
        self._entry_vids: dict[str, list[int]] = {}
        self._next_vid = 0
        self._revision = -1
        self._loaded = False

    # -- state -----------------------------------------------------------------------------

    @property
    def model(self) -> str:
        return self._vectors.name

    @property
    def vectors(self) -> HanAwareEmbedder:
        """What turns text into this index's vectors (both blocks)."""
        return self._vectors

    def state(self) -> IndexState:
        with self._lock:
            kind = "ivf" if isinstance(self._dense, faiss.IndexIVF) else "flat"
            return IndexState(
                model=self.model,
                revision=self._revision,
                entries=len(self._entry_vids),
                vectors=len(self._phrasings),
                kind=kind,
            )

    @property
    def revision(self) -> int:
        """The newest FAQ revision this index reflects; -1 before it is loaded or built."""
        return self._revision

    @property
    def loaded(self) -> bool:
        return self._loaded

    def is_current(self, revision: int) -> bool:
        with self._lock:
            return self._loaded and self._revision == revision

    def entry_ids(self) -> set[str]:
        with self._lock:
            return set(self._entry_vids)

    # -- building --------------------------------------------------------------------------

    def prepare(
        self, entries: list[IndexedEntry], progress: Progress | None = None
    ) -> list[PreparedEntry]:
        """Embed every phrasing in batches; the model is far faster on a batch than one by one."""
        texts = [text for entry in entries for text in entry.phrasings]
        vectors = encode_in_batches(self._vectors, texts, progress)
        prepared, offset = [], 0
        for entry in entries:
            count = len(entry.phrasings)
            prepared.append(PreparedEntry(entry, vectors[offset : offset + count]))
            offset += count
        return prepared

    def rebuild(
        self, entries: list[IndexedEntry], *, revision: int, progress: Progress | None = None
    ) -> None:
        texts = [text for entry in entries for text in entry.phrasings]
        vectors = encode_in_batches(self._vectors, texts, progress)
        with self._lock:
            self._reset()
            self._dense = _new_dense(self._vectors.dim, vectors)
            offset = 0
            for entry in entries:
                count = len(entry.phrasings)
                self._insert(PreparedEntry(entry, vectors[offset : offset + count]))
                offset += count
            self._lexical.build({vid: p.text for vid, p in self._phrasings.items()})
            self._revision = revision
            self._loaded = True
        if progress and not texts:
            progress(0, 0)

    def apply(self, *, upserts: list[PreparedEntry], removals: list[str], revision: int) -> None:
        """Bring single entries up to date; cheap enough to run on every edit."""
        with self._lock:
            for entry_id in [*removals, *(p.entry.entry_id for p in upserts)]:
                self._drop(entry_id)
            for prepared in upserts:
                for vid in self._insert(prepared):
                    self._lexical.add(vid, self._phrasings[vid].text)
            self._revision = revision

    def _insert(self, prepared: PreparedEntry) -> list[int]:
        entry = prepared.entry
        vids = list(range(self._next_vid, self._next_vid + len(entry.phrasings)))
        self._next_vid += len(vids)
        if vids:
            self._dense.add_with_ids(prepared.vectors, np.asarray(vids, dtype=np.int64))
        for vid, text in zip(vids, entry.phrasings, strict=True):
            self._phrasings[vid] = _Phrasing(entry.entry_id, text, entry.language)
        self._entry_vids[entry.entry_id] = vids
        return vids

    def _drop(self, entry_id: str) -> None:
        vids = self._entry_vids.pop(entry_id, [])
        if not vids:
            return
        # The SWIG wrapper accepts an id array; its stub only lists IDSelector.
        self._dense.remove_ids(np.asarray(vids, dtype=np.int64))  # type: ignore[arg-type]
        for vid in vids:
            del self._phrasings[vid]
            self._lexical.remove(vid)

    # -- searching -------------------------------------------------------------------------

    def search(
        self,
        query: str,
        *,
        k: int = 5,
        language: str | None = None,
        query_vector: npt.NDArray[np.float32] | None = None,
        han_vector: npt.NDArray[np.float32] | None = None,
    ) -> list[Hit]:
        """Entries ranked by fused score; the vectors, if given, come from ``encode_query``.

        fused = m * main cosine + h * Han-model similarity + (1 - m - h) * normalised BM25,
        where m and h slide with the query's share of Han characters. The Han model's cosine
        is rescaled from its ``similarity_floor`` to 1 onto 0 to 1, so every part of the sum
        reads on the same scale and the total can be thresholded.
        """
        han_weight = self._han_model_weight * han_ratio(query)
        if query_vector is None or (han_weight > 0 and han_vector is None):
            query_vector, han_vector = self._vectors.encode_query(query, query_vector)
        with self._lock:
            return self._search(query, query_vector, han_vector, k=k, language=language)

    def _search(
        self,
        query: str,
        query_vector: npt.NDArray[np.float32],
        han_vector: npt.NDArray[np.float32] | None,
        *,
        k: int,
        language: str | None = None,
        exclude: frozenset[int] = frozenset(),
    ) -> list[Hit]:
        """``search`` under the lock, with the vectors known, leaving out the ``exclude`` ids."""
        share = han_ratio(query)
        main_weight = self._weight_latin + (self._weight_han - self._weight_latin) * share
        han_weight = self._han_model_weight * share
        lexical_weight = max(0.0, 1.0 - main_weight - han_weight)
        if han_weight == 0:
            han_vector = None
        floor = self._vectors.han_floor
        pool = max(50, k * 10) + len(exclude)
        if not self._phrasings:
            return []
        probe = self._probe(query_vector, han_vector, main_weight, han_weight / (1 - floor))
        candidates = set(self._dense_ids(probe, pool))
        lexical = dict(self._lexical.search(query, pool))
        candidates.update(lexical)
        candidates &= self._phrasings.keys()
        candidates -= exclude
        if language:
            candidates = {v for v in candidates if self._phrasings[v].language == language}
        if not candidates:
            return []
        # Every candidate, from either retriever, gets its exact per-model similarities,
        # so a strong lexical match is never fused with a made-up dense score.
        vids = np.asarray(sorted(candidates), dtype=np.int64)
        stored = self._dense.reconstruct_batch(vids)
        main_dim = self._embedder.dim
        main_cos = np.maximum(stored[:, :main_dim] @ query_vector, 0.0)
        dense = main_weight * main_cos
        if han_vector is not None:
            han_cos = stored[:, main_dim:] @ han_vector
            dense += han_weight * np.clip((han_cos - floor) / (1 - floor), 0.0, 1.0)
        dense_share = main_weight + han_weight
        best: dict[str, Hit] = {}
        for row, (vid, d) in enumerate(zip(vids.tolist(), dense.tolist(), strict=True)):
            phrasing = self._phrasings[vid]
            lex = lexical.get(vid, 0.0)
            score = d + lexical_weight * lex
            current = best.get(phrasing.entry_id)
            if current is None or score > current.score:
                # ``dense`` is reported as the dense models' weighted mean, on 0 to 1.
                shown = d / dense_share if dense_share > 0 else float(main_cos[row])
                best[phrasing.entry_id] = Hit(
                    phrasing.entry_id, score, shown, lex, phrasing.text, phrasing.language
                )
        return sorted(best.values(), key=lambda hit: hit.score, reverse=True)[:k]

    def neighbours(
        self, *, limit: int, seed: int = 0, progress: Progress | None = None
    ) -> list[Neighbour]:
        """Up to ``limit`` indexed phrasings (a seeded sample) asked back as questions with their
        own entry left out: each plays a neighbouring question the knowledge base does not
        answer, and its best hit is what such a question scores here.

        Uses the stored vectors (e5's encoding is symmetric), so it encodes nothing; each search
        takes the lock on its own, so serving goes on meanwhile.
        """
        with self._lock:
            vids = sorted(self._phrasings)
        if len(vids) > limit:
            picked = np.random.default_rng(seed).choice(len(vids), size=limit, replace=False)
            vids = [vids[i] for i in sorted(picked.tolist())]
        main_dim = self._embedder.dim
        found: list[Neighbour] = []
        for done, vid in enumerate(vids, start=1):
            with self._lock:
                phrasing = self._phrasings.get(vid)
                if phrasing is not None:
                    stored = self._dense.reconstruct_batch(np.asarray([vid], dtype=np.int64))[0]
                    han = stored[main_dim:] if self._vectors.han is not None else None
                    if han is not None and han_ratio(phrasing.text) == 0:
                        han = None
                    hits = self._search(
                        phrasing.text,
                        stored[:main_dim],
                        han,
                        k=1,
                        language=phrasing.language,
                        exclude=frozenset(self._entry_vids[phrasing.entry_id]),
                    )
                    found.append(
                        Neighbour(
                            phrasing.entry_id, phrasing.language, hits[0].score if hits else 0.0
                        )
                    )
            if progress:
                progress(done, len(vids))
        return found

    def phrasings(self) -> tuple[list[str], list[str], npt.NDArray[np.float32]]:
        """Every indexed phrasing's text and entry id with its stored vector, in one snapshot.

        Read back from the index, so learning from the knowledge base encodes nothing again.
        """
        with self._lock:
            vids = sorted(self._phrasings)
            if not vids:
                return [], [], np.zeros((0, self._vectors.dim), dtype=np.float32)
            stored = self._dense.reconstruct_batch(np.asarray(vids, dtype=np.int64))
            texts = [self._phrasings[v].text for v in vids]
            entries = [self._phrasings[v].entry_id for v in vids]
        return texts, entries, np.ascontiguousarray(stored, dtype=np.float32)

    def encode_query(
        self, query: str
    ) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32] | None]:
        """The main model's vector (the one intents use too) and, for Han text, the Han one."""
        return self._vectors.encode_query(query)

    def _probe(
        self,
        main_vector: npt.NDArray[np.float32],
        han_vector: npt.NDArray[np.float32] | None,
        main_weight: float,
        han_scale: float,
    ) -> npt.NDArray[np.float32]:
        """One FAISS query whose inner product ranks phrasings as the fused dense part does."""
        if self._vectors.han is None:
            return main_vector
        if han_vector is None:
            han_vector = np.zeros(self._vectors.dim - self._embedder.dim, dtype=np.float32)
            han_scale = 0.0
        if main_weight <= 0 and han_scale <= 0:
            main_weight = 1.0
        probe = np.concatenate([main_weight * main_vector, han_scale * han_vector])
        return np.ascontiguousarray(probe, dtype=np.float32)

    def _dense_ids(self, vector: npt.NDArray[np.float32], k: int) -> list[int]:
        _, ids = self._dense.search(vector.reshape(1, -1), min(k, len(self._phrasings)))
        return [int(i) for i in ids[0] if i >= 0]

    # -- persistence -----------------------------------------------------------------------

    def save(self) -> None:
        with self._lock:
            self._dir.mkdir(parents=True, exist_ok=True)
            generation = f"gen-{self._revision:012d}-{os.getpid()}-{threading.get_ident()}"
            target = self._dir / generation
            shutil.rmtree(target, ignore_errors=True)
            target.mkdir()
            faiss.write_index(self._dense, str(target / "dense.faiss"))
            meta = {
                "format": _FORMAT,
                "model": self.model,
                "dim": self._vectors.dim,
                "revision": self._revision,
                "next_vid": self._next_vid,
                "phrasings": {str(vid): asdict(p) for vid, p in self._phrasings.items()},
            }
            (target / "meta.json").write_text(json.dumps(meta, ensure_ascii=False))
            _fsync_dir(target)
            pointer = self._dir / "CURRENT.tmp"
            pointer.write_text(generation)
            os.replace(pointer, self._dir / "CURRENT")
            _fsync_dir(self._dir)
            # Another process sharing this directory may be writing a generation of the same
            # revision right now: only older ones are certainly no one's any more.
            for old in self._dir.glob("gen-*"):
                if old.name != generation and _generation_revision(old.name) < self._revision:
                    shutil.rmtree(old, ignore_errors=True)

    def load(self) -> bool:
        """Load the saved generation; False if there is none, or it is unreadable or foreign."""
        try:
            generation = (self._dir / "CURRENT").read_text().strip()
            directory = self._dir / generation
            meta = json.loads((directory / "meta.json").read_text())
            if meta.get("format") != _FORMAT or meta.get("model") != self.model:
                return False
            if meta.get("dim") != self._vectors.dim:
                return False
            dense = faiss.read_index(str(directory / "dense.faiss"))
            if isinstance(dense, faiss.IndexIVF):
                dense.nprobe = _NPROBE
        except (OSError, ValueError, RuntimeError):
            return False
        with self._lock:
            self._reset()
            self._dense = dense
            self._phrasings = {int(v): _Phrasing(**p) for v, p in meta["phrasings"].items()}
            for vid, phrasing in sorted(self._phrasings.items()):
                self._entry_vids.setdefault(phrasing.entry_id, []).append(vid)
            self._lexical.build({vid: p.text for vid, p in self._phrasings.items()})
            self._next_vid = int(meta["next_vid"])
            self._revision = int(meta["revision"])
            self._loaded = True
        return True


def _new_dense(dim: int, vectors: npt.NDArray[np.float32]) -> faiss.Index:
    if len(vectors) < _IVF_THRESHOLD:
        return faiss.IndexIDMap2(faiss.IndexFlatIP(dim))
    nlist = int(4 * np.sqrt(len(vectors)))
    quantizer = faiss.IndexFlatIP(dim)
    ivf = faiss.IndexIVFFlat(quantizer, dim, nlist, faiss.METRIC_INNER_PRODUCT)
    ivf.train(vectors)
    ivf.nprobe = _NPROBE
    # A hashtable direct map lets lexical candidates be scored exactly and still be removed.
    ivf.set_direct_map_type(faiss.DirectMap.Hashtable)  # type: ignore[attr-defined]
    # IVF indexes take ids directly and support remove_ids without an IDMap wrapper.
    return ivf


def _generation_revision(name: str) -> int:
    try:
        return int(name.split("-")[1])
    except (IndexError, ValueError):
        return -1


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
