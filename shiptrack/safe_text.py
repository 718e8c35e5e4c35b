"""Untrusted text made safe for each output: terminal, Markdown, XML, CSV.

AIS names and destinations are typed by anyone with a transponder, and archive files
carry whatever their makers wrote, so a vessel name can hold an ANSI escape that
retitles the terminal, a ``<script>`` or a ``[link](javascript:...)`` for a Markdown
viewer, a NUL that makes KML unreadable. Every output path passes text through the
function for its format here; the characters are shown (as ``\\x1b``), never obeyed.
"""

from __future__ import annotations

import re

# C0 and C1 controls, DEL, and the invisible format characters that reorder or hide
# text (bidirectional overrides and isolates, zero-width marks, the BOM).
_CONTROL_RE = re.compile("[\x00-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]")
_CONTROL_KEEP_LAYOUT_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]")
# What XML 1.0 forbids outright (it has no escape for these).
_XML_FORBIDDEN_RE = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_MD_SPECIAL = {"&": "&amp;", "<": "&lt;", "|": "\\|", "[": "\\[", "]": "\\]"}  # no tag opens without <
_MD_RE = re.compile("[&<|\\[\\]]")


def _visible(m: re.Match[str]) -> str:
    c = m.group(0)
    return f"\\x{ord(c):02x}" if ord(c) < 0x100 else f"\\u{ord(c):04x}"


def terminal(text: object) -> str:
    """Text for a terminal cell or line: every control and format character shown as an
    escape (``\\x1b``, ``\\n``-as-``\\x0a``), so nothing in it moves the cursor, recolours,
    retitles or clears the screen."""
    return _CONTROL_RE.sub(_visible, "" if text is None else str(text))


def rich_text(text: object):  # noqa: ANN201 - rich.text.Text, imported lazily
    """A rich ``Text`` of :func:`terminal` text: shown as is, no markup, no emoji codes."""
    from rich.text import Text

    return Text(terminal(text))


def markdown(text: object) -> str:
    """Text for a Markdown table cell or line: HTML and link syntax escaped, line
    breaks (``\\r``, ``\\n``) as spaces, other controls shown as escapes."""
    s = "" if text is None else str(text)
    s = s.replace("\r\n", " ").replace("\r", " ").replace("\n", " ")
    s = _MD_RE.sub(lambda m: _MD_SPECIAL[m.group(0)], s)
    return _CONTROL_RE.sub(_visible, s)


def xml(text: object) -> str:
    """Text for XML (KML): the characters XML cannot hold are dropped, then ``&<>"'`` escaped."""
    from xml.sax.saxutils import escape

    s = _XML_FORBIDDEN_RE.sub("", "" if text is None else str(text))
    return escape(s, {'"': "&quot;", "'": "&apos;"})


def csv_cell(text: str | None) -> str | None:
    """Text for a CSV cell: controls other than tab and line breaks shown as escapes (no
    NUL, no ESC reaches a spreadsheet or a terminal that cats the file)."""
    return None if text is None else _CONTROL_KEEP_LAYOUT_RE.sub(_visible, text)


CSV_CONTROL_PATTERN = _CONTROL_KEEP_LAYOUT_RE.pattern
