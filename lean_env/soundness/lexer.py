"""A tokenizer that agrees with Lean 4's own lexer on where comments, strings, char literals and
identifiers begin and end. Pure text, no Lean needed.

Why: the allowlist (lean_env/soundness/allowlist.py) must see exactly the code Lean will elaborate. A
home-made comment stripper that disagrees with Lean on one spelling (`«x/-»`, `r#"…"#`, `'"'`)
lets commands hide from the allowlist. This module follows Lean 4.35's `Lean.Parser.Basic`
(`whitespace`, `finishCommentBlock`, `strLitFnAux`, `rawStrLitFnAux`, `charLitFnAux`,
`numberFnAux`, `identFnAux`, `tokenFnAux`) and `Init.Meta` (`isLetterLike`, `isSubScriptAlnum`);
tests/test_lexer.py checks it against the bundled Lean itself.

Facts it relies on (checked on Lean 4.35):
- Lean reads `\\r\\n` as `\\n`; an isolated `\\r`, a tab or any other Unicode space (U+00A0,
  U+2028 ...) outside a comment or string is an error, not whitespace; in a doc comment
  (`/--`, `/-!`) a tab or an isolated `\\r` is an error too, after which Lean reads the rest of
  the doc comment as code (plain comments may hold anything).
- After a lexical error inside a token (a bad escape, a char literal without its closing quote)
  Lean resumes *at the error position*, so text that looked quoted becomes code; after an error
  at a token's start (an unterminated string, an unknown character) it skips one byte, which for
  a non-ASCII character lands mid-character (Lean/Parser/Module.lean `parseCommand`). This lexer
  emits an `error` token and resumes where Lean resumes inside tokens, one character on
  otherwise; the allowlist refuses any text with an `error` token, so only error-free texts need
  to (and do) match Lean exactly.
- Symbols depend on the environment's token table, which a text tokenizer cannot know. Only the
  boundaries matter here: the multi-character tokens in SYMBOLS are the ones whose later
  characters could otherwise start a comment (`<-` before `-`, `//` before `-`). Listing a token
  Lean lacks only makes this lexer see more code, never less. Interpolated strings (`s!"…{x}…"`)
  are lexed by Lean as code inside `{}`; the allowlist refuses strings containing `{` for that.
"""
from __future__ import annotations

import bisect
import re
import unicodedata
from typing import NamedTuple

# kinds
IDENT, NAME, STRING, CHAR, NUMBER, SYMBOL = "ident", "name", "string", "char", "number", "symbol"
COMMENT, DOC_COMMENT, SPACE, ERROR = "comment", "doc_comment", "space", "error"


class Token(NamedTuple):
    kind: str
    text: str
    start: int  # offsets into the text given to tokenize (code points)
    end: int
    line: int  # 1-based
    col: int  # 0-based, in code points (as Lean reports)
    parts: tuple[str, ...] = ()  # ident/name: components, «» removed, a leading `_root_` removed
    root: bool = False  # ident/name: written with a leading `_root_` (in any spelling)
    escaped: bool = False  # ident/name: some component was written in «»
    message: str = ""  # error: what Lean would say

    @property
    def name(self) -> str:
        """The normalized dotted name (`«Nat».add`, `_root_.Nat.add` -> `Nat.add`)."""
        return ".".join(self.parts)

    @property
    def is_code(self) -> bool:
        return self.kind not in (COMMENT, DOC_COMMENT, SPACE)


def _letter_like(o: int) -> bool:
    return ((0x3B1 <= o <= 0x3C9 and o != 0x3BB) or (0x391 <= o <= 0x3A9 and o not in (0x3A0, 0x3A3))
            or 0x3CA <= o <= 0x3FB or 0x1F00 <= o <= 0x1FFE or 0x2100 <= o <= 0x214F
            or 0x1D49C <= o <= 0x1D59F
            or (0xC0 <= o <= 0xFF and o not in (0xD7, 0xF7)) or 0x100 <= o <= 0x17F)


def _subscript(o: int) -> bool:
    return 0x2080 <= o <= 0x2089 or 0x2090 <= o <= 0x209C or 0x1D62 <= o <= 0x1D6A or o == 0x2C7C


def _ranges(pred, lo: int = 0x80, hi: int = 0x1D5A0) -> str:
    """A regex character-class body for the code points in [lo, hi) satisfying pred."""
    out, start = [], None
    for o in range(lo, hi + 1):
        ok = o < hi and pred(o)
        if ok and start is None:
            start = o
        elif not ok and start is not None:
            out.append(f"\\U{start:08x}-\\U{o - 1:08x}")
            start = None
    return "".join(out)


_LETTER = _ranges(_letter_like)
_SUB = _ranges(_subscript)
_ID_FIRST = f"A-Za-z_{_LETTER}"
_ID_REST = f"A-Za-z0-9_'!?{_LETTER}{_SUB}"
_ATOM_RE = re.compile(f"[{_ID_FIRST}][{_ID_REST}]*")
_ID_FIRST_RE = re.compile(f"[{_ID_FIRST}«]")
_SPACE_RE = re.compile(r"[ \n]+")
_COMMENT_DELIM_RE = re.compile(r"/-|-/")
_DOC_BAD_RE = re.compile(r"[\t\r]")
_HEX = "0-9a-fA-F"
_HEX_DIGITS = set("0123456789abcdefABCDEF")
# a string body up to the closing quote; escapes as quotedCharCoreFn (inString): \\ \" \' \r \n \t,
# \xHH, \uHHHH, and a gap: backslash, newline, spaces/tabs/CRs with no second newline, then a non-space
_STR_BODY_RE = re.compile(
    rf'(?:[^"\\]|\\[\\"\'rnt]|\\x[{_HEX}]{{2}}|\\u[{_HEX}]{{4}}|\\\n[ \t\r]*(?=[^ \t\r\n]))*"')
_CHAR_RE = re.compile(rf"(?:[^\\]|\\[\\\"'rnt]|\\x[{_HEX}]{{2}}|\\u[{_HEX}]{{4}})'", re.S)
# takeDigitsFn: digits, each run of `_` followed by a digit (a trailing `_` is an error)
_DEC_RE = re.compile(r"[0-9](?:_*[0-9])*")
_NUM_RES = {"b": re.compile(r"(?:_*[01])*"), "o": re.compile(r"(?:_*[0-7])*"), "x": re.compile(rf"(?:_*[{_HEX}])*")}
_RAW_START_RE = re.compile(r'r(#*)"')
_DOUBLE_BACKTICK_RAW_RE = re.compile(r'``r#*"')
# After a non-ASCII character that is not a token in the environment, Lean skips one byte, lands
# mid-character and reads an identifier on through the identifier characters that follow, `'`
# included; this lexer would read that `'` as a char literal. So a non-ASCII symbol followed by
# identifier characters containing `'` is an error here (a space after the symbol avoids it), and
# so is one followed by `r"`/`r#` (a raw string here, `r` then a plain string or `#` to Lean);
# unless the symbol is a token of Lean's builtin syntax (in every environment; checked on 4.35).
_GARBAGE_AFTER = f"[{_ID_REST}.]*(?:'|(?<=r)[#\"])"
_GARBAGE_QUOTE_RE = re.compile(_GARBAGE_AFTER)
_BUILTIN_TOKEN_CHARS = "⟨⟩→←↔∀∃¬∧∨·λ⦃⦄▸"
# The common tokens in one regex (the rest go through the handlers below): spaces, line comments,
# identifiers without «» (not followed by `.«`), plain decimals, and one-character symbols that
# cannot start any other token.
_FAST_RE = re.compile(
    r"(?P<sp>[ \n]+)|(?P<lc>--[^\n]*)"
    rf"|(?P<id>(?!r#*\")(?>[{_ID_FIRST}][{_ID_REST}]*(?:\.[{_ID_FIRST}][{_ID_REST}]*)*)(?!\.«))"
    r"|(?P<num>(?<!\.)[0-9]+)(?![0-9_.eExXbBoO])"
    r"|(?P<sym>:=|=>|::|<->|<-|->|\.\.|@\[|%\[|-(?![-/])|[()\[\]{},;+*^|&!?$~>:=<.@%]"
    rf"|[{_BUILTIN_TOKEN_CHARS}]|[≤≥≠∣√∘×•≡∈∉⊆⊂∩∪⌊⌋⌈⌉‖](?!{_GARBAGE_AFTER}))")
_HASH_CMD_RE = re.compile(f"#[{_ID_FIRST}][{_ID_REST}]*")  # `#eval`, `#check` ... one token

# Multi-character symbols whose later characters matter for boundaries (see module docstring);
# longest first. Everything else is lexed one character at a time.
SYMBOLS = ("<->", "<-", "//", "\\/", "/\\", "`(", "`[", "@[", "#[", "%[", ":=", "=>", "->", "..", "::",
           "⁻¹'", "∑'", "∏'")
_SYMBOLS_BY_FIRST: dict[str, tuple[str, ...]] = {}
for _sym in sorted(SYMBOLS, key=len, reverse=True):
    _SYMBOLS_BY_FIRST[_sym[0]] = _SYMBOLS_BY_FIRST.get(_sym[0], ()) + (_sym,)
# Mathlib tokens that end in `'` (`f ⁻¹' s`, `f '' s`, `∑' i, f i`). Where the environment lacks
# them Lean reads that `'` as the start of a char literal and resumes two characters later; so
# neither of the two characters after it may start a comment, string, char, «» or raw string.
_AFTER_QUOTE_BAD = set("\"'-/«`\\")


def _error_char(c: str) -> bool:
    """Characters Lean never accepts outside comments and strings: tabs, lone CRs, control
    characters and every Unicode space or separator (U+00A0, U+2028, U+2029 ...)."""
    return c in "\t\r" or unicodedata.category(c) in ("Zs", "Zl", "Zp", "Cc", "Cf", "Co", "Cs", "Cn")


class _Lexer:
    def __init__(self, text: str):
        self.orig = text
        # Lean reads CRLF as LF; lex the normalized text and map offsets back
        self.crs: list[int] = []  # positions in the normalized text after which a `\r` was dropped
        if "\r\n" in text:
            pos, shift = [], 0
            for m in re.finditer("\r\n", text):
                pos.append(m.start() - shift)
                shift += 1
            self.crs = pos
            text = text.replace("\r\n", "\n")
        self.s = text
        self.n = len(text)
        self.lines = [0] + [m.end() for m in re.finditer("\n", text)]
        self.out: list[Token] = []
        # what is known never to close, so that failing scans to the end happen once (linear time)
        self.open_string_from = -1
        self.no_guillemet_after = -1
        self.raw_unclosed: set[int] = set()

    def orig_offset(self, i: int) -> int:
        return i + bisect.bisect_right(self.crs, i - 1) if self.crs else i

    def emit(self, kind: str, i: int, j: int, parts=(), root=False, escaped=False, message="") -> None:
        line = bisect.bisect_right(self.lines, i)
        col = i - self.lines[line - 1]
        if self.crs:
            a, b = self.orig_offset(i), self.orig_offset(j)
            self.out.append(Token(kind, self.orig[a:b], a, b, line, col, parts, root, escaped, message))
        else:
            self.out.append(Token(kind, self.s[i:j], i, j, line, col, parts, root, escaped, message))

    def error(self, i: int, resume: int, message: str) -> int:
        """An error token from i; Lean resumes at `resume` (at least one character on)."""
        resume = max(resume, i + 1)
        self.emit(ERROR, i, resume, message=message)
        return resume

    def run(self, spaces: bool = True) -> list[Token]:
        s, n, i = self.s, self.n, 0
        fast, out, lines, crs, new = _FAST_RE.match, self.out, self.lines, self.crs, tuple.__new__
        kinds = {"sp": SPACE, "lc": COMMENT, "num": NUMBER, "sym": SYMBOL}
        while i < n:
            m = None if crs else fast(s, i)
            if m:  # the hot path, inlined
                j, k = m.end(), m.lastgroup
                if k == "sp" and not spaces:
                    i = j
                    continue
                line = bisect.bisect_right(lines, i)
                if k == "id":
                    parts = tuple(m.group().split("."))
                    root = parts[0] == "_root_" and len(parts) > 1
                    out.append(new(Token, (IDENT, m.group(), i, j, line, i - lines[line - 1],
                                           parts[1:] if root else parts, root, False, "")))
                else:
                    out.append(new(Token, (kinds[k], m.group(), i, j, line, i - lines[line - 1], (), False, False, "")))
                i = j
                continue
            c = s[i]
            if c == " " or c == "\n":
                j = _SPACE_RE.match(s, i).end()
                if spaces:
                    self.emit(SPACE, i, j)
                i = j
            elif c == "-" and s.startswith("--", i):
                j = s.find("\n", i)
                j = n if j < 0 else j
                self.emit(COMMENT, i, j)
                i = j
            elif c == "/" and s.startswith("/-", i):
                doc = i + 2 < n and s[i + 2] in "-!"
                j = self.block_end(i + 3 if doc else i + 2)
                bad = _DOC_BAD_RE.search(s, i, j) if doc and j > 0 else None
                if j < 0:
                    i = self.error(i, n, "unterminated comment")
                elif bad:  # Lean 4.35 rejects tabs and lone CRs in doc comments, and reads on from there
                    i = self.error(i, bad.start(), "tabs and isolated carriage returns are not allowed in doc comments")
                else:
                    self.emit(DOC_COMMENT if doc else COMMENT, i, j)
                    i = j
            elif c == '"':
                i = self.string(i)
            elif c == "'":
                i = self.char(i) if not s.startswith("''", i) else self.quote_symbol(i, i + 2)
            elif "0" <= c <= "9":
                i = self.number(i)
            elif c == "`" and i + 1 < n and _ID_FIRST_RE.match(s, i + 1):
                i = self.ident(i + 1, NAME, i)
            elif c == "`" and _DOUBLE_BACKTICK_RAW_RE.match(s, i):
                # ``r"…": Lean's ``name parser reads a raw string here, its error recovery a name
                i = self.error(i, i + 1, "``r\" reads as a name or a raw string depending on the parser")
            elif c == "r" and _RAW_START_RE.match(s, i):
                i = self.raw_string(i)
            elif _ID_FIRST_RE.match(s, i):
                i = self.ident(i, IDENT, i)
            elif c == "#" and _HASH_CMD_RE.match(s, i):
                j = _HASH_CMD_RE.match(s, i).end()
                self.emit(SYMBOL, i, j)
                i = j
            elif _error_char(c):
                i = self.error(i, i + 1, "expected token" if c not in "\t\r" else
                               ("tabs are not allowed" if c == "\t" else "isolated carriage returns are not allowed"))
            else:
                for sym in _SYMBOLS_BY_FIRST.get(c, ()):
                    if s.startswith(sym, i):
                        break
                else:
                    sym = c
                if sym.endswith("'"):
                    i = self.quote_symbol(i, i + len(sym))
                    continue
                if len(sym) == 1 and c > "\x7f" and c not in _BUILTIN_TOKEN_CHARS and _GARBAGE_QUOTE_RE.match(s, i + 1):
                    i = self.error(i, i + 1, "a `'` soon after this character reads differently where it is not "
                                   "a token; put a space after the character")
                    continue
                self.emit(SYMBOL, i, i + len(sym))
                i += len(sym)
        return self.out

    def quote_symbol(self, i: int, j: int) -> int:
        """A symbol ending in `'` at [i, j), or an error where reading that `'` as a char
        literal's start would move the boundaries of what follows (see _AFTER_QUOTE_BAD)."""
        after = self.s[j : j + 3]
        if set(after[:2]) & _AFTER_QUOTE_BAD or _RAW_START_RE.match(self.s, j) or _RAW_START_RE.match(self.s, j + 1):
            # resume at the `'` as Lean does where the token is undeclared (a char literal starts)
            return self.error(i, j - 1, "a `'` token followed by quote or comment characters reads differently "
                              "where the token is not declared; put a space after it")
        self.emit(SYMBOL, i, j)
        return j

    def block_end(self, j: int) -> int:
        """End offset of a block comment whose body starts at j (nesting 1), or -1."""
        depth = 1
        for m in _COMMENT_DELIM_RE.finditer(self.s, j):
            depth += 1 if m.group() == "/-" else -1
            if depth == 0:
                return m.end()
        return -1

    def escape(self, j: int, in_string: bool) -> tuple[int, str]:
        """quotedCharCoreFn at the backslash j: (offset after the escape, "") or (Lean's error
        position, message)."""
        s, n = self.s, self.n
        if j + 1 >= n:
            return n, "unexpected end of input"
        c = s[j + 1]
        if c in "\\\"'rnt":
            return j + 2, ""
        if c in "xu":
            for k in range(j + 2, j + (4 if c == "x" else 6)):
                if k >= n or s[k] not in _HEX_DIGITS:
                    return min(k, n), "invalid hexadecimal numeral"
            return j + (4 if c == "x" else 6), ""
        if in_string and c == "\n":  # a gap: one newline, then spaces, tabs and CRs
            k = j + 2
            while k < n and s[k] in " \t\r\n":
                if s[k] == "\n":
                    return k, "unexpected additional newline in string gap"
                k += 1
            return k, ""
        return j + 1, "invalid escape sequence"

    def string(self, i: int) -> int:
        if self.open_string_from >= 0:  # an earlier string never closed: nor does this one
            return self.error(i, i + 1, "unterminated string literal")
        m = _STR_BODY_RE.match(self.s, i + 1)
        if m:
            self.emit(STRING, i, m.end())
            return m.end()
        # the fast match failed: find where Lean stops, at a bad escape or at the end of the text
        s, j, q = self.s, i + 1, -1
        while True:
            b = s.find("\\", j)
            if q < j:
                q = s.find('"', j)
            if q >= 0 and (b < 0 or q < b):  # (a gap just before the closing quote)
                self.emit(STRING, i, q + 1)
                return q + 1
            if b < 0:
                # every later quote is escaped in this reading, and so in theirs: remember (linear time)
                self.open_string_from = i
                return self.error(i, i + 1, "unterminated string literal")
            j, message = self.escape(b, True)
            if message:
                return self.error(i, j, message)

    def char(self, i: int) -> int:
        m = _CHAR_RE.match(self.s, i + 1)
        if m:
            self.emit(CHAR, i, m.end())
            return m.end()
        s, n = self.s, self.n
        if i + 1 >= n:
            return self.error(i, n, "unexpected end of input")
        p = i + 2
        if s[i + 1] == "\\":
            p, message = self.escape(i + 1, False)
            if message:
                return self.error(i, p, message)
        return self.error(i, min(p + 1, n), "missing end of character literal")

    def raw_string(self, i: int) -> int:
        hashes = _RAW_START_RE.match(self.s, i).group(1)
        body = i + 2 + len(hashes)
        close = self.s.find('"' + hashes, body) if len(hashes) not in self.raw_unclosed else -1
        if close < 0:
            self.raw_unclosed.add(len(hashes))  # no later raw string with as many `#` closes either
            return self.error(i, i + 1, "unterminated raw string literal")
        j = close + 1 + len(hashes)
        self.emit(STRING, i, j)
        return j

    def number(self, i: int) -> int:
        s, n = self.s, self.n
        if i > 0 and s[i - 1] == ".":  # a projection index (`h.1.2`, `h.2.elim`): Lean reads digits only
            j = re.compile("[0-9]+").match(s, i).end()
            self.emit(NUMBER, i, j)
            return j
        if s[i] == "0" and i + 1 < n and s[i + 1] in "bBoOxX":
            j = _NUM_RES[s[i + 1].lower()].match(s, i + 2).end()
            if j == i + 2 or (j < n and s[j] == "_"):
                return self.error(i, j, "expected digits")
            self.emit(NUMBER, i, j)
            return j
        j = _DEC_RE.match(s, i).end()
        if j < n and s[j] == "_":
            return self.error(i, j, "expected a digit after `_`")
        if j < n and s[j] in ".eE":
            if s[j] == ".":
                j += 1
                if j < n and s[j].isdigit() and s[j].isascii():
                    j = _DEC_RE.match(s, j).end()
            if j < n and s[j] in "eE":
                k = j + 1
                if k < n and s[k] in "+-":
                    k += 1
                if not (k < n and "0" <= s[k] <= "9"):
                    return self.error(i, k, "missing exponent digits in scientific literal")
                j = _DEC_RE.match(s, k).end()
            if j < n and s[j] == "_":
                return self.error(i, j, "expected a digit after `_`")
        self.emit(NUMBER, i, j)
        return j

    def ident(self, i: int, kind: str, start: int) -> int:
        s, n = self.s, self.n
        parts: list[str] = []
        escaped = False
        while True:
            if s[i] == "«":
                close = s.find("»", i + 1) if self.no_guillemet_after < 0 else -1
                if close < 0:
                    self.no_guillemet_after = i
                if close < 0:
                    return self.error(start, i + 1, "unterminated identifier escape")
                parts.append(s[i + 1 : close])
                escaped = True
                i = close + 1
            else:
                m = _ATOM_RE.match(s, i)
                parts.append(m.group())
                i = m.end()
            if i + 1 < n and s[i] == "." and _ID_FIRST_RE.match(s, i + 1):
                i += 1
                continue
            break
        root = parts[0] == "_root_" and len(parts) > 1
        self.emit(kind, start, i, parts=tuple(parts[1:] if root else parts), root=root, escaped=escaped)
        return i


def tokenize(text: str, spaces: bool = True) -> list[Token]:
    """Every token of the text, comments included (and spaces unless `spaces=False`), in order;
    lexical errors become `error` tokens and lexing resumes where Lean resumes. Linear time."""
    return _Lexer(text).run(spaces)


def code_tokens(text: str) -> list[Token]:
    """The tokens Lean elaborates: everything but spaces and (doc) comments."""
    return [t for t in tokenize(text, spaces=False) if t[0] not in _NOT_CODE]


_NOT_CODE = frozenset({COMMENT, DOC_COMMENT, SPACE})


def blank_comments(text: str, keep_layout: bool = True) -> str:
    """The text with every comment (doc comments included) blanked: with keep_layout each comment
    character becomes a space (newlines kept) so offsets and lines still match."""
    out, last = [], 0
    for t in tokenize(text):
        if t.kind in (COMMENT, DOC_COMMENT):
            out.append(text[last : t.start])
            out.append(re.sub(r"[^\n]", " ", t.text) if keep_layout else ("\n" if "\n" in t.text else " "))
            last = t.end
    out.append(text[last:])
    return "".join(out)
