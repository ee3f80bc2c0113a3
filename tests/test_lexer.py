"""The lexer agrees with Lean 4's on comments, strings, chars and identifiers: unit cases for each
construct, then (marked `lean`) the same question put to the bundled Lean itself, on a table of
known tricks and on texts hypothesis generates from tricky fragments."""
import re

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from lean_env.soundness.lexer import code_tokens, tokenize
from tests.lean_probes import lean_runner, mark, probes


def kinds(text):
    return [(t.kind, t.text) for t in tokenize(text) if t.kind != "space"]


def code(text):
    return [t.text for t in code_tokens(text)]


# --- comments -------------------------------------------------------------------------------

def test_line_and_nested_block_comments():
    assert kinds("a -- b /- c\nd") == [("ident", "a"), ("comment", "-- b /- c"), ("ident", "d")]
    assert kinds("/- a /- b -/ c -/ d") == [("comment", "/- a /- b -/ c -/"), ("ident", "d")]
    assert kinds("/-/ x -/ y") == [("comment", "/-/ x -/"), ("ident", "y")]  # `/-/` does not close


def test_doc_comments_nest_like_block_comments():
    assert kinds("/-- a /- b -/ -/ x") == [("doc_comment", "/-- a /- b -/ -/"), ("ident", "x")]
    assert kinds("/-! mod -/ x")[0] == ("doc_comment", "/-! mod -/")


def test_tabs_and_lone_crs_break_doc_comments_only():
    # Lean 4.35 reports them inside `/--` and `/-!` and reads the rest of the doc comment as code
    assert [t.kind for t in tokenize("/--\tx -/")][:2] == ["error", "error"]
    assert tokenize("/-! a\rb -/")[0].kind == "error"
    assert [t.kind for t in tokenize("/- a\tb\rc -/ -- d\te")] == ["comment", "space", "comment"]


def test_unterminated_comment_is_an_error_to_the_end():
    (t,) = [t for t in tokenize("x /- a /- b -/ #eval 1") if t.kind == "error"]
    assert t.text == "/- a /- b -/ #eval 1" and "unterminated comment" in t.message


# --- strings ----------------------------------------------------------------------------------

@pytest.mark.parametrize("text", [r'"a\"b"', r'"a\\"', r'"\x41"', r'"\u0041"', r'"\t\n\r\'"', '"a\\\n   b"',
                                  '"multi\nline -- not a comment"', '"/- not a comment"'])
def test_string_literals(text):
    assert kinds(text + " x") == [("string", text), ("ident", "x")]


@pytest.mark.parametrize("text,resume", [
    (r'"a\q #eval 1"', "q"),        # bad escape: Lean resumes at the escaped character
    (r'"\u{41}" #eval', "{"),      # Lean 4.35 wants exactly four hex digits
    (r'"\0"', "0"),
    ('"a\\\n\n b"', "\n"),          # a string gap holds exactly one newline
])
def test_bad_escapes_are_errors_and_lexing_resumes_inside(text, resume):
    toks = tokenize(text)
    assert toks[0].kind == "error"
    assert text[toks[0].end :].startswith(resume)


def test_unterminated_string_resumes_after_the_quote():
    assert code('"abc #eval 1') == ['"', "abc", "#eval", "1"]


@pytest.mark.parametrize("text", ['r"a\\"', 'r#"a"b"#', 'r##"x"#y"##', 'r#"/-"#'])
def test_raw_strings(text):
    assert kinds(text + " x") == [("string", text), ("ident", "x")]


def test_raw_string_needs_a_quote_after_the_hashes():
    assert code("r# x") == ["r", "#", "x"]
    assert code('r#"never closed"') == ["r", "#", '"never closed"']


# --- chars and primes -------------------------------------------------------------------------

@pytest.mark.parametrize("text", ["'a'", r"'\n'", r"'\''", r"'\\'", "'\"'", r"'\x41'", "'λ'"])
def test_char_literals(text):
    assert kinds(text + " x") == [("char", text), ("ident", "x")]


def test_primes_in_identifiers_are_not_char_literals():
    assert code("h' h'' x₁' f 'a'") == ["h'", "h''", "x₁'", "f", "'a'"]


def test_quote_after_a_non_ascii_symbol_is_an_error():
    # where `»` is no token Lean skips a byte and reads `A'` as an identifier, not `'('` as a char
    assert [t.kind for t in code_tokens("x »'('\"' #eval 1 \"")][:2] == ["ident", "error"]
    assert [t.kind for t in code_tokens("x ≤₁'a")][1] == "error"
    assert [t.kind for t in code_tokens('x ≤r##"a"#eval"##')][1] == "error"  # Lean: `r`, `#`, `#`, "a" ...
    assert [t.kind for t in code_tokens("x ≤ 'a'")] == ["ident", "symbol", "char"]
    assert [t.kind for t in code_tokens("⟨x', h'⟩")] == ["symbol", "ident", "symbol", "ident", "symbol"]  # builtin


def test_quote_tokens_of_mathlib():
    assert code("f ⁻¹' {0} ∪ f '' s") == ["f", "⁻¹'", "{", "0", "}", "∪", "f", "''", "s"]
    # where Lean lacks the token the `'` starts a char literal: what follows must not differ
    assert tokenize("f ⁻¹'-- x")[2].kind == "error"
    assert tokenize("''r##\"x\"##")[0].kind == "error"


# --- identifiers ------------------------------------------------------------------------------

def test_escaped_identifier_parts_hold_anything_but_the_closing_guillemet():
    (t,) = code_tokens('«x/-»')
    assert t.kind == "ident" and t.parts == ("x/-",)
    (t,) = code_tokens('«a -- "b\nc»')
    assert t.parts == ('a -- "b\nc',)


def test_names_are_normalized_across_spellings():
    names = {t.name for t in code_tokens("Nat.add «Nat».add _root_.Nat.add «_root_».«Nat».add")}
    assert names == {"Nat.add"}
    (t,) = code_tokens("_root_.Nat.add")
    assert t.root and not t.escaped


def test_dots_continue_an_identifier_only_before_an_identifier_start():
    assert code("a.b.«c» h.1.2 h.2.elim x. y") == ["a.b.«c»", "h", ".", "1", ".", "2", "h", ".", "2", ".", "elim",
                                                  "x", ".", "y"]


@pytest.mark.parametrize("char,ident", [("α", True), ("λ", False), ("Π", False), ("Σ", False), ("ℝ", True),
                                        ("ϰ", True), ("ἀ", True), ("é", True), ("×", False), ("𝔽", True),
                                        ("→", False), ("∀", False)])
def test_identifier_start_characters(char, ident):
    first = code_tokens(char + "x")[0]
    assert (first.kind == "ident" and first.text == char + "x") == ident


def test_subscripts_and_bangs_continue_identifiers():
    assert code("x₁ xᵢ x! x? x!y") == ["x₁", "xᵢ", "x!", "x?", "x!y"]


def test_name_literals():
    assert kinds("`x ``y `«a b».c") == [("name", "`x"), ("symbol", "`"), ("name", "`y"), ("name", "`«a b».c")]
    assert kinds('`r"x"') == [("name", "`r"), ("string", '"x"')]  # a name literal reads no raw string
    assert tokenize('``r#"x"#')[0].kind == "error"  # ``name reads one, its recovery does not


# --- numbers ----------------------------------------------------------------------------------

@pytest.mark.parametrize("text", ["42", "1_000", "0x1F", "0b1_0", "0o17", "1.5", "2.", "1e10", "1.5e-3", "6.02E+23"])
def test_numbers(text):
    assert kinds(text + " x") == [("number", text), ("ident", "x")]


@pytest.mark.parametrize("text", ["0x", "1e", "1.5e+", "1_", "0b2"])
def test_bad_numbers_are_errors(text):
    assert tokenize(text)[0].kind == "error"


# --- whitespace -------------------------------------------------------------------------------

@pytest.mark.parametrize("char", ["\t", "\r", "\u00a0", "\u2028", "\u2029", "\u3000", "\u200b", "\ufeff"])
def test_only_space_and_newline_are_whitespace(char):
    toks = tokenize(f"a{char}b")
    assert [t.kind for t in toks] == ["ident", "error", "ident"]


def test_crlf_is_a_newline_and_offsets_stay_in_the_original_text():
    text = "a -- c\r\nb \"x\\\r\n  y\""
    toks = [t for t in tokenize(text) if t.kind != "space"]
    assert [t.kind for t in toks] == ["ident", "comment", "ident", "string"]
    assert all(text[t.start : t.end] == t.text for t in toks)
    assert (toks[2].line, toks[2].col) == (2, 0)


def test_offsets_and_positions():
    text = "theorem x :\n  True := trivial"
    for t in tokenize(text):
        assert text[t.start : t.end] == t.text
    t = [t for t in tokenize(text) if t.text == "True"][0]
    assert (t.line, t.col) == (2, 2)


def test_the_attacks_of_issue_9_are_seen_as_code():
    assert "#eval" in code("def «x/-» := 1\n#eval 1\ndef «-/» := 2")
    assert "axiom" in code('def s := r#"a"# axiom propext : False -- "#')
    assert "axiom" in code("def c := '\"' axiom x : False -- \"")


# --- against the real Lean --------------------------------------------------------------------

HEADER = "prelude\nimport ProverLogic\n"
@pytest.fixture(scope="module")
def lean_run(tmp_path_factory):
    return lean_runner(tmp_path_factory.mktemp("lexer"))


def predicted(text: str) -> set[str]:
    """The probes whose `#print axioms probe_N` this lexer reads as code."""
    toks = code_tokens(text)
    return {c.text for a, b, c in zip(toks, toks[1:], toks[2:])
            if a.text == "#print" and b.text == "axioms" and re.fullmatch(r"probe_\d+", c.text)}


def probe_file(body: str, count: int) -> str:
    return HEADER + probes(count) + body


TRICKS = [
    "def «x/-» := 1" + mark(0) + "def «-/» := 2",
    'def s := r#"a"#' + mark(0) + '-- "#',
    'def s := r#"a"b"#' + mark(0) + '"#',
    'def c := \'"\'' + mark(0) + 'def d := "',
    "/- a /- b -/" + mark(0) + "-/" + mark(1),
    '"a\\q' + mark(0) + '"',
    '"a\\"' + mark(0) + '"',
    "/-- doc /- nested -/" + mark(0) + "-/" + mark(1),
    "/-- doc\r" + mark(0) + "-/" + mark(1),
    "h' '\\''" + mark(0),
    "x\u00a0" + mark(0),
    "x\t" + mark(0),
    "x\r\n" + mark(0).replace("\n", "\r\n"),
    "«a\n--»" + mark(0),
    "`«x/-»" + mark(0) + "«-/»",
    "0x" + mark(0),
    "x <--" + mark(0),
    "{ x //-" + mark(0) + "-/ y }" + mark(1),
    "f ⁻¹' {0}" + mark(0),
    "f ''r#\"/-!" + mark(0) + "r\"" + mark(1) + "\"#",
    "x '" + mark(0) + "'",
    "x »'('\"'" + mark(0) + "\"",
    "x ≤₁'('\"'" + mark(0) + "\"",
    '``r#"x"#' + mark(0) + '"#',
    '`r#"x"#' + mark(0) + '"#',
    "⟨x', '('⟩" + mark(0),
    'x ≤r##"a"' + mark(0) + '"##',
]


# Tokens this lexer knows that the logic environment's Lean lacks (`//` is Init notation, `''` and
# `⁻¹'` are Mathlib's): there the lexer reads more as code than Lean does, never less (see
# lean_env/soundness/lexer.py).
OVER = ("//", "\\/", "''", "⁻¹'", "∑'", "∏'")


def agrees(text: str, lean: set[str]) -> bool:
    """Everything Lean runs, the lexer sees as code; exactly so unless an OVER token is present.
    Asked of texts without lexical errors only: the policy refuses any text with one, and after
    one Lean's recovery (it skips a byte, mid-character for non-ASCII) is not worth mirroring."""
    pred = predicted(text)
    over = any(t.text in OVER for t in code_tokens(text) if t.kind == "symbol")
    return lean <= pred and (over or lean == pred)


def has_error(text: str) -> bool:
    return any(t.kind == "error" for t in tokenize(text))


@pytest.mark.lean
@pytest.mark.parametrize("body", TRICKS)
def test_known_tricks_read_as_lean_reads_them(lean_run, body):
    text = probe_file(body, 2)
    lean = lean_run(text)
    assert has_error(text) or agrees(text, lean), (body, predicted(text), lean)


# Lexically tricky pieces. No command keywords: after `def` Lean's parser recovery may take the
# next `#print` as the missing name, which is parsing, not lexing.
PIECES = ["«", "»", "«x/-»", "«-/»", "«--»", '«"»', "/-", "-/", "--", "/--", "/-!", '"', '\\"', "\\\\", "\\",
          'r"', 'r#"', '"#', '"##', "#", "'", "'a'", "h'", "'\\n'", "'\\''", "''", "\n", " ", "x", "«a».b",
          "a.«b»", "`x", "``", "r", "0x1F", "1.5e3", "2.", "\\u0041", "\\x41", "\\n", "{", "}", "-", "/", ".",
          "\u00a0", "\u2028", "\t", "\r\n", "\r", ":=", "λ", "α", "x₁", "ℝ", "⁻¹'", "<-", "//", "\\/"]
MARK = object()


@pytest.mark.lean
@settings(derandomize=True, max_examples=40, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.filter_too_much])
@given(st.lists(st.one_of(st.sampled_from(PIECES), st.just(MARK)), min_size=1, max_size=30))
def test_generated_texts_read_as_lean_reads_them(lean_run, items):
    """Texts the policy would pass on (no lexical error): the lexer reads as code exactly what Lean
    runs. Error-prone pieces stay in the mix so that an error Lean sees and the lexer misses
    shows up as a disagreement."""
    marks = iter(range(len(items)))
    body = "".join(mark(next(marks)) if it is MARK else it for it in items)
    text = probe_file(body, len(items))
    assume(not has_error(text))
    lean = lean_run(text)
    assert agrees(text, lean), (repr(body), predicted(text), lean)


# the edges of every range in isLetterLike/isSubScriptAlnum, and common proof characters
EDGE_CHARS = [chr(o) for o in (
    0xBF, 0xC0, 0xD7, 0xF7, 0xFF, 0x100, 0x17F, 0x180, 0x390, 0x391, 0x3A0, 0x3A3, 0x3A9, 0x3AA, 0x3B0, 0x3B1,
    0x3BB, 0x3C9, 0x3CA, 0x3FB, 0x3FC, 0x1D61, 0x1D62, 0x1D6A, 0x1D6B, 0x1EFF, 0x1F00, 0x1FFE, 0x1FFF, 0x207F,
    0x2080, 0x2089, 0x208A, 0x208F, 0x2090, 0x209C, 0x209D, 0x20FF, 0x2100, 0x214F, 0x2150, 0x2C7B, 0x2C7C,
    0x2C7D, 0x1D49B, 0x1D49C, 0x1D59F, 0x1D5A0)] + list("ℝℕℤαβλΠΣ∀→¹ᵢ'!?_0")


@pytest.mark.lean
@pytest.mark.parametrize("chunk", range(0, len(EDGE_CHARS), 12))
def test_identifier_characters_match_lean(lean_run, chunk):
    """For each character c: is `xcy` one identifier, and is `cy`? Lean answers by proving a
    theorem with a theorem of that name (12 characters a file: Lean stops after 100 errors)."""
    cases, body = [], ""
    for c in EDGE_CHARS[chunk : chunk + 12]:
        for pos, name in (("rest", f"x{c}y"), ("first", f"{c}y")):
            probe = len(cases)
            cases.append((c, pos, name))
            body += (f"theorem {name} : True := True.intro\ntheorem probe_{probe} : True := {name}\n"
                     f"#print axioms probe_{probe}\n")
    printed = lean_run(HEADER + body)
    for probe, (c, pos, name) in enumerate(cases):
        toks = code_tokens(name)
        one_ident = len(toks) == 1 and toks[0].kind == "ident"
        assert one_ident == (f"probe_{probe}" in printed), (hex(ord(c)), pos)
