"""How two texts are judged similar: the one place the radar and the search ask.

PostgreSQL: each `Entry` carries a weighted `swedish` full-text document (title A,
obstacle B, the other fields C; stemming and stop words from the `swedish`
configuration). A text is turned into an OR of its words, each as a prefix, so
"bemanningen" finds "bemanning" and "bemanningsproblem"; long compounds also
ask for their head ("bemanningsproblem" → "bemanni…"). Candidates are the
entries that match that query or whose title is trigram-similar (`pg_trgm`) to
the typed title; they are ranked by `ts_rank` plus the title's trigram
similarity. GIN indexes on both keep it to index scans (migration 0002).

SQLite (the zero-setup default): the same words, shortened to a stem-like
prefix, looked up in the lower-cased text; shared words in the title count
three times. Simpler, but it still finds shared words.

Words are letters only, so nothing a person types ever reaches the query
syntax: quotes, `&`, `|`, `!`, `:*` and backslashes are separators here.
"""

import re
from dataclasses import dataclass

from django.contrib.postgres.search import SearchQuery, SearchRank, TrigramSimilarity
from django.db import connection
from django.db.models import Case, F, Q, QuerySet, Value, When

from insights.models import EntryKind

CONFIG = "swedish"
MAX_TERMS = 32
SQLITE_CANDIDATES = 400
# ts_rank's weights for D, C, B, A: the title (A) and the obstacle (B) count most.
WEIGHTS = [0.1, 0.4, 0.7, 1.0]
TITLE_TRIGRAM_WEIGHT = 0.5
# Entries whose title is their own: an idea's or a note's title is its post-it's, shown
# for context but never what makes it a match.
OWN_TITLE = [EntryKind.TOPIC, EntryKind.FOLLOW_UP]

_WORD = re.compile(r"[^\W\d_]+")

# The `swedish` stop words of PostgreSQL and Snowball, for the SQLite fallback and
# for deciding that a text has nothing to search for.
STOP_WORDS = frozenset(
    """
    och det att i en jag hon som han på den med var sig för så till är men ett om
    hade de av icke mig du henne då sin nu har inte hans honom skulle hennes där
    min man ej vid kunde något från ut när efter upp vi dem vara vad över än dig
    kan sina här ha mot alla under någon eller allt mycket sedan ju denna själv
    detta åt utan varit hur ingen mitt ni bli blev oss din dessa några deras blir
    mina samma vilken er sådan vår blivit dess inom mellan sådant varför varje
    vilka ditt vem vilket sitta sådana vart dina vars vårt våra ert era vilkas
    """.split()  # noqa: SIM905
)
# Words every post-it uses that say nothing about the challenge: left out of what is
# searched for (they stay in the documents).
FILLER_WORDS = frozenset(
    """
    vet veta många mer mest kommer komma blir bli får gör göra går gå finns fanns ska
    skall måste behöver vill varje gång gånger flera olika nya ny nytt bra dag idag
    också även just bara hela helt del sätt tar ta två tre fyra första andra annan
    """.split()  # noqa: SIM905
)
# A hit scoring less than this share of the best one is noise, not a similar challenge.
RELATIVE_CUTOFF = 0.2


def words(text: str) -> list[str]:
    """The searchable words of a text: lower-case letters, stop words left out, once each."""
    seen: dict[str, None] = {}
    for match in _WORD.finditer(text or ""):
        word = match.group().lower()
        if len(word) >= 2 and word not in STOP_WORDS and word not in FILLER_WORDS:
            seen.setdefault(word, None)
    return list(seen)


def terms_of(*texts: str) -> list[str]:
    """Words of several texts, the first texts' words first, at most MAX_TERMS."""
    found: dict[str, None] = {}
    for text in texts:
        for word in words(text):
            found.setdefault(word, None)
    return list(found)[:MAX_TERMS]


def stem(word: str) -> str:
    """A crude Swedish stem for the fallback and for highlighting: drop endings."""
    if len(word) < 5:
        return word
    return word[: max(4, len(word) - 3)]


def tsquery_text(terms: list[str]) -> str:
    """`to_tsquery` input: every word as a prefix, ORed; compounds also by their head."""
    parts: list[str] = []
    for term in terms:
        parts.append(f"{term}:*" if len(term) >= 5 else term)
        if len(term) >= 10:
            parts.append(f"{term[:7]}:*")
    return " | ".join(dict.fromkeys(parts))


def matches(token: str, terms: list[str]) -> bool:
    """Whether a word of a text is one of the searched words (by stem)."""
    token = token.lower()
    return any(token == term or (len(term) >= 4 and token.startswith(stem(term))) for term in terms)


def highlight(text: str, terms: list[str]) -> list[tuple[str, bool]]:
    """The text in pieces, each marked whether it matched: for templates to escape."""
    pieces: list[tuple[str, bool]] = []
    position = 0
    for match in _WORD.finditer(text or ""):
        if matches(match.group(), terms):
            if match.start() > position:
                pieces.append((text[position : match.start()], False))
            pieces.append((match.group(), True))
            position = match.end()
    if position < len(text or ""):
        pieces.append((text[position:], False))
    return pieces


@dataclass(frozen=True)
class Query:
    """What is searched for: the words, and the title to compare titles with."""

    terms: list[str]
    title: str = ""

    @classmethod
    def of(cls, text: str) -> "Query":
        return cls(terms=terms_of(text), title=" ".join(words(text))[:200])

    @classmethod
    def of_postit(
        cls, *, title: str, obstacle: str = "", goal: str = "", now: str = "", background: str = ""
    ) -> "Query":
        return cls(
            terms=terms_of(title, obstacle, goal, now, background),
            title=" ".join(words(title))[:200],
        )

    def __bool__(self) -> bool:
        return bool(self.terms)


def rank(entries: QuerySet, query: Query, *, limit: int, engine: str = "") -> list:
    """The entries most similar to the query, best first, each with a `score`.

    Hits far weaker than the best (RELATIVE_CUTOFF) are left out: they share a
    word, not a challenge.
    """
    found = _rank(entries, query, limit=limit, engine=engine)
    if not found:
        return found
    floor = found[0].score * RELATIVE_CUTOFF
    return [entry for entry in found if entry.score >= floor]


def _rank(entries: QuerySet, query: Query, *, limit: int, engine: str = "") -> list:
    """The entries most similar to the query, best first, each with a `score`.

    `engine` is the database's own unless "fallback" is asked for (the evaluation
    measures both on PostgreSQL).
    """
    if not query:
        return []
    if (engine or connection.vendor) == "postgresql":
        return _rank_postgresql(entries, query, limit=limit)
    return _rank_fallback(entries, query, limit=limit)


def _rank_postgresql(entries: QuerySet, query: Query, *, limit: int) -> list:
    ts_query = SearchQuery(tsquery_text(query.terms), config=CONFIG, search_type="raw")
    # F(): the stored document itself (a bare name would be re-parsed as text).
    score = SearchRank(F("vector"), ts_query, weights=WEIGHTS)
    found = Q(vector=ts_query)
    if query.title:
        found |= Q(title__trigram_similar=query.title, kind__in=OWN_TITLE)
        trigram = Case(
            When(kind__in=OWN_TITLE, then=TrigramSimilarity("title", Value(query.title))),
            default=Value(0.0),
        )
        score = score + trigram * TITLE_TRIGRAM_WEIGHT
    ranked = entries.filter(found).annotate(score=score).order_by("-score", "-created_at")
    return list(ranked[:limit])


def _rank_fallback(entries: QuerySet, query: Query, *, limit: int) -> list:
    stems = list(dict.fromkeys(stem(term) for term in query.terms))
    found = Q()
    for s in stems:
        found |= Q(folded__contains=s)
    candidates = list(entries.filter(found).order_by("-created_at")[:SQLITE_CANDIDATES])
    for entry in candidates:
        title = entry.title.lower() if entry.kind in OWN_TITLE else ""
        entry.score = sum(3 if s in title else 1 for s in stems if s in entry.folded) / len(stems)
    candidates.sort(key=lambda e: (-e.score, -e.created_at.timestamp()))
    return candidates[:limit]
