"""Which font prints each character of user text in pdfLaTeX, and what stands in for the rest.

The page's font is Latin Modern in the T1 encoding. Text outside T1 is cut into runs,
each printed in the font encoding or CJK font that has it:

* Vietnamese letters T1 lacks (ư ơ ạ ả ấ ...): T5, still Latin Modern (``vntex``'s
  encoding); the whole word goes to T5, so that its letters come from one font.
* Greek: LGR (``greek-fontenc``), Latin Modern's Greek from the CB fonts.
* Cyrillic: T2A (``cyrillic``), in the scalable Cyrillic fonts (a Times, a Helvetica and
  a Courier: Latin Modern has no Cyrillic, and cm-super's TFMs would be made by
  Metafont at run time).
* Chinese, Japanese and Korean: a ``CJK`` environment of ``CJKutf8`` with a font that
  has every character of the run: Arphic's ``gbsn`` (GB 2312), Wadalab's ``min``
  (JIS X 0208) and ``nanummj`` (Hangul). A run with kana is Japanese, with Hangul
  Korean, else Chinese; a character its first font lacks takes the next that has it.

Everything else (Arabic, Hebrew, Devanagari, emoji, ...) is transliterated to ASCII
(``anyascii``); :func:`fallback` names those characters so that a warning can.

>>> [(r.script, r.text) for r in runs("Nguyễn Thị Hương, Иван & 王小明")]
[('T5', 'Nguyễn Thị Hương'), ('T1', ', '), ('T2A', 'Иван'), ('T1', ' & '), ('zh', '王小明')]
>>> [(r.script, r.text) for r in runs("محمد")]
[('T1', 'mhmd')]
>>> fallback("Zoë محمد 😀")
'محد😀'
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from anyascii import anyascii

Ranges = tuple[tuple[int, int], ...]

#: What T1 with Latin Modern prints (ASCII, Latin-1 and Latin Extended-A, mostly).
T1_RANGES: Ranges = (
    (0x20, 0x7E),
    (0x00A0, 0x00A1),
    (0x00A3, 0x00A3),
    (0x00AB, 0x00AB),
    (0x00AD, 0x00AD),
    (0x00BB, 0x00BB),
    (0x00BF, 0x00D6),
    (0x00D8, 0x00F6),
    (0x00F8, 0x0125),
    (0x0128, 0x0137),
    (0x0139, 0x013E),
    (0x0141, 0x0148),
    (0x014A, 0x0165),
    (0x0168, 0x017E),
    (0x0218, 0x021B),
    (0x2013, 0x2014),
    (0x2018, 0x2019),
    (0x201C, 0x201D),
)
#: The text symbols LaTeX prints beside T1 from the companion encoding TS1 (° ± · × € ...).
TS1_RANGES: Ranges = (
    (0x00A2, 0x00A2),
    (0x00A4, 0x00A9),
    (0x00AC, 0x00AC),
    (0x00AE, 0x00B7),
    (0x00B9, 0x00BA),
    (0x00BC, 0x00BE),
    (0x00D7, 0x00D7),
    (0x00F7, 0x00F7),
    (0x201A, 0x201A),
    (0x201E, 0x201E),
    (0x2020, 0x2022),
    (0x2026, 0x2026),
    (0x2030, 0x2030),
    (0x2039, 0x203A),
    (0x20AC, 0x20AC),
    (0x2122, 0x2122),
    (0x2190, 0x2193),
)
#: T5 (Vietnamese) beyond T1: the horned letters and the letters of Latin Extended
#: Additional (from t5enc.dfu). T5 holds ASCII and the other Vietnamese letters too.
T5_ONLY: Ranges = ((0x01A0, 0x01A1), (0x01AF, 0x01B0), (0x1EA0, 0x1EF9))
T5_LETTERS: Ranges = (
    (0x41, 0x5A),
    (0x61, 0x7A),
    (0x00C0, 0x00C3),
    (0x00C8, 0x00CA),
    (0x00CC, 0x00CD),
    (0x00D2, 0x00D5),
    (0x00D9, 0x00DA),
    (0x00DD, 0x00DD),
    (0x00E0, 0x00E3),
    (0x00E8, 0x00EA),
    (0x00EC, 0x00ED),
    (0x00F2, 0x00F5),
    (0x00F9, 0x00FA),
    (0x00FD, 0x00FD),
    (0x0102, 0x0103),
    (0x0110, 0x0111),
    (0x0128, 0x0129),
    (0x0168, 0x0169),
    *T5_ONLY,
)
#: Greek in LGR (from lgrenc.dfu): the letters, tonos and polytonic; not the symbol
#: forms U+03CF..U+03FF (greek-fontenc has them in math only).
LGR_RANGES: Ranges = (
    (0x0374, 0x0375),
    (0x037A, 0x037A),
    (0x037E, 0x037E),
    (0x0384, 0x038A),
    (0x038C, 0x038C),
    (0x038E, 0x03A1),
    (0x03A3, 0x03CE),
    (0x1F00, 0x1F15),
    (0x1F18, 0x1F1D),
    (0x1F20, 0x1F45),
    (0x1F48, 0x1F4D),
    (0x1F50, 0x1F57),
    (0x1F59, 0x1F59),
    (0x1F5B, 0x1F5B),
    (0x1F5D, 0x1F5D),
    (0x1F5F, 0x1F7D),
    (0x1F80, 0x1FB4),
    (0x1FB6, 0x1FC4),
    (0x1FC6, 0x1FD3),
    (0x1FD6, 0x1FDB),
    (0x1FDD, 0x1FEF),
    (0x1FF2, 0x1FF4),
    (0x1FF6, 0x1FFE),
)
#: Cyrillic in T2A (from t2aenc.dfu), all in the scalable Cyrillic fonts.
T2A_RANGES: Ranges = (
    (0x0400, 0x045F),
    (0x0490, 0x0493),
    (0x0496, 0x049D),
    (0x04A0, 0x04A5),
    (0x04AA, 0x04AB),
    (0x04AE, 0x04B3),
    (0x04B6, 0x04BB),
    (0x04C0, 0x04C2),
    (0x04D0, 0x04DF),
    (0x04E2, 0x04E9),
    (0x04EC, 0x04F5),
    (0x04F8, 0x04F9),
    (0x2116, 0x2116),
)
KANA: Ranges = ((0x3040, 0x30FF), (0x31F0, 0x31FF))
HANGUL: Ranges = ((0x3131, 0x318E), (0xAC00, 0xD7A3))
#: Han ideographs, CJK punctuation and full-width forms: Chinese, Japanese or Korean.
HAN: Ranges = ((0x3000, 0x303F), (0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xFF01, 0xFF5E))

#: The font encodings besides T1, in the order fontenc loads them (T1 last: the default).
ENCODINGS = ("T2A", "LGR", "T5")
#: CJK fonts of each language, the language's own first, then the others in turn.
CJK_FONTS = {"zh": ("gbsn", "min", "nanummj"), "ja": ("min", "gbsn", "nanummj")}
CJK_FONTS["ko"] = ("nanummj", "min", "gbsn")


def _in(char: str, ranges: Ranges) -> bool:
    cp = ord(char)
    return any(lo <= cp <= hi for lo, hi in ranges)


def _two_bytes(char: str, codec: str) -> bool:
    try:
        return len(char.encode(codec)) == 2
    except UnicodeEncodeError:
        return False


def cjk_font_has(font: str, char: str) -> bool:
    """Whether a CJK font has a character: its character set, less the few characters
    whose glyphs the Debian fonts lack (tests/test_scripts.py checks this against their
    TFM files).

    >>> cjk_font_has("gbsn", "王"), cjk_font_has("gbsn", "陳"), cjk_font_has("min", "陳")
    (True, False, True)
    """
    if font == "gbsn":
        return _two_bytes(char, "gb2312") and char not in "\u2015\u30fb"
    if font == "min":
        return _two_bytes(char, "shift_jis") and char != "\uff3c"
    return _in(char, HANGUL)  # nanummj: every Hangul syllable and jamo, no Hanja


#: The scripts after T1, in the order a character is tried in them (the first that has it).
SCRIPTS: tuple[tuple[str, Ranges], ...] = (
    ("T5", T5_ONLY),
    ("LGR", LGR_RANGES),
    ("T2A", T2A_RANGES),
    ("ja", KANA),
    ("ko", HANGUL),
    ("han", HAN),
)


def _script(char: str) -> str | None:
    """T1, T5, LGR, T2A, ja, ko or han (Chinese, Japanese or Korean); None: no font."""
    if char in _T1_CHARS:
        return "T1"
    return next((name for name, ranges in SCRIPTS if _in(char, ranges)), None)


@dataclass(frozen=True, slots=True)
class Run:
    """A stretch of text printed in one way: ``script`` is T1, T5, LGR or T2A (a font
    encoding) or zh, ja or ko (a CJK font, ``font``)."""

    script: str
    text: str
    font: str = ""


def _classes(text: str) -> tuple[list[str | None], list[tuple[str, ...]]]:
    """Each character's script, and for CJK the order of the fonts it is tried in."""
    classes = [_script(ch) for ch in text]
    order: list[tuple[str, ...]] = [()] * len(text)
    # a word with a T5 letter is T5 as a whole (its letters from one font)
    k = 0
    while k < len(text):
        end = k
        while end < len(text) and _in(text[end], T5_LETTERS):
            end += 1
        if end > k:
            if "T5" in classes[k:end]:
                classes[k:end] = ["T5"] * (end - k)
            k = end
        else:
            k += 1
    # a CJK stretch (spaces inside it too) is one language: kana Japanese, Hangul Korean
    k = 0
    while k < len(text):
        if classes[k] not in ("ja", "ko", "han"):
            k += 1
            continue
        end = k
        while end < len(text) and (
            classes[end] in ("ja", "ko", "han")
            or (
                text[end] == " " and end + 1 < len(text) and classes[end + 1] in ("ja", "ko", "han")
            )
        ):
            end += 1
        stretch = classes[k:end]
        lang = "ja" if "ja" in stretch else "ko" if "ko" in stretch else "zh"
        # the first font of the language's that has the whole stretch goes first
        whole = [
            f for f in CJK_FONTS[lang] if all(cjk_font_has(f, c) for c in text[k:end] if c != " ")
        ]
        order[k:end] = [tuple(whole[:1]) + CJK_FONTS[lang]] * (end - k)
        for j in range(k, end):
            classes[j] = lang if text[j] != " " else f"{lang} "
        k = end
    return classes, order


#: Every character T1 and TS1 print: text of these alone is one T1 run (most text is).
_T1_CHARS = frozenset(chr(cp) for lo, hi in (*T1_RANGES, *TS1_RANGES) for cp in range(lo, hi + 1))


def _pieces(text: str) -> list[tuple[str, str, str]]:
    """(script, CJK font, text) of each stretch; script "" where no font has it."""
    if _T1_CHARS.issuperset(text):
        return [("T1", "", text)] if text else []
    classes, order = _classes(text)
    pieces: list[tuple[str, str, str]] = []
    for k, (ch, cls) in enumerate(zip(text, classes, strict=True)):
        if cls in CJK_FONTS:
            font = next((f for f in order[k] if cjk_font_has(f, ch)), None)
            piece = (cls, font, ch) if font else ("", "", ch)
        elif cls in ("zh ", "ja ", "ko "):  # a space inside a CJK stretch: its font's run
            piece = (pieces[-1][0], pieces[-1][1], ch) if pieces else ("T1", "", ch)
        elif ch == " " and pieces and pieces[-1][0] in ENCODINGS and _continues(classes, k):
            piece = (pieces[-1][0], "", ch)  # a space between two words of one encoding
        else:
            piece = (cls or "", "", ch)
        if pieces and pieces[-1][:2] == piece[:2]:
            pieces[-1] = (piece[0], piece[1], pieces[-1][2] + ch)
        else:
            pieces.append(piece)
    return pieces


def _continues(classes: list[str | None], index: int) -> bool:
    """Whether the character after the space at ``index`` is of the script before it."""
    return index + 1 < len(classes) and classes[index + 1] == classes[index - 1]


def _clean(text: str) -> str:
    return " ".join(unicodedata.normalize("NFC", text).split())


def runs(text: str) -> list[Run]:
    """``text`` (NFC, its white space one space) cut into runs of one script each; the
    characters no font has come as a T1 run of their transliteration."""
    out: list[Run] = []
    for script, font, part in _pieces(_clean(text)):
        if not script:  # no font: its transliteration, as T1
            script, part = "T1", anyascii(part) or " ".join(f"U+{ord(c):04X}" for c in part)
        if out and out[-1].script == script == "T1":
            out[-1] = Run("T1", out[-1].text + part)
        else:
            out.append(Run(script, part, font))
    return out


def fallback(text: str) -> str:
    """The characters of ``text`` no font prints (they are transliterated)."""
    bad = "".join(part for script, _, part in _pieces(_clean(text)) if not script)
    return "".join(dict.fromkeys(bad))


def printed(text: str) -> str:
    """``text`` as the PDF shows it (transliterations in place of what no font has).

    >>> printed("Zoë محمد")
    'Zoë mhmd'
    """
    return "".join(r.text for r in runs(text))


@dataclass(frozen=True, slots=True)
class Needs:
    """What a document's preamble loads for the text it prints."""

    encodings: tuple[str, ...] = ()
    """Font encodings besides T1 (of :data:`ENCODINGS`)."""
    cjk: bool = False

    @property
    def fontenc(self) -> str:
        """fontenc's option: ``T1``, or ``T2A,LGR,T1`` and so on (T1 last, the default)."""
        return ",".join([*self.encodings, "T1"])


def needs(texts: Iterable[str]) -> Needs:
    """The encodings and CJK fonts the texts print in.

    >>> needs(["Zoë", "Иван", "王"])
    Needs(encodings=('T2A',), cjk=True)
    """
    scripts = {r.script for t in texts for r in runs(t)}
    return Needs(tuple(e for e in ENCODINGS if e in scripts), bool(scripts & {"zh", "ja", "ko"}))
