"""Message sentiment for English and Chinese customers: a calibrated P(negative) and a score.

Two layers. Rules read the message: VADER (English) or a customer-service lexicon plus SnowNLP
(Chinese, trusted only when confident and the message is long enough), then cues that matter in
support conversations (profanity, threats to leave, shouting, "!!!", repeated complaints) push
the score down. Everything works in VADER's unbounded "valence" space and is squashed once at
the end, so adding a cue always lowers the score and never saturates to exactly -1.

A trained head (``bot.sentiment_model``) then turns the sentence vector the bot already computed
for the message (MiniLM for English, the Han model's for Chinese) and the rules' readings into a
calibrated P(negative): rules alone missed most complaints worded without emotional words
("my parcel says delivered but it never came"). The label is negative when that probability
reaches the head's threshold, or when the rules see a strongly negative message. The score
stays the rules' intensity, pulled down only to a moderate level by the head, so that handing
off (bot.policy) still needs intensity or a worsening trend, not one plain complaint.
"""

from __future__ import annotations

import math
import re
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from core.language import detect_language

from .sentiment_model import HeadSet, head_key

__all__ = [
    "RULE_FEATURES",
    "RuleReading",
    "Sentiment",
    "SentimentAnalyzer",
    "SentimentRules",
    "SentimentTrend",
    "sentiment_trend",
]

Vector = npt.NDArray[np.float32]

_ALPHA = 15.0  # VADER's normalisation constant, reused so both languages share one scale
_MAX_CHARS = 1000  # models see at most this much; a chat message is far shorter
_SNOW_CHARS = 200  # SnowNLP costs about 0.1 ms per character
_STRONG_NEGATIVE = -0.5  # a rules score this low is negative without a cue


def _lexicon(spec: str) -> dict[str, float]:
    return {w: float(v) for w, v in (item.split(":") for item in spec.split())}


# Valence units: 1.2 alone takes a neutral message to about -0.30.
_CUE_WEIGHTS = _lexicon(
    "profanity:1.8 threat_to_leave:2.2 shouting:1.2 exclamations:1.2 repeated_complaint:1.5"
)
# Everyday support vocabulary VADER reads as emotional ("help", "please", "like" in
# "I'd like to", "cancel my order"); neutral requests must stay neutral.
_VADER_OVERRIDES = _lexicon(
    "help:0 please:0 support:0 like:0 want:0 no:0 yes:0.3 ok:0.3 cancel:0 cancelled:0 "
    "charged:0 problem:-0.8 problems:-0.8 error:-0.8"
)
_ZH_LEXICON = _lexicon(
    # negative
    "垃圾:-2.5 骗子:-3 骗人:-2.5 欺骗:-2.5 忽悠:-2.5 太差:-2.5 很差:-2 真差:-2 差劲:-2.5 "
    "气死:-3 生气:-2 愤怒:-3 投诉:-2 退钱:-1.8 什么破:-2.5 破玩意:-2.5 坑人:-2.5 坑爹:-2.5 "
    "被坑:-2.5 无语:-2 失望:-2 慢死了:-2.5 太慢:-1.8 很慢:-1.5 客服呢:-1.5 到底:-1.2 "
    "几天了:-1.5 怎么回事:-1.2 搞什么:-2 什么鬼:-2 恶心:-2.5 不爽:-2 烦死:-2.5 烦人:-2 "
    "糟糕:-2 糟透:-3 很烂:-2.5 太烂:-2.5 没人管:-2 没人理:-2 不理人:-2 敷衍:-2 假货:-2.5 "
    "离谱:-2.5 过分:-2 崩溃:-2 郁闷:-1.8 受不了:-2 后悔:-2 上当:-2.5 耽误:-1.5 浪费:-1.8 "
    "难用:-2 不行:-1.5 没用:-1.8 黑店:-3 奸商:-3 无良:-3 不好:-1.5 不靠谱:-2 坏了:-1.2 "
    "等了半天:-1.5 一直没:-1.2 怎么还没:-1.5 不像话:-2.5 "
    # positive
    "谢谢:1.5 感谢:1.8 多谢:1.5 不用谢:1 满意:2 好评:2 很快:1.5 不错:2 太好了:2.5 很好:2 "
    "挺好:1.8 非常好:2.5 真好:2 好用:1.8 方便:1.2 专业:1.5 耐心:1.5 热情:1.5 很棒:2 真棒:2 "
    "太棒:2.5 点赞:1.5 完美:2.5 喜欢:1.8 开心:2 高兴:2 解决了:1.5 辛苦了:1.5 给力:2 "
    "靠谱:1.5 没问题:1 放心:1.2 及时:1.2 周到:1.8 贴心:2 惊喜:2 值得:1.5 划算:1.5 实惠:1.5 "
    "舒服:1.5 优秀:2 帮大忙:2 有帮助:1.5"
)
_ZH_LENGTHS = sorted({len(w) for w in _ZH_LEXICON}, reverse=True)
_ZH_NEGATORS = "不没别未无"
_ZH_BOOSTERS = ("太", "非常", "特别", "超级", "真是", "极")
_HAN = re.compile(r"[\u4e00-\u9fff]")
_ZH_QUESTION = re.compile(r"[?？]|[吗呢么]\W*$|哪|什么时候|怎么|多少|是否|能不能|可不可以|有没有")

_PROFANITY = re.compile(
    # Lookarounds instead of \b: Han characters count as word characters, and "垃圾wtf" happens.
    r"(?<![a-z])(?:damn\w*|dammit|goddamn\w*|[a-z]*shit[a-z]*|crap[a-z]*|wtf|ffs|stfu|f+u+c+k+[a-z]*|"
    r"f[u*#@_-]{1,3}[c*#@_-]?k[a-z]*|fck[a-z]*|fuk[a-z]*|effing|frigging|bitch[a-z]*|asshole[a-z]*|bastards?|"
    r"pissed|screw (?:you|this|it)|tmd|nmsl|cnm)(?![a-z])|他妈|妈的|特么|尼玛|草泥马|卧槽|傻逼|"
    r"傻b|煞笔|脑残|智障|狗屎|去死|(?<![体节情])操(?![作心场练纵控守办持劳盘])|"
    r"(?<![可依停倚])靠(?![谱近边岸着山得])",
    re.IGNORECASE,
)
_ZH_SB = re.compile(r"(?<![A-Za-z])sb(?![A-Za-z])", re.IGNORECASE)  # only in Chinese: SB=Super Bowl
_THREAT = re.compile(
    r"\b(?:cancel(?:l?ing)?|close|delete)\s+(?:my|the|our)\s+(?:account|subscription|membership|"
    r"contract|service)|\b(?:never|won'?t|will not|not going to)\s+(?:be\s+)?(?:buy|order|shop|use|"
    r"com|return)\w*\b.{0,40}?\b(?:again|from you|here)\b|never again|(?:switch|switching|mov(?:e|"
    r"ing)|go(?:ing)?)\s+to\s+(?:a\s+|your\s+)?(?:competitor|another\s+(?:company|provider|store|"
    r"bank|carrier|service))|report(?:ing)?\s+(?:you\b|your\s+(?:company|store|business))|\bbbb\b|"
    r"better business bureau|\bftc\b|trading standards|consumer protection|ombudsman|"
    r"charge\s?back|dispute\s+(?:the|this)\s+charge|lawyer|attorney|\bsue\s+(?:you|your)|"
    r"\b(?:i'?ll|i will|going to)\s+sue\b|legal action|small claims|take my business elsewhere|"
    r"(?:bad|negative|1-star|one-star|one star)\s+review|lost (?:a|my) (?:customer|business)|"
    r"再也不|不会再(?:买|来|用|光顾)|以后(?:再也)?不(?:买|来|用)|消协|消费者协会|12315|工商局|"
    r"市场监管|差评|不买了|曝光|举报|起诉|律师|法院|黑猫投诉|注销账号|销户|换别家|去别家",
    re.IGNORECASE,
)
_REPEAT_STRONG = re.compile(
    r"already (?:told|said|explained|asked|sent)|told you (?:before|already|twice)|how many times"
    r"|for the (?:second|third|fourth|fifth|\d+(?:nd|rd|th)) time|again and again|yet again|"
    r"i keep (?:asking|telling|getting)|(?:asked|contacted you|called) (?:\w+ )?(?:twice|multiple "
    r"times|several times|\d+ times)|still (?:not|no|waiting|haven'?t|hasn'?t|don'?t|doesn'?t|"
    r"isn'?t|broken)|第[二三四五六七八九十几\d]+[次遍](?:了|问|说|联系|打|找|催)|说了多少[次遍]|已经说[过了]|跟你说过|"
    r"又是这样|(?:还是|仍然|依然)没|问了[几好多]+[次遍]",
    re.IGNORECASE,
)
_REPEAT_WEAK = re.compile(r"\bagain\b|\bstill\b|又|还是|仍然|依然", re.IGNORECASE)
_LONG_WORD = re.compile(r"(?<![A-Za-z])[A-Za-z]{3,}(?![A-Za-z])")
_EXCLAIM = re.compile(r"!{3,}|！[!！]+|[!！]+！|[?？][!！]|[!！][?？]")
_WORD = re.compile(r"[a-z0-9']+")


def _squash(valence: float) -> float:
    return valence / math.sqrt(valence * valence + _ALPHA)


def _unsquash(score: float) -> float:
    score = max(-0.999, min(0.999, score))
    return score * math.sqrt(_ALPHA / (1.0 - score * score))


@dataclass(frozen=True)
class Sentiment:
    label: str  # "negative" | "neutral" | "positive"
    score: float  # -1.0 (very negative) .. +1.0 (very positive)
    signals: tuple[str, ...]  # the cues that fired, in a fixed order
    negative: float = 0.0  # calibrated P(negative) from the trained head
    head: str = ""  # which head judged: "en-main", "zh-han", "en-rules", ...


# What the rules tell the trained head, in this order. English: VADER's compound, negative and
# positive shares; Chinese: the combined base, the lexicon alone and SnowNLP's polarity.
_CUES = ("profanity", "threat_to_leave", "shouting", "exclamations", "repeated_complaint")
RULE_FEATURES = ("base", "lexicon_a", "lexicon_b", "score", *_CUES, "question")


@dataclass(frozen=True)
class RuleReading:
    """What the rules make of one message, before the trained head."""

    score: float
    signals: tuple[str, ...]
    features: Vector


@dataclass(frozen=True)
class SentimentTrend:
    mean: float  # exponentially weighted: each step back in time counts 0.7x as much
    last: float
    slope: float  # least-squares slope per message over the last <= 5 scores
    worsening: bool
    count: int


class _Models:
    """VADER and SnowNLP, loaded on first use (SnowNLP takes seconds), once, thread-safely."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._vader: Callable[[str], dict[str, float]] | None = None
        self._snow: Callable[[str], float] | None = None

    def vader(self) -> Callable[[str], dict[str, float]]:
        if self._vader is None:
            with self._lock:
                if self._vader is None:
                    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

                    analyzer = SentimentIntensityAnalyzer()  # lexicon files ship in the wheel
                    analyzer.lexicon.update(_VADER_OVERRIDES)
                    self._vader = analyzer.polarity_scores
        return self._vader

    def snow(self) -> Callable[[str], float]:
        if self._snow is None:
            with self._lock:
                if self._snow is None:
                    from snownlp import sentiment  # model ships in the wheel

                    self._snow = lambda t: float(sentiment.classify(t))
        return self._snow


def _zh_lexicon_valence(text: str) -> tuple[float, int]:
    """Sum of lexicon valences with negation (不满意, 没问题) and boosters; longest match wins."""
    total, hits, i, last_end = 0.0, 0, 0, 0
    while i < len(text):
        term = next((text[i : i + n] for n in _ZH_LENGTHS if text[i : i + n] in _ZH_LEXICON), "")
        if not term:
            i += 1
            continue
        value = _ZH_LEXICON[term]
        window = re.split(r"[，。！？,.!?\s]", text[max(last_end, i - 3) : i])[-1]
        if any(c in window.replace("非常", "") for c in _ZH_NEGATORS):
            value *= -0.8 if value > 0 else -0.4  # "not good" is bad; "not bad" is only okay
        elif any(b in window for b in _ZH_BOOSTERS):
            value *= 1.3
        total, hits, i = total + value, hits + 1, i + len(term)
        last_end = i
    return total, hits


def _is_shouting(text: str) -> bool:
    # Acronyms (UPS, DHL, FAQ) are not shouting: capitals must also be a large share of words.
    words: list[str] = _LONG_WORD.findall(text)
    caps = sum(w.isupper() for w in words)
    return caps >= 2 and caps >= 0.4 * len(words)


def _shingles(text: str) -> set[str]:
    han = "".join(_HAN.findall(text))
    return set(_WORD.findall(text.lower())) | {han[i : i + 2] for i in range(len(han) - 1)}


def _repeats_history(text: str, history: Sequence[str]) -> bool:
    mine = _shingles(text)
    if len(mine) < 3:  # "ok", "yes" repeated is not a complaint
        return False
    return any(len(mine & s) / len(mine | s) >= 0.6 for s in map(_shingles, history) if s)


class SentimentRules:
    """The rules' reading of one message: its score, the cues that fired, and the features
    they hand to the trained head. "!!!" and capitals count as anger only below
    ``positive_threshold`` ("THANK YOU!!!" is joy)."""

    def __init__(self, *, positive_threshold: float = 0.3) -> None:
        self.positive_threshold = positive_threshold
        self._models = _Models()

    def read(self, text: str, *, zh: bool, history: Sequence[str] = ()) -> RuleReading:
        """The rules' score, signals and the features they hand to the trained head."""
        signals: list[str] = []
        if zh:
            base, lexicon_a, lexicon_b = self._zh_base(text, signals)
        else:
            polarity = self._models.vader()(text)
            base, lexicon_a, lexicon_b = polarity["compound"], polarity["neg"], polarity["pos"]
        if base != 0.0 and not signals:
            signals.append("lexicon")
        cues = self._cues(text, base, history, zh=zh)
        valence = _unsquash(base) - sum(_CUE_WEIGHTS[c] for c in cues)
        score = _squash(valence)
        question = bool(_ZH_QUESTION.search(text)) if zh else "?" in text
        features = np.array(
            [base, lexicon_a, lexicon_b, score, *(c in cues for c in _CUES), question],
            dtype=np.float32,
        )
        return RuleReading(score, (*cues, *signals), features)

    def _zh_base(self, text: str, signals: list[str]) -> tuple[float, float, float]:
        """The combined base score, the lexicon's own, and SnowNLP's polarity."""
        valence, hits = _zh_lexicon_valence(text)
        lexicon = _squash(valence) if valence else 0.0
        if hits:
            signals.append("lexicon")
        # SnowNLP learnt product reviews; on short chat lines and questions it is near-random,
        # so it counts only when confident, scaled by length, and barely for questions.
        polarity = 2.0 * self._models.snow()(text[:_SNOW_CHARS]) - 1.0
        trust = max(0.0, (abs(polarity) - 0.5) / 0.5) * min(1.0, len(_HAN.findall(text)) / 20)
        if _ZH_QUESTION.search(text):
            trust *= 0.3
        if trust > 0.1:
            signals.append("snownlp")
            valence += math.copysign(2.5 * trust, polarity)
        return (_squash(valence) if valence else 0.0), lexicon, polarity

    def _cues(self, text: str, base: float, history: Sequence[str], *, zh: bool) -> list[str]:
        cues = []
        if _PROFANITY.search(text) or (zh and _ZH_SB.search(text)):
            cues.append("profanity")
        if _THREAT.search(text):
            cues.append("threat_to_leave")
        # Capitals and "!!!" amplify; on a clearly happy message ("THANK YOU!!!") they are joy.
        if base < self.positive_threshold or cues:
            if _is_shouting(text):
                cues.append("shouting")
            if _EXCLAIM.search(text):
                cues.append("exclamations")
        # "again"/"还是" count only inside a complaint ("send it again?" is a request), and
        # not as part of a threat ("never buying again").
        if (
            _REPEAT_STRONG.search(text)
            or (_REPEAT_WEAK.search(_THREAT.sub(" ", text)) and (base < 0 or cues))
            or (base < self.positive_threshold and _repeats_history(text, history))
        ):
            cues.append("repeated_complaint")
        return cues


class SentimentAnalyzer:
    """Rules, then the trained head. At or below ``negative_threshold`` the rules' score alone
    makes a message negative (profanity, threats, shouting: cues tweets and reviews rarely
    teach a head); at or above ``positive_threshold`` a message the head does not judge
    negative is positive."""

    def __init__(
        self,
        *,
        negative_threshold: float = -0.25,
        positive_threshold: float = 0.3,
        heads: HeadSet | None = None,
    ) -> None:
        if not -1.0 <= negative_threshold < positive_threshold <= 1.0:
            raise ValueError("need -1 <= negative_threshold < positive_threshold <= 1")
        self.rules = SentimentRules(positive_threshold=positive_threshold)
        self.negative_threshold = negative_threshold
        self.positive_threshold = positive_threshold
        self._heads = heads or HeadSet.load()
        self.version = f"sentiment-2+{self._heads.version}"

    def analyze(
        self,
        text: str,
        *,
        language: str | None = None,
        history: Sequence[str] = (),
        main_vector: Vector | None = None,
        han_vector: Vector | None = None,
    ) -> Sentiment:
        """``main_vector`` and ``han_vector`` are the message's sentence vectors as the bot
        computed them for retrieval; without the one its language needs, the rules-only head
        judges."""
        text = text.strip()[:_MAX_CHARS]
        if not text:
            return Sentiment("neutral", 0.0, ())
        zh = (language or detect_language(text)).startswith("zh")
        reading = self.rules.read(text, zh=zh, history=history)
        lang = "zh" if zh else "en"
        vector = han_vector if zh else main_vector
        key = head_key(lang, "han" if zh else "main")
        if vector is None or key not in self._heads.heads:
            key, features = head_key(lang, "rules"), reading.features
        else:
            features = np.concatenate([np.asarray(vector, dtype=np.float32), reading.features])
        head = self._heads.heads[key]
        negative = head.probability(features)
        if key.endswith("-rules"):
            # Without the vector the rules head is no better than the rules (tweets and reviews
            # taught it to read plain Chinese questions as complaints), so the rules label as
            # before and the head only reports its probability.
            return Sentiment(
                self._rules_label(reading, strict=False),
                round(reading.score, 4),
                reading.signals,
                round(negative, 4),
                key,
            )
        return self._judge(reading, negative, head.threshold, key)

    def _rules_label(self, reading: RuleReading, *, strict: bool) -> str:
        """The rules' own label. ``strict`` (beside a head, which has seen the score): only a
        support cue or a very negative score makes it negative, as tweets and reviews cannot
        have taught a head those cues."""
        score = reading.score
        cue = any(c in reading.signals for c in _CUES)
        if score <= self.negative_threshold and (not strict or cue or score <= _STRONG_NEGATIVE):
            return "negative"
        return "positive" if score >= self.positive_threshold else "neutral"

    def _judge(
        self, reading: RuleReading, negative: float, threshold: float, key: str
    ) -> Sentiment:
        if negative < threshold:
            label = self._rules_label(reading, strict=True)
            return Sentiment(
                label, round(reading.score, 4), reading.signals, round(negative, 4), key
            )
        # A complaint the rules read as calm gets a moderate score: -0.25 at the threshold,
        # -0.5 when certain, never low enough to hand off on its own.
        pull = -0.25 - 0.25 * (negative - threshold) / max(1e-6, 1.0 - threshold)
        score = min(reading.score, pull)
        return Sentiment("negative", round(score, 4), reading.signals, round(negative, 4), key)


MIN_TREND_MESSAGES = 3


def sentiment_trend(scores: Sequence[float]) -> SentimentTrend:
    """Conversation trend; worsening means falling fast (slope < -0.15) and now below zero.

    A trend needs three scored messages: two are a greeting and a question, and a question
    about a late parcel reads a little negative after a neutral hello. A single message that
    is negative enough escalates on its own score, not on the trend.
    """
    n = len(scores)
    if n == 0:
        return SentimentTrend(mean=0.0, last=0.0, slope=0.0, worsening=False, count=0)
    weights = [0.7 ** (n - 1 - i) for i in range(n)]
    mean = sum(w * s for w, s in zip(weights, scores, strict=True)) / sum(weights)
    recent = list(scores[-5:])
    slope = 0.0
    if len(recent) >= 2:
        xbar, ybar = (len(recent) - 1) / 2, sum(recent) / len(recent)
        num = sum((x - xbar) * (y - ybar) for x, y in enumerate(recent))
        slope = num / sum((x - xbar) ** 2 for x in range(len(recent)))
    last = scores[-1]
    return SentimentTrend(
        mean=mean,
        last=last,
        slope=slope,
        worsening=n >= MIN_TREND_MESSAGES and slope < -0.15 and last < 0,
        count=n,
    )
