"""Every line accounted for: each physical line of an input ends in exactly one category
(stored, duplicate, other_type, time, header, rejected), the summary's categories add up to
the lines read, and the store shows it line by line: a stored line is in a stored row (its
first line, or a later part of its raw text), a rejected line has its reject, a duplicate
repeats a payload heard before, an other-type line holds a type that is only counted.

The per-line categories come from ``shiptrack ingest --ledger FILE`` (a hidden option: what
became of each line); every claim it makes is checked against the store and the input."""

from __future__ import annotations

import json
import random
import re
from collections import Counter
from pathlib import Path

import pytest

from tests.conftest import FIXTURES, encode, position, query, run_cli, tagged

T0 = 1518400000
NMEA = FIXTURES / "nmea"
STORED_TYPES = {1, 2, 3, 4, 5, 18, 19, 24, 27}
SENTENCE_RE = re.compile(r"![^,*!\\]{2}VD[MO],([^,*]*),([^,*]*),([^,*]*),([^,*]*),([^,*]*),")


# ------------------------------------------------------------------ the input, as sed sees it


def sed_lines(data: bytes) -> list[str]:
    """The lines of ``data`` as ``sed -n 'Np'`` numbers them (a line ends at \\n only), each
    without the \\r before its \\n, BOM of line 1 dropped, decoded with U+FFFD."""
    if not data:
        return []
    parts = data.split(b"\n")
    if data.endswith(b"\n"):
        parts.pop()
    texts = [p.rstrip(b"\r").decode("utf-8", errors="replace") for p in parts]
    if texts and texts[0].startswith("\ufeff"):
        texts[0] = texts[0][1:]
    return texts


def read_ledger(path: Path) -> dict[str, dict[int, str]]:
    """source -> {line: category} from a --ledger file (each line listed once: checked)."""
    out: dict[str, dict[int, str]] = {}
    current: dict[int, str] = {}
    for row in path.read_text(encoding="utf-8").splitlines():
        if row.startswith("# "):
            current = out.setdefault(row[2:], {})
            continue
        line, cat = row.split("\t")
        assert int(line) not in current, f"line {line} accounted twice"
        current[int(line)] = cat
    return out


# ------------------------------------------------------------------ a fuzzed corpus


def _real_lines() -> list[str]:
    """Real lines of every layout, from the fixtures (tag blocks, groups, relays, $PGHP,
    trailers, receiver clocks, other NMEA, prefixes)."""
    def read(path: Path, n: int | None = None) -> list[str]:
        return sed_lines(path.read_bytes())[:n]

    return (read(FIXTURES / "ural" / "ural.nmea", 6700) + read(NMEA / "norwegian.raw")
            + read(NMEA / "ee-multiline.nmea") + read(NMEA / "spire-test.nmea") + read(NMEA / "bad-type5.nmea")
            + read(NMEA / "exact-earth-augmented-3.txt", 1500) + read(NMEA / "ais-nmea.log", 800)
            + read(NMEA / "test.aivdm") + read(NMEA / "small_cb_example.txt") + read(NMEA / "mixed.txt")
            + read(NMEA / "tagblock.nmea") + read(NMEA / "errors.nmea") + read(NMEA / "nmea-timestamped.txt")
            + read(NMEA / "replay_dump.txt") + read(NMEA / "norwegian-prefixed.derived.nmea"))


def _cuts(line: str) -> list[int]:
    """Where to truncate a line: at and after every delimiter (inside and at the end of the tag
    block, after it, in the talker, each field, the payload, before and inside the checksum)."""
    marks = {0, 1, len(line) - 1, len(line) - 2}
    for i, ch in enumerate(line):
        if ch in "\\!,*:":
            marks.update((i, i + 1))
    return sorted(m for m in marks if 0 <= m < len(line))


def _checked(body: str) -> str:
    cs = 0
    for ch in body.encode():
        cs ^= ch
    return f"!{body}*{cs:02X}"


def fuzzed_corpus(seed: int = 14) -> tuple[bytes, int]:
    """About 11,400 lines: real lines kept, truncated at every position class, with corrupted
    bytes, damaged tag blocks, repeated, split from their other part, reordered; plus the
    issue's examples and payloads of wrong lengths. Returns the bytes and the line count."""
    rng = random.Random(seed)
    out: list[str] = [
        "\\s:rV,c:16",  # a truncation inside a tag block
        "\\s:rV,c:1600206421*1C\\%AIVDM,1,1,,A,139>c3hP1T2=JWjASWkSQ2l1P000,0*75",  # a corrupted '!'
        "\\garbage",  # a line starting with '\'
        tagged(_checked("AIVDM,1,1,,A,00,0"), T0, "rA"),  # 12 bits: no message
        tagged(_checked("AIVDM,1,1,,A,M" + "1" * 5000 + ",0"), T0, "rA"),  # type 29 of 30,006 bits
        tagged(_checked("AIVDM,1,1,,A,133g`DP000PCJC>MEj<pdo<l0<49Vm5,0"), T0, "rA"),  # type 1 of 186 bits
    ]
    for line in _real_lines():
        r = rng.random()
        if r < 0.55 or not line:
            out.append(line)
        elif r < 0.65:  # truncated at a delimiter, or just after it
            out.append(line[: rng.choice(_cuts(line))])
        elif r < 0.72:  # a corrupted byte: a delimiter, a control or non-ASCII character, another letter
            i = rng.randrange(len(line))
            out.append(line[:i] + rng.choice(["!", "\\", "*", ",", "$", "\x00", "\x07", "é", "%", "Z", " "])
                       + line[i + 1 :])
        elif r < 0.77 and line.startswith("\\"):  # tag-block damage
            end = line.find("\\", 1)
            kind = rng.randrange(5)
            if kind == 0:
                out.append(line[1:])  # no opening backslash
            elif kind == 1 and end > 0:
                out.append(line[:end] + line[end + 1 :])  # no closing backslash
            elif kind == 2 and end > 0:
                out.append(line[:end])  # the tag block alone
            elif kind == 3 and end > 0:
                out.append(line[: end + 1] + "%" + line[end + 2 :])  # the '!' after it corrupted
            else:
                out.append("\\" + line)  # an extra backslash
        elif r < 0.85:  # heard twice: the same line again, at once or a few lines later
            out.append(line)
            if rng.random() < 0.5:
                out.append(line)
            else:
                out.insert(len(out) - rng.randrange(1, 4), line)
        elif r < 0.90:  # dropped (a multi-part message loses a part) or moved later
            if rng.random() < 0.5:
                out.insert(len(out) - rng.randrange(0, 3), line)
        elif r < 0.95:  # blank and junk lines around it
            out.extend([line, rng.choice(["", "   ", "\t", "#comment", "\x00\x01\x02", "!", "$", "\\\\"])])
        else:  # line endings: \r\n, \r\r\n, a lone \r inside the line
            out.append(line + rng.choice(["\r", "\r\r"]) if rng.random() < 0.7 else line[:5] + "\r" + line[5:])
    data = "\n".join(out).encode("utf-8") + rng.choice([b"\n", b""])
    return data, len(sed_lines(data))


# ------------------------------------------------------------------ the checks


def _sentences(text: str) -> list[tuple[str, ...]]:
    return SENTENCE_RE.findall(text)


def _msg_type(payload: str) -> int:
    v = ord(payload[0]) - 48
    return v - 8 if v > 40 else v


def check_line_by_line(db: Path, data: bytes, ledger: dict[int, str], source: str) -> Counter[str]:
    """Every claim of the ledger for one source, checked against the store and the input."""
    texts = sed_lines(data)
    n = len(texts)
    assert sorted(ledger) == list(range(1, n + 1)), "every line, once"
    assert "unaccounted" not in ledger.values()
    sid = query(db, "SELECT source_id FROM sources WHERE name = ?", [source])[0][0]
    stored = query(db, "SELECT line_no, raw FROM positions WHERE source_id = ? UNION ALL "
                       "SELECT line_no, raw FROM static_reports WHERE source_id = ? UNION ALL "
                       "SELECT line_no, raw FROM base_stations WHERE source_id = ?", [sid, sid, sid])
    rejects = query(db, "SELECT line_no, reason, raw FROM rejects WHERE source_id = ?", [sid])
    stored_first = {r[0] for r in stored}
    reject_first = {r[0] for r in rejects}
    # the other parts of multi-sentence messages: (first line, part text)
    stored_parts = [(r[0], p) for r in stored if "\n" in r[1] for p in r[1].split("\n")[1:]]
    reject_parts = [(r[0], p) for r in rejects if r[2] and "\n" in r[2] for p in r[2].split("\n")[1:]]
    stored_payloads = {s[4] for r in stored for s in _sentences(r[1])}

    def part_of(line: int, parts: list[tuple[int, str]]) -> bool:
        return any(first != line and p and p in texts[line - 1] for first, p in parts)

    seen_payloads: set[str] = set()
    for line in range(1, n + 1):
        text, cat = texts[line - 1], ledger[line]
        sentences = _sentences(text)
        where = f"line {line} ({cat}): {text[:120]!r}"
        if cat == "stored":
            assert line in stored_first or part_of(line, stored_parts), where
        elif cat == "rejected":
            assert line in reject_first or part_of(line, reject_parts), where
            assert line not in stored_first, where
        elif cat == "duplicate":
            assert line not in stored_first, where
            assert any(s[4] in stored_payloads or s[4] in seen_payloads for s in sentences), where
        elif cat == "other_type":  # the first sentence of a message of such a type, or a later one
            assert line not in stored_first and sentences, where
            assert any(s[1] != "1" or (s[4] and _msg_type(s[4]) not in STORED_TYPES) for s in sentences), where
        elif cat == "time":
            assert re.search(r"\$[A-Z]{2}(RMC|ZDA)|\$PGHP", text), where
        else:
            pytest.fail(f"unexpected category {where}")
        seen_payloads.update(s[4] for s in sentences)
    # and the other way: every row cites a line whose category says so
    for line in stored_first:
        assert ledger[line] == "stored", (line, texts[line - 1][:120])
    for line, reason, _ in rejects:
        if ledger[line] != "rejected":  # a position kept without its course, or a line holding more
            text = texts[line - 1]
            several = text.count("!") + text.count("$") > 1
            assert several or (ledger[line] == "stored" and reason in ("bad_cog", "bad_heading")), (
                line, reason, ledger[line], text[:120])
    # the raw text kept is the line's own (or a part of it: the sentence after a prefix)
    for line, raw in stored:
        assert raw.split("\n")[0] in texts[line - 1], (line, raw)
    for line, reason, raw in rejects:
        if reason not in ("garbage", "line_too_long") and raw:
            assert raw.split("\n")[0].strip() in texts[line - 1], (line, reason, raw)
    return Counter(ledger.values())


def test_fuzzed_corpus_is_accounted_for_line_by_line(tmp_path: Path) -> None:
    data, n = fuzzed_corpus()
    assert 11_000 <= n <= 12_000
    path = tmp_path / "fuzzed.nmea"
    path.write_bytes(data)
    db, ledger = tmp_path / "f.duckdb", tmp_path / "ledger.tsv"
    result = run_cli(["ingest", path, "--ledger", ledger], db)
    assert result.exit_code == 0, result.output
    per_line = check_line_by_line(db, data, read_ledger(ledger)[str(path)], str(path))
    lines_read, counts = query(db, "SELECT lines_read, line_counts FROM sources")[0]
    counts = json.loads(counts)
    assert lines_read == n == sum(counts.values())
    assert {k: v for k, v in counts.items() if v} == dict(per_line)
    # every category of a real feed is there
    assert all(per_line[c] > 50 for c in ("stored", "duplicate", "rejected", "time", "other_type")), per_line
    # the summary shows the same sum
    table = {m.group(1).strip(): int(m.group(2).replace(",", "")) for m in
             re.finditer(r"│\s*([^│]+?)\s*│\s*([\d,]+)\s*│", result.output)}
    shown = ["in stored messages", "in duplicates", "in other message types", "time sentences ($PGHP, RMC, ZDA)",
             "rejected"]
    assert sum(table[k] for k in shown) == table["lines read"] == n


def test_the_issue_lines_are_rejects(tmp_path: Path) -> None:
    lines = ["\\s:rV,c:16", "\\s:rV,c:1600206421*1C\\%AIVDM,1,1,,A,139>c3hP1T2=JWjASWkSQ2l1P000,0*75", "\\garbage"]
    path = tmp_path / "issue.nmea"
    path.write_text("\n".join(lines) + "\n")
    db = tmp_path / "i.duckdb"
    result = run_cli(["ingest", path], db)
    assert result.exit_code == 0, result.output
    assert query(db, "SELECT line_no, reason FROM rejects ORDER BY line_no") == [
        (1, "bad_tagblock"), (2, "bad_tagblock"), (3, "bad_tagblock")]
    assert json.loads(query(db, "SELECT line_counts FROM sources")[0][0])["rejected"] == 3


def test_payloads_of_the_wrong_length_are_rejects(tmp_path: Path) -> None:
    """A payload of a length its type cannot have is bad_payload, with the bit count and the
    type's lengths; a type that does not exist too. Lengths the wild sends are kept."""
    def line(payload: str, fill: int = 0, t: int = T0) -> str:
        return tagged(_checked(f"AIVDM,1,1,,A,{payload},{fill}"), t, "rA")

    good = position()  # a 168-bit type 1
    payload = good.split(",")[5]
    t5 = encode({"type": 5, "mmsi": 352001234, "shipname": "URAL", "destination": "DOUALA"})
    t5_payload = t5[0].split(",")[5] + t5[1].split(",")[5]  # 424 bits, 71 characters, fill 2
    lines = [
        line("00"),                                 # 12 bits
        line("M" + "1" * 20_000),                   # type 29 (120,006 bits)
        line(payload + "000"),                      # type 1 of 186 bits
        line(payload[:-1], 0),                      # type 1 of 162 bits
        line(payload, 5),                           # type 1 of 163 bits: 28 characters, kept
        line(t5_payload, 0),                        # type 5 of 426 bits (a wrong fill field): kept
        line(t5_payload[:70], 0),                   # type 5 of 420 bits, as in the wild: kept
        line(t5_payload + "0000", 2),               # type 5 of 448 bits
        line("8" + "0" * 300, 0),                   # type 8 of 1806 bits
        line("8" + "0" * 40, 0),                    # type 8 of 246 bits: counted
    ]
    path = tmp_path / "lengths.nmea"
    path.write_text("\n".join(lines) + "\n")
    db = tmp_path / "l.duckdb"
    assert run_cli(["ingest", path], db).exit_code == 0
    assert query(db, "SELECT line_no, reason, detail FROM rejects ORDER BY line_no") == [
        (1, "bad_payload", "type 0 with 12 bits: no AIS message has type 0 (1-27)"),
        (2, "bad_payload", "type 29 with 120006 bits: no AIS message has type 29 (1-27)"),
        (3, "bad_payload", "type 1 with 186 bits; type 1 has 163-168 bits"),
        (4, "bad_payload", "type 1 with 162 bits; type 1 has 163-168 bits"),
        (8, "bad_payload", "type 5 with 448 bits; type 5 has 420-426 bits"),
        (9, "bad_payload", "type 8 with 1806 bits; type 8 has 55-1008 bits"),
    ]
    assert query(db, "SELECT line_no FROM positions") == [(5,)]
    assert query(db, "SELECT line_no, name FROM static_reports ORDER BY 1") == [(6, "URAL"), (7, "URAL")]
    assert json.loads(query(db, "SELECT type_counts FROM sources")[0][0]) == {"1": 1, "5": 2, "8": 1}
    assert json.loads(query(db, "SELECT line_counts FROM sources")[0][0]) == {
        "stored": 3, "duplicate": 0, "other_type": 1, "time": 0, "header": 0, "rejected": 6}


def test_archive_lines_are_accounted_for(tmp_path: Path) -> None:
    """A CSV archive: its header line, rows stored, rows repeated, rows rejected."""
    src = (FIXTURES / "archives" / "noaa_sample.csv").read_bytes()
    rows = src.splitlines()
    data = b"\n".join([rows[0], *rows[1:], rows[1], rows[2], b"", b"garbage,row"]) + b"\n"
    path = tmp_path / "a.csv"
    path.write_bytes(data)
    db, ledger = tmp_path / "a.duckdb", tmp_path / "ledger.tsv"
    assert run_cli(["ingest", path, "--ledger", ledger], db).exit_code == 0
    cats = read_ledger(ledger)[str(path)]
    n = len(sed_lines(data))
    assert sorted(cats) == list(range(1, n + 1))
    assert cats[1] == "header" and cats[n - 2] == cats[n - 3] == "duplicate" and cats[n] == "rejected"
    counts = json.loads(query(db, "SELECT line_counts FROM sources")[0][0])
    assert sum(counts.values()) == n == query(db, "SELECT lines_read FROM sources")[0][0]
    assert counts == {k: v for k, v in Counter(cats.values()).items()} | {
        k: 0 for k in ("stored", "duplicate", "other_type", "time", "header", "rejected") if k not in cats.values()}


def _categories(batches) -> dict[int, str]:  # noqa: ANN001
    """What becomes of each line, from decoded batches, as the loader sees it with an empty
    store (rows kept after the de-duplication within a batch count as stored)."""
    import numpy as np

    from shiptrack.decode.accounting import STORED, LineTally, category_names
    from shiptrack.store.load import Rows, prepare_batch

    got: dict[int, str] = {}

    def hook(lines, cats) -> None:  # noqa: ANN001
        got.update(zip(lines.tolist(), category_names(cats), strict=True))

    tally, last = LineTally(hook=hook), 0
    for batch in batches:
        p = prepare_batch(batch)
        rows = [r.lines() for r in p.frames.values() if isinstance(r, Rows)]
        lines = np.concatenate([p.entry_lines, *rows])
        cats = np.concatenate([p.entry_cats, np.full(sum(r.size for r in rows), STORED, dtype=np.int8)])
        last = max(last, p.last_line)
        tally.add(lines, cats, p.link_from, p.link_to, p.final_below, last)
    tally.finish(last)
    return got


@pytest.mark.parametrize("name", ["fuzzed", "exact-earth-augmented-3.txt", "ais.head12000.txt", "test.aivdm"])
def test_fast_and_reference_paths_account_alike(name: str) -> None:
    """The bulk framer and vectorized decoder (entries made with numpy) and the line framer with
    pyais (entries made one by one) give every line the same category."""
    from shiptrack.decode.stream import decode_nmea

    data = fuzzed_corpus()[0] if name == "fuzzed" else (NMEA / name).read_bytes()
    lines = list(enumerate(sed_lines(data), start=1))
    fast = _categories(decode_nmea(lines))
    ref = _categories(decode_nmea(lines, fast=False))
    assert sorted(fast) == [n for n, _ in lines]
    assert fast == ref
    assert "unaccounted" not in fast.values()
    # in small batches (messages waiting across them: parts, $PGHP, receiver clocks), the same;
    # only a repeat in another batch is no longer a duplicate here (the store would find it)
    def alike(cats: dict[int, str]) -> dict[int, str]:
        return {k: "stored" if v == "duplicate" else v for k, v in cats.items()}

    for size in (37, 701):
        assert alike(_categories(decode_nmea(lines, batch_messages=size))) == alike(ref), size


def test_the_length_check_is_the_same_row_by_row_and_by_column() -> None:
    """nmea.bits_legal (whole columns, the fast path) says what nmea.bits_problem (one message,
    the reference path) says, for every type and every length up to 1,200 bits."""
    import numpy as np

    from shiptrack.decode.reference import bits_legal, bits_problem

    t = np.repeat(np.arange(-1, 64), 1200).astype(np.int8)
    n = np.tile(np.arange(0, 1200), 65).astype(np.int32)
    want = [a >= 0 and bits_problem(int(a), int(b)) is None for a, b in zip(t.tolist(), n.tolist(), strict=True)]
    assert bits_legal(t, n).tolist() == want
    assert bits_problem(1, 168) is None and bits_problem(24, 168, 0) is None and bits_problem(24, 160, 1) == (
        "type 24 part B with 160 bits; type 24 part B has 163-168 bits")
    assert bits_problem(16, 120) == "type 16 with 120 bits; type 16 has 91-96 or 139-144 bits"
