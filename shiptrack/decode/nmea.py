"""NMEA 0183 AIS framing: lines -> checked sentences -> assembled messages -> records.

We own the line loop (pyais's file stream skips bad lines silently and does not
check checksums): every line either contributes to a message or becomes a reject
with a reason. pyais is the reference decoder for the payloads; the vectorized
fast path (``shiptrack.decode.accel.fast``) may take over the common types, and must
agree with it exactly.

Receive-time sources, in the order ``--time-from auto`` tries them for each message:

``tagblock``  NMEA 4.10 ``\\c:1519862400*hh\\`` (seconds, or 13-digit milliseconds) in front of
              the sentence, on its line
``pghp``      the Gatehouse ``$PGHP,1,yyyy,m,d,h,m,s,ms,...,CS`` line whose last field names the
              message's checksum, within PGHP_WINDOW_LINES lines before or after it
``prefix``    a logger's Unix time or ISO-8601 time before the sentence on its line
``trailer``   USCG-style ``...*hh,b003669794,1272412827`` or a trailing Unix time in ms, unless
              the file's $PGHP or tag-block times show it to be another (arrival) clock
``rmc``       the receiver's own ``$GPRMC``/``$GPZDA`` clock, for a message with none of the
              above, within CLOCK_WINDOW_LINES lines after it, in a stream without tag-block
              times, when the receiver-side times after it agree with it

One clock per sentence: a stamp is never carried to another line (a tag block alone on a
line is a reject). A message whose receive time cannot be found, or whose only clock is not
trusted, is rejected as ``no_timestamp`` (the detail says which clock and why).
"""


from __future__ import annotations

import copy
import re
from collections import Counter, deque
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from shiptrack.decode import accounting
from shiptrack.decode.records import BatchBuilder
from shiptrack.decode.reference import MIN_BITS, Message
from shiptrack.decode.timesource import TIME_CHOICES, TIME_SOURCES, TimeSource
from shiptrack.read.chunks import TooLong

_ARMOUR_RE = re.compile(r"^[0-W`-w]+$")
_HEX2_RE = re.compile(r"^[0-9A-Fa-f]{2}$")
_PREFIX_RE = re.compile(
    r"^(?P<t>\d{13}|\d{9,10}(?:\.\d+)?|\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:?\d\d)?)"
    r"[\s,;|]*(?=[\\!$])"
)
_TOKEN_RE = re.compile(r"\\([^\\!$]*[:*][^\\!$]*)\\|([!$][^\\!$]*)")
_UNIX_FIELD_RE = re.compile(r"^(\d{13}|\d{10}(?:\.\d+)?)$")
_STATION_FIELD_RE = re.compile(r"^[rbB][A-Za-z0-9_-]+$")
_OLD_GROUP_RE = re.compile(r"^(\d)G(\d):(\w+)$")
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\ufffd]")


def nmea_checksum(body: str) -> int:
    """XOR of the characters of a sentence or tag block between its delimiters."""
    cs = 0
    for ch in body.encode("latin-1", "replace"):
        cs ^= ch
    return cs


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _unix_to_dt(text: str) -> datetime | None:
    """Unix seconds (a fraction allowed), or milliseconds when over 10**11. Whole milliseconds
    are counted exactly, as the bulk framer counts them (as a float, 8600000000001 ms fell a
    microsecond short)."""
    try:
        value = float(text)
        if value > 1e11:  # milliseconds
            if text.isdigit():
                return _EPOCH + timedelta(milliseconds=int(text))
            value /= 1000.0
        return datetime.fromtimestamp(value, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None


def parse_prefix_time(text: str) -> datetime | None:
    """Unix seconds/milliseconds or ISO-8601 (naive = UTC) to an aware datetime."""
    if text[0].isdigit() and "-" not in text:
        return _unix_to_dt(text)
    s = text.replace(" ", "T", 1)
    if s.endswith("Z"):
        s = s[:-1] + "+00:00"
    try:
        dt = datetime.fromisoformat(s)
    except ValueError:
        return None
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)


@dataclass(slots=True)
class TagBlock:
    time: datetime | None = None
    station: str | None = None
    group: tuple[int, int, str] | None = None  # (part, total, id)


def parse_tagblock(text: str) -> TagBlock:
    """Parse ``c:..,s:..,g:1-2-73*hh``; raise ValueError on a bad checksum or time."""
    star = text.rfind("*")
    if star < 0 or not _HEX2_RE.match(text[star + 1 :]):
        raise ValueError("tag block without a two-digit checksum")
    body = text[:star]
    # Some providers (AMSA, Spire) write *00 instead of computing the tag-block
    # checksum; the sentence's own checksum still protects the payload.
    if text[star + 1 :] != "00" and nmea_checksum(body) != int(text[star + 1 :], 16):
        raise ValueError("tag block checksum mismatch")
    tb = TagBlock()
    for item in body.split(","):
        key, sep, value = item.partition(":")
        if not sep:
            continue
        if key == "c":
            if not value.isdigit():
                raise ValueError(f"tag block time c:{value!r}")
            tb.time = _unix_to_dt(value)
            if tb.time is None:
                raise ValueError(f"tag block time c:{value!r}")
        elif key == "s":
            # an empty s: names no receiver (the bulk framer reads it so too)
            tb.station = value or None
        elif key == "g":
            parts = value.split("-")
            if len(parts) == 3 and parts[0].isdigit() and parts[1].isdigit() and parts[2].isalnum():
                tb.group = (int(parts[0]), int(parts[1]), parts[2])
        else:
            m = _OLD_GROUP_RE.match(item)
            if m:
                tb.group = (int(m.group(1)), int(m.group(2)), m.group(3))
    return tb


# ------------------------------------------------------------------ clocks
#
# One clock per sentence. A sentence is timed by a stamp bound to it: the tag block in front
# of it, the prefix or trailer on its own line, or the $PGHP that names its checksum. Only a
# sentence with none of them may take the receiver's own clock ($GPRMC/$GPZDA), and only
# from a clock sentence a few lines before it. A stamp is never carried from one line to
# the next (a tag block alone on a line is a reject), and a trailing time that the file's
# $PGHP or tag-block times show to be a later arrival clock times nothing (auto).

# A $PGHP names, in its last field, the checksum of the message it times (the XOR of the
# checksums of its sentences, Gatehouse's convention). DMA writes it on the line before the
# message; exactEarth anywhere up to a dozen lines before or after it. Measured on the three
# exactEarth files (amsa-risky/exact-earth-augmented*.txt; nearest pairs first, one to one):
# 10 lines either side pair 6,756 messages, 20 lines 7,122, 30 lines 7,145, 60 lines 7,162.
PGHP_WINDOW_LINES = 20
# A message waits for a $PGHP written after it only in a stream of them: when the last $PGHP
# is at most this many lines before it (in other files, messages need not wait).
PGHP_STREAM_LINES = 1000
# A receiver clock times the sentences of at most this many lines after it. A receiver hears
# at most ~75 sentences a second (two channels of 2,250 slots a minute) and a GPS writes its
# clock every second: 300 lines are 4 s of a saturated link, or 2 s of a log that writes as
# many other lines (amsa-risky/ais.txt: at most 155 lines between two clock sentences).
CLOCK_WINDOW_LINES = 300
# Two times of one sentence (or of a sentence and the clock just before it) that differ by
# more than this come from two clocks.
CLOCK_TOLERANCE_S = 300.0
# A trailing time is the receive time unless the sentences that carry both a trailer and a
# $PGHP or tag-block time show it to be another clock (exactEarth: the ground-arrival time,
# 15-110 min later). Trailer-only sentences wait for that evidence; without any within this
# many lines of the first trailer, the trailer is the file's receive clock (USCG).
TRAILER_DECISION_LINES = 1000

_NO_CS = -1  # a $PGHP that names no checksum: it times the next message
_END = 1 << 62  # a line number after every line: finish() ends every wait

# Reject details (no_timestamp) of the messages a clock was not trusted for: category, text.
UNTIMED_ARRIVAL = "arrival"
UNTIMED_CLOCK_MISMATCH = "clock_mismatch"
UNTIMED_CLOCK_FAR = "clock_far"
UNTIMED_TAG_STREAM = "tag_stream"
_ARRIVAL_TEXT = (
    "its only time is the trailing one, which in this file is a ground-arrival clock (more than "
    f"{CLOCK_TOLERANCE_S / 60:.0f} min from the $PGHP or tag-block times of the sentences that carry both); "
    "--time-from trailer stores it at that time"
)


@dataclass(slots=True)
class _Clock:
    """A receiver clock reading ($GPRMC/$GPZDA), and what the sentences after it say of it."""

    line: int
    time: datetime
    kind: str
    superseded: bool = False  # a later clock sentence took over
    mismatch: str | None = None  # why it is not trusted: a receiver-side stamp disagrees


@dataclass(slots=True)
class _Pghp:
    line: int
    cs: int  # checksum of the message it times, or _NO_CS
    time: datetime
    used: bool = False  # paired, or past its window


@dataclass(slots=True)
class Fragment:
    line_no: int
    raw: str
    talker: str
    count: int
    number: int
    seq: str
    channel: str
    payload: str
    fill: int
    cs: int  # the sentence's checksum
    station: str | None
    group: tuple[int, int, str] | None
    tagged: bool  # a tag block in front of it (with a time or not)
    tag_time: datetime | None
    prefix_time: datetime | None
    trailer_time: datetime | None
    clock: _Clock | None  # the receiver clock that may time it
    clock_why: tuple[str, str] | None  # why none may, when there was a clock


@dataclass(slots=True)
class _Held:
    """An assembled message waiting for its time (a $PGHP that may still come, the verdict on
    the file's trailing times or on the receiver clock before it); messages leave in order."""

    msg: Message
    last: int  # its last line: where it is, for the $PGHP pairing
    cs: int  # XOR of its sentences' checksums
    tagged: bool
    tag_time: datetime | None
    tag_n: int  # sentences that carry that kind of stamp (the summary counts sentences)
    prefix_time: datetime | None
    prefix_n: int
    trailer_time: datetime | None
    trailer_n: int
    clock: _Clock | None
    clock_n: int
    clock_why: tuple[str, str] | None
    vdo: bool = False  # an own-ship report (!--VDO)
    pghp: datetime | None = None
    pghp_wait: bool = False  # a $PGHP naming it may still come
    first: int = 0  # its first line (parts may come out of order)


@dataclass
class _Pending:
    parts: dict[int, Fragment] = field(default_factory=dict)
    first_line: int = 0


@dataclass
class FramerState:
    """Everything the framer's next lines depend on, as a value: the fragments waiting for
    their other parts, the messages assembled lately (a part heard again is a duplicate), the
    messages waiting for their time, the $PGHPs waiting for their message, the receiver's
    clock, and what the file's clocks have shown so far. It pickles, so that decoding can be
    saved, resumed, or carried on by another process (see ``shiptrack.decode.stream``)."""

    time_from: TimeSource = "auto"
    next_line: int = 1  # the line after the last one read
    pending: dict[tuple[Any, ...], _Pending] = field(default_factory=dict)
    recent: dict[tuple[Any, ...], tuple[int, dict[int, str]]] = field(default_factory=dict)
    last_sweep: int = 0
    held: deque[_Held] = field(default_factory=deque)
    pg: dict[int, tuple[list[_Pghp], list[_Held]]] = field(default_factory=dict)
    pg_live: dict[int, int] = field(default_factory=dict)
    pg_queue: deque[_Pghp | _Held] = field(default_factory=deque)
    pghp_next: _Pghp | None = None
    pghp_last: int | None = None
    clock: _Clock | None = None
    tag_time_seen: bool = False
    trailer_mode: str | None = None
    trailer_first: int | None = None


_STATE_FIELDS = ("pending", "recent", "last_sweep", "held", "pg", "pg_live", "pg_queue", "pghp_next",
                 "pghp_last", "clock", "tag_time_seen", "trailer_mode", "trailer_first")


def _first(parts: list[Fragment], attr: str) -> tuple[Any, int]:
    """The first part's value of a stamp, and how many parts carry one."""
    values = [getattr(p, attr) for p in parts if getattr(p, attr) is not None]
    return (values[0] if values else None), len(values)


def _minutes(seconds: float) -> str:
    return f"{seconds / 60:.0f} min" if abs(seconds) >= 90 else f"{seconds:.0f} s"


class NmeaFramer:
    """Turn lines into assembled :class:`Message` objects and reject records.

    Feed lines with :meth:`feed`; completed messages accumulate in ``messages``
    and rejects in the builder. Call :meth:`finish` at the end of the input so
    incomplete multi-part messages become ``orphan_fragment`` rejects, and messages still
    waiting for their time are released.
    """

    # A multi-part message whose parts are further apart than this is not waited for:
    # at the first line of each block of this many lines, parts older than it are
    # orphaned (so a part waits between 200 and 400 lines).
    MAX_FRAGMENT_SPAN_LINES = 200

    def __init__(self, builder: BatchBuilder, time_from: TimeSource = "auto") -> None:
        if time_from not in TIME_CHOICES:
            raise ValueError(f"unknown time source {time_from!r}")
        self.time_from = time_from
        self.builder = builder
        self.auto = time_from in ("auto", "basestation")
        if time_from == "basestation":  # auto, with the base stations' clock for the receiver's
            self.order: tuple[str, ...] = (*(s for s in TIME_SOURCES if s != "rmc"), "basestation")
        else:
            self.order = TIME_SOURCES if time_from == "auto" else (time_from,)
        self.time_sources: Counter[str] = Counter()
        # per batch, like time_sources: why a message got no time (first line -> category,
        # text), and how the clocks of the same sentences compared
        self.time_notes: dict[int, tuple[str, str]] = {}
        self.clock_stats: Counter[str] = Counter()
        self.messages: list[Message] = []
        self.duplicates = 0
        self._pending: dict[tuple[Any, ...], _Pending] = {}
        self._recent: dict[tuple[Any, ...], tuple[int, dict[int, str]]] = {}
        self._last_sweep = 0
        self._pghp_on = "pghp" in self.order
        self._trailer_check = self.auto  # whether a trailer must be checked against the other clocks
        self._clock_on = "rmc" in self.order or "basestation" in self.order
        self.basestation_clock = "basestation" in self.order  # type 4 reports set the clock, not $GPRMC
        # the state of the clocks (all in snapshot())
        self._held: deque[_Held] = deque()
        # checksum -> the unpaired $PGHPs and messages (waiting for one) that name it
        self._pg: dict[int, tuple[list[_Pghp], list[_Held]]] = {}
        # checksums with both a $PGHP and a message unpaired -> the first line at which a pair
        # of them may be made (0: look again at the next line)
        self._pg_live: dict[int, int] = {}
        self._pg_queue: deque[_Pghp | _Held] = deque()  # the same, in line order (to expire them)
        self._pghp_next: _Pghp | None = None  # a $PGHP naming no checksum: for the next message
        self._pghp_last: int | None = None  # line of the last $PGHP
        self._clock: _Clock | None = None
        self._tag_time_seen = False
        self._trailer_mode: str | None = None  # None (not known yet), "receive" or "arrival"
        self._trailer_first: int | None = None  # first trailer line while the mode is not known
        self.next_line = 1  # the line after the last one read

    # ------------------------------------------------------------------ lines
    def feed(self, line_no: int, text: str) -> None:
        self.builder.lines += 1
        self.next_line = line_no + 1
        if text.__class__ is TooLong:
            self._too_long(line_no, text)
        else:
            self._line(line_no, text)
        self._advance(line_no)

    def open_from(self) -> int:
        """The first line whose outcome the framer may still decide (its fragments waiting for
        their other parts, its messages waiting for their time): accounting.NO_LIMIT if none."""
        first = accounting.NO_LIMIT
        for p in self._pending.values():
            first = min(first, p.first_line, *(f.line_no for f in p.parts.values()))
        for h in self._held:
            first = min(first, h.first or h.msg.line_no)
        for m in self.messages:
            first = min(first, m.line_no)
        return first

    def _too_long(self, line_no: int, text: TooLong) -> None:
        raw = str(text)
        if _CONTROL_RE.search(raw):
            raw = raw.encode("unicode_escape").decode("ascii")
        self.builder.reject(line_no, "line_too_long", raw, text.detail())

    def holds(self) -> bool:
        """Whether messages wait for their time, or $PGHPs for their message: the next lines
        then go through :meth:`feed` (the bulk framer does not know them)."""
        return bool(self._held) or bool(self._pg_queue) or self._pghp_next is not None

    def _line(self, line_no: int, text: str) -> None:
        line = text.strip()
        if not line:
            self.builder.reject(line_no, "empty_line", text)
            return
        if _CONTROL_RE.search(line):
            raw = line.encode("unicode_escape").decode("ascii")[:1000]
            self.builder.reject(line_no, "garbage", raw, "control or undecodable bytes")
            return
        prefix_time: datetime | None = None
        if line[0] not in "\\!$":
            m = _PREFIX_RE.match(line)
            if m is None:
                reason = "not_ais" if line.startswith("#") or "VD" not in line else "garbage"
                self.builder.reject(line_no, reason, line)
                return
            prefix_time = parse_prefix_time(m.group("t"))
            if prefix_time is None:
                self.builder.reject(line_no, "bad_timestamp", line, f"prefix {m.group('t')!r}")
                return
            line = line[m.end() :]
        if line_no // self.MAX_FRAGMENT_SPAN_LINES > self._last_sweep // self.MAX_FRAGMENT_SPAN_LINES:
            self.sweep(line_no)  # once per block of lines: the same lines however the input is split
        # One line may hold several tag-block + sentence pairs (relays join them). A tag block
        # belongs to the sentence right after it on its line, and to nothing else.
        tokens = list(_TOKEN_RE.finditer(line))
        if line[0] == "\\" and (not tokens or tokens[0].start() != 0 or tokens[0].group(1) is None):
            self.builder.reject(line_no, "bad_tagblock", line, "the line starts with '\\' but its tag block "
                                "cannot be read: nothing on it is used")
            return
        tag_token: re.Match[str] | None = None
        for m in tokens:
            if m.group(1) is not None:
                if tag_token is not None:  # two tag blocks in a row: the line is damaged
                    self._damaged(line_no, line)
                    return
                tag_token = m
                continue
            sentence = m.group(2).strip()
            raw = sentence
            tag: TagBlock | None = None
            if tag_token is not None:
                if line[tag_token.end() : m.start()].strip():  # text between them: damaged
                    self._damaged(line_no, line)
                    return
                else:
                    raw = tag_token.group(0) + sentence
                    try:
                        tag = parse_tagblock(tag_token.group(1))
                    except ValueError as err:
                        self.builder.reject(line_no, "bad_tagblock", raw, str(err))
                        tag_token = None
                        continue
                tag_token = None
            self._sentence(line_no, raw, sentence, tag, prefix_time)
        if tag_token is not None:
            self._lone_tag(line_no, line, tag_token, len(line))

    def _damaged(self, line_no: int, line: str) -> None:
        """A tag block that is not followed by its sentence, with more on the line after it:
        the line is damaged, and nothing on it is used (its sentence must not be framed
        without the time and station it was received with)."""
        self.builder.reject(line_no, "bad_tagblock", line, "a tag block not followed by its sentence: "
                            "the line is damaged and nothing on it is used")

    def _lone_tag(self, line_no: int, line: str, token: re.Match[str], end: int) -> None:
        """A tag block with no sentence right after it: a reject, never applied to another sentence."""
        rest = line[token.end() : end].strip()
        detail = ("a tag block alone: no sentence after it on its line (a tag block applies only to "
                  "the sentence it precedes)") if not rest else "no readable sentence right after the tag block"
        self.builder.reject(line_no, "bad_tagblock", line[token.start() : end].strip(), detail)

    def _sentence(
        self, line_no: int, raw: str, s: str, tag: TagBlock | None, prefix_time: datetime | None
    ) -> None:
        if s.startswith("$"):
            self._proprietary(line_no, raw, s)
            return
        if not (s.startswith("!") and len(s) > 6 and s[3:6] in ("VDM", "VDO")):
            self.builder.reject(line_no, "not_ais", raw)
            return
        star = s.find("*")
        if star < 0 or len(s) < star + 3:
            self.builder.reject(line_no, "truncated", raw, "no checksum")
            return
        body, cs_text, trailer = s[1:star], s[star + 1 : star + 3], s[star + 3 :]
        fields = body.split(",")
        if len(fields) != 7:
            self.builder.reject(line_no, "truncated", raw, f"{len(fields)} fields, expected 7")
            return
        if not _HEX2_RE.match(cs_text) or nmea_checksum(body) != int(cs_text, 16):
            self.builder.reject(line_no, "bad_checksum", raw, f"*{cs_text} != *{nmea_checksum(body):02X}")
            return
        talker, count_s, number_s, seq, channel, payload, fill_s = fields
        if not (count_s.isdigit() and number_s.isdigit() and fill_s.isdigit()):
            self.builder.reject(line_no, "truncated", raw, "fragment count, number or fill bits missing")
            return
        count, number, fill = int(count_s), int(number_s), int(fill_s)
        if not (1 <= count <= 9 and 1 <= number <= count and 0 <= fill <= 5):
            self.builder.reject(line_no, "bad_payload", raw, f"fragment {number}/{count} fill {fill}")
            return
        if not payload or not _ARMOUR_RE.match(payload):
            self.builder.reject(line_no, "bad_payload", raw, "empty payload or invalid characters")
            return
        station, trailer_time = _trailer_stamps(trailer)
        if station is None and tag is not None:
            station = tag.station
        if self.basestation_clock and count == 1 and payload[0] in "4;":
            self._base_station_clock(line_no, payload, fill)
        tag_time = tag.time if tag is not None else None
        clock, clock_why = self._clock_for(line_no, tag is not None, prefix_time, trailer_time)
        if tag_time is not None:
            self._tag_time_seen = True
        if trailer_time is not None and self._trailer_check and self._trailer_mode is None \
                and self._trailer_first is None:
            self._trailer_first = line_no
        frag = Fragment(
            line_no, raw, talker, count, number, seq, channel, payload, fill, int(cs_text, 16), station,
            tag.group if tag is not None else None, tag is not None, tag_time, prefix_time, trailer_time,
            clock, clock_why,
        )
        if count == 1:
            self._complete([frag])
        else:
            self._add_fragment(frag)

    def _proprietary(self, line_no: int, raw: str, s: str) -> None:
        """$PGHP and the receiver's own clock ($--RMC, $--ZDA) carry time; the rest is not AIS."""
        star = s.find("*")
        body = s[1:star] if star >= 0 else s[1:]
        ok = star >= 0 and _HEX2_RE.match(s[star + 1 : star + 3] or "") and nmea_checksum(body) == int(
            s[star + 1 : star + 3], 16
        )
        fields = body.split(",")
        kind = fields[0]
        if kind in ("PGHP", "GPRMC", "GNRMC", "GPZDA", "GNZDA") or kind.endswith(("RMC", "ZDA")):
            if not ok:
                self.builder.reject(line_no, "bad_checksum", raw, kind)
                return
            t = _time_from_proprietary(kind, fields)
            if t is None:
                self.builder.reject(line_no, "bad_timestamp", raw, kind)
                return
            self.builder.entries.one(line_no, accounting.TIME)
            if kind == "PGHP":
                self._add_pghp(line_no, fields, t)
            elif not self.basestation_clock:
                self._set_clock(_Clock(line_no, t, "$" + kind))
            return
        self.builder.reject(line_no, "not_ais", raw)

    # ------------------------------------------------------------- the clocks
    def _set_clock(self, c: _Clock) -> None:
        if self._clock is not None:
            self._clock.superseded = True
        self._clock = c

    def _base_station_clock(self, line_no: int, payload: str, fill: int) -> None:
        """A type 4 base-station report (or type 11, its UTC response) sets the clock of
        ``--time-from basestation``. Two readings within CLOCK_WINDOW_LINES of each other that
        differ by more than CLOCK_TOLERANCE_S are both distrusted (a base station with a wrong
        clock: which one is not known)."""
        t = base_station_time(payload, fill)
        if t is None:
            return
        mmsi = _payload_int(payload, 8, 30)
        c = _Clock(line_no, t, f"type {4 if payload[0] == '4' else 11} report of base station {mmsi}")
        prev = self._clock
        if prev is not None and line_no - prev.line <= CLOCK_WINDOW_LINES:
            diff = (t - prev.time).total_seconds()
            if abs(diff) > CLOCK_TOLERANCE_S:
                text = (f"the base-station clocks disagree: {prev.kind} at line {prev.line} ({prev.time:%Y-%m-%d %H:%M:%S}) "
                        f"and {c.kind} at line {line_no} ({t:%Y-%m-%d %H:%M:%S}) are {_minutes(diff)} apart")
                prev.mismatch = prev.mismatch or text
                c.mismatch = text
        self._set_clock(c)

    def _clock_for(self, line_no: int, tagged: bool, prefix_time: datetime | None,
                   trailer_time: datetime | None) -> tuple[_Clock | None, tuple[str, str] | None]:
        """The receiver clock that may time a sentence (or why none may), after checking the
        clock against the sentence's own receiver-side time (prefix, trailer)."""
        c = self._clock
        if c is None or not self._clock_on:
            return None, None
        age = line_no - c.line
        if age > CLOCK_WINDOW_LINES:
            return None, (UNTIMED_CLOCK_FAR, f"the last receiver clock ({c.kind}, line {c.line}) is {age} lines "
                                             f"before it, more than {CLOCK_WINDOW_LINES}")
        for name, own in (("prefix", prefix_time), ("trailing", trailer_time)):
            if own is not None:
                diff = (own - c.time).total_seconds()
                self.clock_stats[f"rmc~{name}.n"] += 1
                if abs(diff) > CLOCK_TOLERANCE_S:
                    self.clock_stats[f"rmc~{name}.over"] += 1
                    if c.mismatch is None:
                        c.mismatch = (f"the receiver clock ({c.kind} {c.time:%H:%M:%S} at line {c.line}) disagrees by "
                                      f"{_minutes(diff)} with the {name} time of line {line_no}")
        if self.auto and tagged:
            return None, None  # a sentence with a tag block is timed by it or not at all
        if self.auto and self._tag_time_seen:
            return None, (UNTIMED_TAG_STREAM, "no time of its own in a stream timed by tag blocks (the receiver "
                                              f"clock, {c.kind}, times only streams without them)")
        return c, None

    def _compare_trailer(self, bound: datetime, trailer: datetime, kind: str) -> None:
        """A sentence with a trailer and a $PGHP or tag-block time: is the trailer the same clock?"""
        diff = (trailer - bound).total_seconds()
        self.clock_stats[f"trailer~{kind}.n"] += 1
        self.clock_stats[f"trailer~{kind}.sum_s"] += round(diff)
        if abs(diff) > CLOCK_TOLERANCE_S:
            self.clock_stats[f"trailer~{kind}.over"] += 1
            self._trailer_mode = "arrival"
            self._trailer_first = None
        elif self._trailer_mode is None:
            self._trailer_mode = "receive"
            self._trailer_first = None

    def _add_pghp(self, line_no: int, fields: list[str], t: datetime) -> None:
        if not self._pghp_on:
            return
        named = fields[-1] if len(fields) >= 14 else ""
        cs = int(named, 16) if _HEX2_RE.match(named) else _NO_CS
        p = _Pghp(line_no, cs, t)
        self._pghp_last = line_no
        prev = self._pghp_next
        if prev is not None and prev.cs == _NO_CS and not prev.used:
            self.clock_stats["pghp.unpaired"] += 1
        # for the next message: a $PGHP that names no checksum; one that names 00 if that
        # message is an own-ship !--VDO (DMA writes 00 for them, the checksum not computed)
        self._pghp_next = p if cs in (_NO_CS, 0) else None
        if cs == _NO_CS:
            return
        self._bucket(cs)[0].append(p)
        self._pg_queue.append(p)
        self._live(cs)

    def _bucket(self, cs: int) -> tuple[list[_Pghp], list[_Held]]:
        b = self._pg.get(cs)
        if b is None:
            b = self._pg[cs] = ([], [])
        return b

    def _live(self, cs: int) -> None:
        b = self._pg.get(cs)
        if b is not None and b[0] and b[1]:
            self._pg_live[cs] = 0
        else:
            self._pg_live.pop(cs, None)
            if b is not None and not b[0] and not b[1]:
                del self._pg[cs]

    def _drop(self, cs: int, x: _Pghp | _Held) -> None:
        """Take a $PGHP or message out of its checksum's bucket (by identity)."""
        b = self._pg.get(cs)
        if b is not None:
            items = b[0] if isinstance(x, _Pghp) else b[1]
            for k, y in enumerate(items):
                if y is x:
                    del items[k]
                    break
            self._live(cs)

    def _pair(self, p: _Pghp, h: _Held) -> None:
        p.used = True
        h.pghp, h.pghp_wait = p.time, False
        self._drop(p.cs, p)
        self._drop(p.cs, h)
        if h.trailer_time is not None and self._trailer_check:
            self._compare_trailer(p.time, h.trailer_time, "pghp")

    def _pair_nearest(self, line_no: int) -> None:
        """Pair $PGHPs with the messages whose checksum they name, nearest pairs first (then the
        earlier), one to one. A pair is made once no line still to come can be nearer to either."""
        for cs, due in sorted(self._pg_live.items()):
            if due > line_no:
                continue
            pghps, helds = self._pg[cs]
            cands = []
            for p in pghps:
                for h in helds:
                    d = abs(h.last - p.line)
                    if d <= PGHP_WINDOW_LINES:
                        cands.append(((d, min(h.last, p.line), p.line, h.msg.line_no), p, h))
            cands.sort(key=lambda c: c[0])
            blocked: set[int] = set()
            for key, p, h in cands:
                if p.used or not h.pghp_wait:
                    continue
                if id(p) in blocked or id(h) in blocked:
                    blocked.update((id(p), id(h)))
                    continue
                if key[:2] < (line_no + 1 - p.line, p.line) and key[:2] < (line_no + 1 - h.last, h.last):
                    self._pair(p, h)
                else:
                    blocked.update((id(p), id(h)))
            if cs in self._pg_live:  # the first line at which one of the pairs left is safe
                self._pg_live[cs] = min((max(_safe_from(key, p.line), _safe_from(key, h.last))
                                         for key, p, h in cands if not p.used and h.pghp_wait), default=_END)

    def _expire_pghp(self, line_no: int) -> None:
        """$PGHPs and messages that no line still to come can pair: unpaired."""
        q = self._pg_queue
        while q:
            x = q[0]
            if x.used if isinstance(x, _Pghp) else not x.pghp_wait:
                q.popleft()
                continue
            pos = x.line if isinstance(x, _Pghp) else x.last
            if line_no - pos < PGHP_WINDOW_LINES:
                return
            cs = x.cs
            pghps, helds = self._pg.get(cs, ([], []))
            if isinstance(x, _Pghp):
                if any(abs(h.last - pos) <= PGHP_WINDOW_LINES for h in helds):
                    return  # a pair still to be made
                x.used = True
                self.clock_stats["pghp.unpaired"] += 1
            else:
                if any(abs(p.line - pos) <= PGHP_WINDOW_LINES for p in pghps):
                    return
                x.pghp_wait = False
            q.popleft()
            self._drop(cs, x)

    def _advance(self, line_no: int) -> None:
        """After each line: make the pairs and verdicts this line allows, then let the messages
        whose time is known go, in order."""
        if self._pg_live:
            self._pair_nearest(line_no)
        if self._pg_queue:
            self._expire_pghp(line_no)
        nxt = self._pghp_next
        if nxt is not None and line_no - nxt.line >= PGHP_WINDOW_LINES:
            self._pghp_next = None
            if nxt.cs == _NO_CS and not nxt.used:
                self.clock_stats["pghp.unpaired"] += 1
        if self._pghp_last is not None and line_no - self._pghp_last > PGHP_STREAM_LINES:
            self._pghp_last = None  # (forgotten: the state is the same as a replay's)
        if self._trailer_first is not None and line_no - self._trailer_first >= TRAILER_DECISION_LINES:
            self._trailer_mode, self._trailer_first = "receive", None
        held = self._held
        while held and self._resolve(held[0], line_no):
            self.messages.append(held.popleft().msg)

    def _complete(self, parts: list[Fragment]) -> None:
        """An assembled message: it waits in line for its time."""
        first = parts[0]
        if len(parts) == 1:
            f = first
            h = _Held(Message(f.line_no, f.raw, f.payload, f.fill, None, f.station), f.line_no, f.cs, f.tagged,
                      f.tag_time, f.tag_time is not None, f.prefix_time, f.prefix_time is not None, f.trailer_time,
                      f.trailer_time is not None, f.clock, f.clock is not None, f.clock_why, f.talker.endswith("VDO"))
        else:
            station = next((p.station for p in parts if p.station is not None), None)  # not always on part 1
            msg = Message(first.line_no, "\n".join(p.raw for p in parts), "".join(p.payload for p in parts),
                          parts[-1].fill, None, station)
            cs = 0
            for p in parts:
                cs ^= p.cs
            tag_time, tag_n = _first(parts, "tag_time")
            prefix_time, prefix_n = _first(parts, "prefix_time")
            trailer_time, trailer_n = _first(parts, "trailer_time")
            clock, clock_n = _first(parts, "clock")
            h = _Held(msg, parts[-1].line_no, cs, any(p.tagged for p in parts), tag_time, tag_n, prefix_time,
                      prefix_n, trailer_time, trailer_n, clock, clock_n, first.clock_why, first.talker.endswith("VDO"),
                      first=min(p.line_no for p in parts))
            for p in parts[1:]:  # its other lines fare as its first line (where its rows are)
                if p.line_no != first.line_no:
                    self.builder.entries.link(p.line_no, first.line_no)
        tag_time, trailer_time, cs = h.tag_time, h.trailer_time, h.cs
        if tag_time is not None and trailer_time is not None and self._trailer_check:
            self._compare_trailer(tag_time, trailer_time, "tagblock")
        if self._pghp_on:
            nxt, self._pghp_next = self._pghp_next, None
            if tag_time is not None and self.auto:
                pass  # timed by its tag block (the bulk framer's lines never meet a $PGHP)
            elif nxt is not None and not nxt.used and (nxt.cs == _NO_CS or (h.vdo and h.cs != 0)):
                self._pair(nxt, h)
            elif (self._tag_time_seen and self.auto) or self._pghp_last is None \
                    or h.last - self._pghp_last > PGHP_STREAM_LINES:
                # a message waits for a $PGHP after it only in a stream of them, not timed by tag blocks
                earlier = [p for p in self._pg.get(cs, ([], []))[0] if h.last - p.line <= PGHP_WINDOW_LINES]
                if earlier:
                    self._pair(max(earlier, key=lambda p: p.line), h)
            else:
                h.pghp_wait = True
                self._bucket(cs)[1].append(h)
                self._pg_queue.append(h)
                self._live(cs)
            if nxt is not None and nxt.cs == _NO_CS and not nxt.used:
                self.clock_stats["pghp.unpaired"] += 1
        self._held.append(h)

    def _resolve(self, h: _Held, line_no: int) -> bool:
        """Give a held message its time, if what it waits for is known (False: not yet)."""
        for source in self.order:
            if source == "tagblock":
                if h.tag_time is not None:
                    return self._timed(h, source, h.tag_time, h.tag_n)
            elif source == "pghp":
                if h.pghp_wait:
                    return False
                if h.pghp is not None:
                    return self._timed(h, source, h.pghp, 1)
            elif source == "prefix":
                if h.prefix_time is not None:
                    return self._timed(h, source, h.prefix_time, h.prefix_n)
            elif source == "trailer":
                if h.trailer_time is not None:
                    if self._trailer_check and self._trailer_mode is None:
                        return False
                    if self._trailer_check and self._trailer_mode == "arrival":
                        return self._untimed(h, UNTIMED_ARRIVAL, _ARRIVAL_TEXT)
                    return self._timed(h, source, h.trailer_time, h.trailer_n)
            else:  # rmc, basestation: only a message with no stamp of its own
                if self.auto and (h.tagged or h.pghp is not None or h.prefix_time is not None
                                  or h.trailer_time is not None):
                    break
                c = h.clock
                if c is None:
                    return self._untimed(h, *h.clock_why) if h.clock_why else self._untimed(h)
                if not (c.superseded or line_no - c.line >= CLOCK_WINDOW_LINES):
                    return False
                if c.mismatch is not None:
                    return self._untimed(h, UNTIMED_CLOCK_MISMATCH, c.mismatch)
                return self._timed(h, source, c.time, h.clock_n)
        return self._untimed(h)

    def _timed(self, h: _Held, source: str, t: datetime, n: int) -> bool:
        h.msg.time = t
        self.time_sources[source] += n
        return True

    def _untimed(self, h: _Held, category: str | None = None, text: str | None = None) -> bool:
        if category is not None and text is not None:
            self.time_notes[h.msg.line_no] = (category, text)
        return True

    # -------------------------------------------------------------- fragments
    def _key(self, f: Fragment) -> tuple[Any, ...]:
        if f.group is not None and f.group[1] == f.count:
            # NMEA 4.10 groups: later parts often carry only g:, without s: or c:
            return ("g", f.group[1], f.group[2])
        return ("s", f.count, f.seq, f.channel, f.station)

    def _loose_match(self, f: Fragment) -> tuple[Any, ...] | None:
        """The key of the one pending message that a later part ``f`` continues although their
        keys differ because only some of the parts carry the station or the group (gpsd's
        sample.aivdm: the second part alone has a trailing station; Spire: the first part
        alone has ``s:``): the same fragment count, sequence id and channel, no station or
        group that differs, and parts before this one only. None if there is not exactly one."""
        found: tuple[Any, ...] | None = None
        for key, pend in self._pending.items():
            if f.number <= max(pend.parts):
                continue
            p = pend.parts[max(pend.parts)]
            if p.count != f.count or p.seq != f.seq or p.channel != f.channel:
                continue
            if p.station is not None and f.station is not None and p.station != f.station:
                continue
            pg = p.group[2] if p.group is not None and p.group[1] == p.count else None
            fg = f.group[2] if f.group is not None and f.group[1] == f.count else None
            if pg is not None and fg is not None and pg != fg:
                continue
            if found is not None:
                return None  # two candidates: which one is not known
            found = key
        return found

    def _add_fragment(self, f: Fragment) -> None:
        key = self._key(f)
        pend = self._pending.get(key)
        if pend is None and f.number > 1 and self._pending:
            loose = self._loose_match(f)
            if loose is not None:
                key, pend = loose, self._pending[loose]
        if pend is not None and f.number in pend.parts:
            if pend.parts[f.number].payload == f.payload:
                self.duplicates += 1  # the same part heard again, by another receiver
                self.builder.entries.one(f.line_no, accounting.DUPLICATE)
                return
            self._orphan(key)  # a new message reuses the sequence id: the old one is incomplete
            pend = None
        if pend is None:
            recent = self._recent.get(key)
            if f.number > 1 and recent is not None and recent[1].get(f.number) == f.payload:
                # a later part of a message already assembled, heard again. A repeated
                # first part starts a new message instead: its other parts may differ (an
                # updated type 5), and an identical repeat is caught by the store's dedup.
                self.duplicates += 1
                self.builder.entries.one(f.line_no, accounting.DUPLICATE)
                return
            pend = self._pending[key] = _Pending(first_line=f.line_no)
        pend.parts[f.number] = f
        if len(pend.parts) == f.count:
            del self._pending[key]
            parts = [pend.parts[i] for i in range(1, f.count + 1)]
            self._complete(parts)
            self._recent[key] = (f.line_no, {p.number: p.payload for p in parts})

    def _orphan(self, key: tuple[Any, ...]) -> None:
        pend = self._pending.pop(key)
        for p in pend.parts.values():
            self.builder.reject(p.line_no, "orphan_fragment", p.raw, f"part {p.number} of {p.count}")

    def snapshot(self, keep: bool = True) -> FramerState:
        """The state the next lines depend on. ``keep``: a copy (the framer goes on with its
        own); else the framer's own parts, handed over (the framer is not used again)."""
        state = FramerState(self.time_from, self.next_line,
                            *(getattr(self, "_" + name) for name in _STATE_FIELDS))
        return copy.deepcopy(state) if keep else state

    @classmethod
    def resume(cls, builder: BatchBuilder, state: FramerState, keep: bool = True) -> NmeaFramer:
        """A framer that goes on from ``state`` (``keep`` False: taking over its parts, which
        the caller then no longer uses)."""
        framer = cls(builder, state.time_from)
        framer.restore(state, keep)
        return framer

    def restore(self, state: FramerState, keep: bool = True) -> None:
        if state.time_from != self.time_from:
            raise ValueError(f"a state of --time-from {state.time_from}, not {self.time_from}")
        if keep:
            state = copy.deepcopy(state)
        self.next_line = state.next_line
        for name in _STATE_FIELDS:
            setattr(self, "_" + name, getattr(state, name))

    # -- the lines another framer (shiptrack.decode.accel.vframe) framed: what this framer
    # would have done with them, so that its state is the same as if it had seen them

    def next_sweep_line(self) -> int:
        """The first line at which stale fragments are swept out again."""
        span = self.MAX_FRAGMENT_SPAN_LINES
        return (self._last_sweep // span + 1) * span

    def sweep(self, line_no: int) -> None:
        """Orphan the fragments too old to be waited for, and forget the messages assembled
        too long ago (once per block of MAX_FRAGMENT_SPAN_LINES lines: see :meth:`_line`)."""
        self._last_sweep = line_no
        horizon = line_no - self.MAX_FRAGMENT_SPAN_LINES
        for key in [k for k, p in self._pending.items() if p.first_line < horizon]:
            self._orphan(key)
        for key in [k for k, r in self._recent.items() if r[0] < horizon]:
            del self._recent[key]

    def forgotten_before(self) -> int:
        """Messages assembled before this line are forgotten at the last sweep."""
        return self._last_sweep - self.MAX_FRAGMENT_SPAN_LINES

    def waiting(self, key: tuple[Any, ...] | None = None) -> bool:
        """Whether parts wait for their other parts (under ``key``, when given)."""
        return bool(self._pending) if key is None else key in self._pending

    def assembled(self, key: tuple[Any, ...], last_line: int, parts: dict[int, str]) -> None:
        """A multi-part message assembled elsewhere: a part of it heard again later is a duplicate."""
        self._recent[key] = (last_line, parts)

    def tag_time_seen(self) -> None:
        """A line with a tag-block time was read."""
        self._tag_time_seen = True

    @staticmethod
    def fragment_key(count: int, seq: str, channel: str, station: str | None,
                     group: str | None = None) -> tuple[Any, ...]:
        """The key that the parts of one message share (see :meth:`_key`): its NMEA 4.10 group
        id when its parts carry one, else its fragment count, sequence id, channel and station."""
        return ("g", count, group) if group is not None else ("s", count, seq, channel, station)

    def finish(self) -> None:
        """The end of the input: every message still waiting gets its time (or none)."""
        if self._trailer_first is not None:
            self._trailer_mode, self._trailer_first = "receive", None  # no evidence against it
        self._advance(_END)
        for key in list(self._pending):
            self._orphan(key)
        self._recent.clear()


def _safe_from(key: tuple[int, ...], x: int) -> int:
    """The first line after which no line still to come can make a pair nearer (or as near
    and earlier) than ``key`` with the $PGHP or message at line ``x``."""
    d, lo = key[0], key[1]
    return x + d - 1 if lo < x else x + d


def _payload_int(payload: str, start: int, width: int) -> int:
    """Bits ``start`` to ``start + width`` of an armoured payload, as an unsigned number."""
    first, last = start // 6, (start + width - 1) // 6
    value = 0
    for ch in payload[first : last + 1]:
        v = ord(ch) - 48
        value = (value << 6) | (v - 8 if v > 40 else v)
    return (value >> ((last + 1) * 6 - start - width)) & ((1 << width) - 1)


def base_station_time(payload: str, fill: int = 0) -> datetime | None:
    """The UTC time a type 4 (or 11) report gives, None if it is not available or not valid."""
    if len(payload) * 6 - fill < MIN_BITS[4] or not _ARMOUR_RE.match(payload):
        return None
    try:
        return datetime(_payload_int(payload, 38, 14), _payload_int(payload, 52, 4), _payload_int(payload, 56, 5),
                        _payload_int(payload, 61, 5), _payload_int(payload, 66, 6), _payload_int(payload, 72, 6),
                        tzinfo=UTC)
    except ValueError:  # year 0, month 0, hour 24, second 60: "not available"
        return None


def _trailer_stamps(trailer: str) -> tuple[str | None, datetime | None]:
    """The station and the time written after a sentence's checksum (USCG ``,b003669794,1272412827``,
    exactEarth ``,1328182324603``)."""
    station: str | None = None
    time: datetime | None = None
    if trailer.startswith(","):
        for f in trailer[1:].split(","):
            f = f.strip()
            if station is None and _STATION_FIELD_RE.match(f):
                station = f
            elif time is None and _UNIX_FIELD_RE.match(f):
                time = _unix_to_dt(f)
    return station, time


def _time_from_proprietary(kind: str, fields: list[str]) -> datetime | None:
    try:
        if kind == "PGHP":
            y, mo, d, h, mi, s, ms = (int(x) for x in fields[2:9])
            return datetime(y, mo, d, h, mi, s, ms * 1000, tzinfo=UTC)
        if kind.endswith("RMC"):
            hhmmss, ddmmyy = fields[1], fields[9]
            if fields[2] != "A" and not hhmmss:
                return None
            sec = float(hhmmss[4:])
            return datetime(
                2000 + int(ddmmyy[4:6]), int(ddmmyy[2:4]), int(ddmmyy[0:2]),
                int(hhmmss[0:2]), int(hhmmss[2:4]), int(sec), int(round((sec % 1) * 1e6)) % 1_000_000,
                tzinfo=UTC,
            )
        if kind.endswith("ZDA"):
            hhmmss = fields[1]
            sec = float(hhmmss[4:])
            return datetime(
                int(fields[4]), int(fields[3]), int(fields[2]),
                int(hhmmss[0:2]), int(hhmmss[2:4]), int(sec), tzinfo=UTC,
            )
    except (ValueError, IndexError):
        return None
    return None
