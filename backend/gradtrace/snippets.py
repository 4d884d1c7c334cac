"""Short links: programs under random ids, in SQLite by default or PostgreSQL (SQLAlchemy Core, one code path).

Limits: a size cap, a per-client creation rate (clients stored as a hash, never as an address) and a total
cap past which the least recently used snippets go. `migrate()` brings any older schema up to date.
"""
import hashlib
import re
import secrets
import threading
import time
from pathlib import Path

from sqlalchemy import (Column, Float, Index, Integer, MetaData, String, Table, Text, create_engine, delete, event,
                        func, insert, inspect, select, text, update)
from sqlalchemy.pool import StaticPool

SCHEMA_VERSION = 2
TOUCH_EVERY_S = 3600  # last_used is only for eviction: one write an hour per snippet is plenty
_OLD_ID = re.compile(r"^[2-9a-km-z]{10}$")  # schema 1's content-derived ids: their links keep working
_NEW_ID = re.compile(r"^[A-Za-z0-9_-]{12}$")

metadata = MetaData()
snippets = Table(
    "snippets", metadata,
    Column("id", String(32), primary_key=True),
    Column("code", Text, nullable=False),
    Column("seed", String(24), nullable=False),  # text: seeds reach 2**64 - 1, past BIGINT
    Column("created", Float, nullable=False),
    Column("last_used", Float, nullable=False),
    Column("client", String(32)),
    Index("ix_snippets_last_used", "last_used"),
    Index("ix_snippets_client_created", "client", "created"),
)
schema_table = Table("gradtrace_schema", metadata, Column("name", String(32), primary_key=True),
                     Column("version", Integer, nullable=False))


class RateLimited(Exception):
    """This client made too many snippets lately; retry after `retry_after` seconds."""

    def __init__(self, retry_after: float):
        super().__init__("too many snippets")
        self.retry_after = retry_after


def new_id() -> str:
    return secrets.token_urlsafe(9)  # 72 random bits: no guessing, no test of whether a program is stored


def valid_id(value: str) -> bool:
    return bool(_NEW_ID.match(value) or _OLD_ID.match(value))


def client_hash(client: str) -> str:
    return hashlib.sha256(f"gradtrace-client\0{client}".encode()).hexdigest()[:32]


def database_url(target: str | Path) -> str:
    """A SQLAlchemy URL from a file path or a database URL (postgresql:// uses psycopg 3)."""
    value = str(target)
    if value == ":memory:":
        return "sqlite://"
    if "://" not in value:
        return f"sqlite:///{Path(value).resolve()}"
    return re.sub(r"^(postgres|postgresql)://", "postgresql+psycopg://", value)


def _engine(url: str):
    if url.startswith("sqlite"):
        if url == "sqlite://":
            return create_engine(url, poolclass=StaticPool, connect_args={"check_same_thread": False})
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 10, "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _wal(conn, _):  # readers never wait for the writer; several replicas on one volume stay safe
            conn.execute("PRAGMA journal_mode=WAL")
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=10)


def migrate(engine) -> int:
    """Create or upgrade the schema to SCHEMA_VERSION; returns the version found before."""
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":  # replicas starting together: one migrates, the others wait
            conn.execute(text("SELECT pg_advisory_xact_lock(7366212)"))
        tables = set(inspect(conn).get_table_names())
        if "gradtrace_schema" in tables:
            found = conn.execute(select(schema_table.c.version).where(schema_table.c.name == "snippets")).scalar() or 0
        else:
            found = 1 if "snippets" in tables else 0
        if found > SCHEMA_VERSION:
            raise RuntimeError(f"snippet database has schema {found}; this gradtrace knows {SCHEMA_VERSION}: upgrade it")
        if found == 1:  # schema 1: (id, code, seed, created) with content-derived ids
            conn.execute(text("ALTER TABLE snippets ADD COLUMN last_used FLOAT"))
            conn.execute(text("ALTER TABLE snippets ADD COLUMN client VARCHAR(32)"))
            conn.execute(text("UPDATE snippets SET last_used = created"))
        metadata.create_all(conn, checkfirst=True)
        if found < SCHEMA_VERSION:
            conn.execute(delete(schema_table).where(schema_table.c.name == "snippets"))
            conn.execute(insert(schema_table).values(name="snippets", version=SCHEMA_VERSION))
    return found


class SnippetStore:
    """(id, code, seed) rows shared by every replica that points at the same database."""

    def __init__(self, target: str | Path, *, max_count: int = 200_000, rate_count: int = 60,
                 rate_window_s: float = 600):
        self.url = database_url(target)
        self.engine = _engine(self.url)
        self.max_count, self.rate_count, self.rate_window_s = max_count, rate_count, rate_window_s
        self._evict_lock = threading.Lock()
        migrate(self.engine)

    @classmethod
    def from_settings(cls, settings) -> "SnippetStore":
        return cls(settings.database_url or settings.snippet_db, max_count=settings.snippet_max_count,
                   rate_count=settings.snippet_rate_count, rate_window_s=settings.snippet_rate_window_s)

    def _check_rate(self, conn, client: str, now: float) -> None:
        since = now - self.rate_window_s
        count, oldest = conn.execute(select(func.count(), func.min(snippets.c.created))
                                     .where(snippets.c.client == client, snippets.c.created > since)).one()
        if count >= self.rate_count:
            raise RateLimited(max(1.0, oldest + self.rate_window_s - now))

    def put(self, code: str, seed: int, client: str | None = None) -> str:
        """Store a program under a new random id; RateLimited when `client` made too many lately."""
        now, who = time.time(), client_hash(client) if client is not None else None
        clean = code.encode("utf-8", "surrogatepass").decode("utf-8", "replace")
        sid = new_id()
        with self.engine.begin() as conn:
            if who is not None and self.rate_count > 0:
                self._check_rate(conn, who, now)
            conn.execute(insert(snippets).values(id=sid, code=clean, seed=str(seed), created=now, last_used=now,
                                                 client=who))
        self._evict()
        return sid

    def _evict(self) -> None:
        """Past max_count, drop the least recently used (a rare, bounded delete)."""
        with self._evict_lock, self.engine.begin() as conn:
            extra = conn.execute(select(func.count()).select_from(snippets)).scalar() - self.max_count
            if extra > 0:
                oldest = select(snippets.c.id).order_by(snippets.c.last_used, snippets.c.id).limit(extra)
                conn.execute(delete(snippets).where(snippets.c.id.in_(oldest.scalar_subquery())))

    def get(self, sid: str) -> dict | None:
        if not valid_id(sid):
            return None
        now = time.time()
        with self.engine.begin() as conn:
            row = conn.execute(select(snippets.c.code, snippets.c.seed, snippets.c.last_used)
                               .where(snippets.c.id == sid)).first()
            if row is None:
                return None
            if row.last_used < now - TOUCH_EVERY_S:
                conn.execute(update(snippets).where(snippets.c.id == sid).values(last_used=now))
        return {"id": sid, "code": row.code, "seed": int(row.seed)}

    def count(self) -> int:
        with self.engine.connect() as conn:
            return conn.execute(select(func.count()).select_from(snippets)).scalar()

    def close(self) -> None:
        self.engine.dispose()
