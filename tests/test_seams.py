"""The seams of issue 21: wherever the checker joins texts (header | target | statement | proof |
checks) or splits one (a snippet into header and body), the allowlist reads the text exactly as
Lean will, in its real left context; a header inside model output only selects an environment;
no message Lean prints is dropped. Pure-text tests first, then (marked `lean`) the bundled Lean."""
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lean_env.soundness.allowlist import check_file_violations, judged_tokens
from lean_env.cache import environment_id, task_key
from lean_env.checker import precheck, select_header
from lean_env.soundness.checkfile import TaskError, compose, split_code_preamble
from lean_env.running.environments import known_headers, logic_header
from lean_env.soundness.header import HeaderError, read_header, select
from lean_env.soundness.judge import RunOutcome, judge
from lean_env.service.kimina_api import Snippet, snippet_task, split_header
from lean_env.soundness.lexer import SPACE, tokenize
from lean_env.running.settings import Settings
from lean_env.soundness.statement import statement_signature, target_as_axiom
from lean_env.soundness.verdict import Message, ProofTask
from tests.lean_probes import lean_runner, mark, probes

LOGIC = logic_header()
MATHLIB = "import Mathlib\n\nset_option maxHeartbeats 0\n\nopen BigOperators Real Nat Topology Rat\n\n"
BINDERS = "theorem t (p q : Prop) (h : p ∧ q) (θ : p) : q ∧ p "


def rules(task):
    v = precheck(task)
    return set() if v is None else {re.match(r"refused by policy rule '(\w+)'", r)[1] for r in v.reasons
                                     if r.startswith("refused by policy")}


# -- one text, one reading ----------------------------------------------------------------------

STATEMENT_ENDINGS = [":= by", ":=", ":= by ", ":= by\n", ":= by\r\n", ":= by -- note", ":= /- note -/", ":= by\r",
                     ":= by\t"]
STARTS = ["", " ", "\n", "\r\n", "\r", "'", "''", '"', 'r#"', 'r"', "«", "»", "/-", "-/", "--", "/--", "x", "α",
          "ₐ", ".", "`", "⟨", "!", "?", "0", "\t", "\u00a0", "\ufeff", "\x00", "'a'", "«x»"]
TAILS = ["", " exact ⟨h.2, h.1⟩", "\n  exact ⟨h.2, h.1⟩", ' "#\n#eval 1 -- "', "-/ axiom x : False /-", "\naxiom x : False",
         "' -/\nset_option debug.skipKernelTC true\n/- '", '"#\n#eval 1\n-- "#', "»\n#eval 1\n-- «"]
HEADER_ENDINGS = ["", "-- note", "/- c -/", "\r\n", "open p", "x", "'", "«", "/-", 'r#"', "α"]


def independent_regions(cf, task):
    """Where the statement, proof and code sit in the composed text, found by searching the text
    (not from cf.regions), with every boundary between the texts the checker joined."""
    text = cf.text
    head = cf.header
    cand = (task.formal_statement + task.proof) if task.code is None else split_code_preamble(task.code, head)
    c0 = text.index(cand, len(head))
    assert text.count(cand, len(head)) >= 1
    spans = {"header": (0, len(head)), "target": (len(head), text.index("\n\n", len(head)))}
    if task.code is None:
        spans["statement"] = (c0, c0 + len(task.formal_statement))
        spans["proof"] = (c0 + len(task.formal_statement), c0 + len(cand))
    else:
        spans["code"] = (c0, c0 + len(cand))
    spans["checks"] = (c0 + len(cand), len(text))
    return spans


@settings(derandomize=True, max_examples=300, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(STATEMENT_ENDINGS), st.sampled_from(STARTS), st.sampled_from(TAILS),
       st.sampled_from(HEADER_ENDINGS), st.booleans())
def test_the_allowlist_judges_exactly_the_composed_files_tokens(ending, start, tail, header_end, as_code):
    header = LOGIC + header_end
    statement = BINDERS + ending
    try:
        task = (ProofTask(statement, header=header, code=statement + start + tail) if as_code
                else ProofTask(statement, header=header, proof=start + tail))
        cf = compose(task, nonce="0123456789abcdef")
    except ValueError:
        return  # not a statement the checker can restate: refused before any of this
    spans = independent_regions(cf, task)
    toks = [t for t in tokenize(cf.text, spaces=False) if t.kind != SPACE]
    bounds = sorted({x for a, b in spans.values() for x in (a, b)})
    straddles = [t for t in toks if any(t.start < x < t.end for x in bounds)]
    found = {v.rule for v in check_file_violations(cf)}
    if straddles:
        assert "seam" in found, (straddles, found)
    judged = judged_tokens(cf)
    for region, (a, b) in spans.items():
        if region in ("header", "checks"):
            continue
        mine = [(t.kind, t.text, t.start) for t in toks if a <= t.start and t.end <= b and t.kind not in
                ("comment", "doc_comment")]
        if region == "target":  # the restated statement: after `axiom NAME`
            mine = mine[2:]
        assert [(t.kind, t.text, t.start) for t in judged[region]] == mine, region
    if not found & {"seam", "lexical_error"} and task.code is None:
        # a proof that passes is read the same on its own as after the statement (no context leak)
        alone = [(t.kind, t.text) for t in tokenize(task.proof, spaces=False) if t.kind not in ("space", "comment",
                                                                                             "doc_comment")]
        assert [(t.kind, t.text) for t in judged["proof"]] == alone


@pytest.mark.parametrize("proof", ['r#""\naxiom cheat : False\n-- "#', "'\n#eval 1\n-- '", "''\naxiom x : False",
                                   "'\"'\nset_option debug.skipKernelTC true\n-- \"", ".«\naxiom x : False\n»"])
def test_a_proof_that_merges_with_by_is_refused_as_a_seam(proof):
    assert "seam" in rules(ProofTask(BINDERS + ":= by", header=LOGIC, proof=proof))


@pytest.mark.parametrize("ending,proof", [(":= by", "\n  exact ⟨h.2, h.1⟩"), (":= by", " exact ⟨h.2, h.1⟩"),
                                          (":= by", "\r\n  exact ⟨h.2, h.1⟩"), (":=", " ⟨h.2, h.1⟩"),
                                          (":=", "⟨h.2, h.1⟩"), (":=", " fun _ => ⟨h.2, h.1⟩ "), (":=", "θ"),
                                          (":= by\n", "  exact ⟨h.2, h.1⟩")])
def test_honest_joins_pass(ending, proof):
    assert precheck(ProofTask(BINDERS + ending, header=LOGIC, proof=proof)) is None


def test_violations_name_their_place_in_the_candidate():
    v = precheck(ProofTask(BINDERS + ":= by", header=LOGIC, proof="\n  exact ⟨h.2, h.1⟩\n#eval 1"))
    assert v is not None and any("#eval` at line 3:0 of the candidate" in r for r in v.reasons), v.reasons


def test_a_header_that_leaves_a_comment_open_is_a_seam():
    assert "seam" in rules(ProofTask(BINDERS + ":=", header=LOGIC + "/-", proof=" ⟨h.2, h.1⟩"))
    assert "lexical_error" in rules(ProofTask(BINDERS + ":=", header=LOGIC + "'", proof=" ⟨h.2, h.1⟩"))


def test_a_candidate_that_leaves_a_comment_open_is_a_seam():
    assert "seam" in rules(ProofTask(BINDERS + ":=", header=LOGIC, proof=" ⟨h.2, h.1⟩ /-"))


def test_the_target_is_restated_from_lean_tokens():
    # a `:=` inside a string or a char literal does not end the statement
    st_ = 'theorem t (s : String) (h : s = ":=") : s = ":=" :='
    assert target_as_axiom(st_, "A") == 'axiom A (s : String) (h : s = ":=") : s = ":="'
    assert statement_signature(st_) == 'theorem t(s : String)(h : s = ":="): s = ":="'
    # text right after the old name is read after a space, as it was after the name
    assert target_as_axiom("theorem «t»(p : Prop) : p :=", "A") == "axiom A (p : Prop) : p"


def test_the_restated_target_is_judged_too():
    # a statement that smuggles a command past its `:=` (the statement text is read, not trusted blindly)
    st_ = "theorem t (p : Prop) (hp : p) : p := hp\n#eval 1\ntheorem u (p : Prop) (hp : p) : p :="
    assert "hash_command" in rules(ProofTask(st_, header=LOGIC, proof=" hp"))


# -- a header says where, not what --------------------------------------------------------------

def test_read_header_stops_at_the_first_token_that_is_not_an_import():
    code = "import Mathlib set_option debug.skipKernelTC true\nimport Aesop\ntheorem t : True := trivial"
    split = read_header(code)
    assert split.modules == ("Mathlib",) and code[split.end:].startswith(" set_option")
    assert read_header("prelude\n-- c\nimport A.B /- c -/ import C\n/-- doc -/ import D").modules == ("A.B", "C")
    assert read_header("import «Mathlib»\n").modules == ()
    assert read_header("import Mathlib\nprelude\n").modules == ("Mathlib",)
    assert not read_header("import Mathlib\nprelude\n").prelude


HEADER_PIECES = ["prelude", "import", " ", "\n", "\r\n", "Mathlib", "Aesop", "A.B", "«X»", "-- c\n", "/- c -/", "/--",
                 "'", '"', 'r#"', "«", "set_option", "debug.skipKernelTC", "true", "#eval", "1", "α", "x'", "/-", "--"]


@settings(derandomize=True, max_examples=300, deadline=None, database=None)
@given(st.lists(st.sampled_from(HEADER_PIECES), max_size=12))
def test_a_snippets_header_split_keeps_the_bodys_reading(pieces):
    """Whatever the snippet starts with: Lean runs only `prelude`/`import NAME` lines written from
    the names, and the body (the rest, positions kept) is read exactly as in the snippet."""
    code = "".join(pieces) + "\ntheorem t (p : Prop) (hp : p) : p := hp\n"
    head, body = split_header(code)
    assert all(re.fullmatch(r"prelude|import [\w.']+", line) for line in head.splitlines())
    assert len(body.split("\n")) == len(code.split("\n"))
    end = read_header(code).end
    assert body[end:] == code[end:] and not body[:end].strip()
    as_in_snippet = [(t.kind, t.text, t.start) for t in tokenize(code) if t.start >= end and t.kind != SPACE]
    assert [(t.kind, t.text, t.start) for t in tokenize(body) if t.start >= end and t.kind != SPACE] == as_in_snippet


def test_split_header_blanks_only_the_import_tokens_and_keeps_lines():
    code = "import Mathlib set_option debug.skipKernelTC true\n\ntheorem t : True := trivial\n"
    head, body = split_header(code)
    assert head == "import Mathlib\n"
    assert body.split("\n")[0] == " " * len("import Mathlib") + " set_option debug.skipKernelTC true"
    assert body.split("\n")[2] == "theorem t : True := trivial"


def test_a_snippets_import_line_cannot_carry_commands():
    code = LOGIC.replace("ProverLogic", "ProverLogic set_option debug.skipKernelTC true") + \
        "unsafe def bad : False := bad\ntheorem f : False := bad\n"
    task = snippet_task(Snippet(id="x", code=code), 10)
    assert not task.header_trusted and task.header == LOGIC
    selected, refused = select_header(task, known_headers())
    assert refused is None and selected.header_trusted  # its header text is exactly the logic header
    assert {"set_option", "unsafe"} <= rules(task)


def test_an_untrusted_header_must_select_a_known_environment():
    known = known_headers(Settings(profile="minif2f-v4.24"))
    # Mathlib's closure holds Aesop: the answer selects the profile, and Lean imports what it imports
    assert select(read_header("import Mathlib\nimport Aesop\n"), known).modules == ("Mathlib",)
    assert select(read_header("import Mathlib.Tactic\n"), known).modules == ("Mathlib",)
    assert select(read_header("prelude\nimport ProverLogic\n"), known).prelude
    for bad in ("import Mathlib\n", "import Evil\n", "prelude\n", "", "import ProverLogic\n"):
        with pytest.raises(HeaderError, match="import ProverLogic"):
            select(read_header(bad), known_headers())
    task = ProofTask(BINDERS + ":=", header="import Mathlib\nimport Aesop\nopen Real\n", proof=" ⟨h.2, h.1⟩",
                     header_trusted=False)
    _, v = select_header(task, known_headers())
    assert v is not None and v.status == "refused" and "prelude import ProverLogic" in v.reasons[0]
    selected, v = select_header(task, known)
    assert v is None and not selected.header_trusted
    cf = compose(selected)
    assert cf.header.startswith("import Mathlib\n") and "Aesop" not in cf.header and "open Real" in cf.header
    assert "preamble" in cf.judged


def test_an_untrusted_headers_rest_is_body_the_allowlist_reads_before_the_target():
    # a dataset row's helper definitions and opens (ProofNet, PutnamBench) pass; what the allowlist
    # refuses in a proof is refused there too
    ok = LOGIC + "open Foo\nnoncomputable def helper (p : Prop) : Prop := p\n"
    task = ProofTask(BINDERS + ":=", header=ok, proof=" ⟨h.2, h.1⟩", header_trusted=False)
    selected, refused = select_header(task, known_headers())
    assert refused is None and precheck(selected) is None
    cf = compose(selected)
    assert cf.region("preamble")[1] <= cf.region("target_name")[0]
    for bad, rule in (("axiom cheat : False\n", "axiom"), ("set_option debug.skipKernelTC true\n", "set_option"),
                      ("unsafe def x : False := x\n", "unsafe"), ("open Lean in\n", "identifier_root")):
        task = ProofTask(BINDERS + ":=", header=LOGIC + bad, proof=" ⟨h.2, h.1⟩", header_trusted=False)
        assert rule in rules(select_header(task, known_headers())[0]), bad


def test_every_installed_profile_is_a_known_environment():
    from lean_env.install.profiles import PROFILES

    known = known_headers(Settings(workspace="/some/mathlib/project"))
    for p in PROFILES.values():
        task = ProofTask(BINDERS + ":=", header=p.header, proof=" ⟨h.2, h.1⟩", header_trusted=False)
        selected, refused = select_header(task, known)
        assert refused is None, (p.name, refused)
        assert compose(selected).header.startswith("import Mathlib\n"), p.name
        assert precheck(selected) is None, p.name  # its options and opens pass the allowlist


def test_an_untrusted_headers_rest_is_read_by_the_allowlist():
    hdr = LOGIC + "set_option debug.skipKernelTC true\n"
    task = ProofTask(BINDERS + ":=", header=hdr, proof=" ⟨h.2, h.1⟩", header_trusted=False)
    assert select_header(task, known_headers())[1] is None  # the allowlist, not the header rule, refuses it
    cf = compose(task)
    assert cf.header.startswith(LOGIC) and "preamble" in cf.judged
    assert "set_option" in rules(task)
    ok = ProofTask(BINDERS + ":=", header=LOGIC + "set_option maxHeartbeats 400000\n", proof=" ⟨h.2, h.1⟩",
                   header_trusted=False)
    assert precheck(ok) is None


def test_code_imports_in_the_headers_closure_are_blanked_others_refused():
    code = "import Mathlib\nimport Aesop\ntheorem t : True := trivial"
    assert split_code_preamble(code, MATHLIB).split("\n")[2] == "theorem t : True := trivial"
    with pytest.raises(TaskError, match="Aesop"):
        split_code_preamble(code, LOGIC)
    with pytest.raises(TaskError, match="prelude"):
        split_code_preamble("prelude\ntheorem t : True := trivial", MATHLIB)
    # only the leading part is header: a later import is code, and the allowlist refuses it
    later = "theorem a : True := trivial\nimport Mathlib\n" + BINDERS + ":= ⟨h.2, h.1⟩"
    assert "import" in rules(ProofTask(BINDERS + ":=", header=LOGIC, code=later))


def test_service_rows_with_their_own_header_text_are_untrusted():
    from lean_env.service.app import row_task

    row = {"header": LOGIC, "formal_statement": BINDERS + ":=", "proof": " ⟨h.2, h.1⟩"}
    assert not row_task(row, None, 60).header_trusted
    assert row_task({**row, "header": None, "env": "logic"}, None, 60).header_trusted


def test_repl_tactic_mode_reads_each_tactic_before_the_repl_does():
    from search.tactic_env import ReplTacticEnv

    class NoRepl:
        def run_tactic(self, *args):
            raise AssertionError("the REPL was sent text the allowlist refuses")

        def close(self):
            pass

    env = ReplTacticEnv(NoRepl(), send_header=False)
    env.row = {"header": LOGIC, "formal_statement": BINDERS + ":= by"}
    for tactic, rule in (("run_tac IO.println 1", "identifier_root"), ("exact h /-", "lexical_error"),
                         ("native_decide", "native_decide")):
        r = env.apply((0, ()), tactic)
        assert r.status == "error" and f"'{rule}'" in r.error, (tactic, r.error)


def test_leandojo_gets_no_text_the_allowlist_refuses():
    from search.leandojo import DojoTacticEnv

    class NoDojo:
        def run_tac(self, *args):
            raise AssertionError("LeanDojo was sent text the allowlist refuses")

    env = DojoTacticEnv()
    env._dojo = NoDojo()
    r = env.apply((None, ()), "run_tac IO.println 1")
    assert r.status == "error" and "'identifier_root'" in r.error


@pytest.mark.parametrize("name", ["«a\n#eval 1\n»", "a b", "a := x"])
def test_the_name_written_into_the_checks_is_one_identifier_on_one_line(name):
    task = ProofTask(BINDERS + ":=", header=LOGIC, proof=" ⟨h.2, h.1⟩", name=name)
    with pytest.raises(TaskError, match="one Lean identifier"):
        compose(task)
    assert precheck(task).status == "refused"


def test_a_files_per_theorem_cut_starts_at_the_theorems_line(tmp_path):
    from lean_env.tasks_io import task_from_file
    from prover.lean_file import file_task

    f = tmp_path / "t.lean"
    f.write_text(LOGIC + "theorem a (p : Prop) (hp : p) : p := hp\n@[simp] theorem t (p : Prop) (hp : p) : p := hp\n")
    for task in (file_task(f, "t").task, task_from_file(f, "t")):
        assert task.header.endswith("hp\n") and task.code.startswith("@[simp] theorem t")
        cf = compose(task)
        assert "@[simp]\naxiom" not in cf.text and "@[simp] theorem t" in cf.candidate_text()


# -- no silent messages ------------------------------------------------------------------------

@pytest.mark.parametrize("where", ["header", "target", "between", "after"])
def test_a_message_outside_the_candidate_and_the_checks_is_a_reason(where):
    task = ProofTask(BINDERS + ":=", header=LOGIC, proof=" ⟨h.2, h.1⟩")
    cf = compose(task)
    line = {"header": 0, "target": 1, "between": cf.candidate_end + 1, "after": cf.axioms_line + 1}[where]
    msgs = [Message("information", f"'{cf.target_axiom}' depends on axioms: [{cf.target_axiom}]", cf.closer_line, 0),
            Message("information", f"'{cf.check_theorem}' does not depend on any axioms", cf.axioms_line, 0)]
    assert judge(task, cf, RunOutcome(msgs, 0.1), "cli", "x").ok
    v = judge(task, cf, RunOutcome(msgs + [Message("information", "hello", line, 0)], 0.1), "cli", "x")
    assert not v.ok and any("outside the candidate" in r and "hello" in r for r in v.reasons), v.reasons


# -- defence in depth ----------------------------------------------------------------------------

def test_the_cache_key_includes_backend_and_isolation_and_provenance():
    class B:
        def __init__(self, name, isolation):
            self.name, self.isolation = name, isolation

    s = Settings()
    task = ProofTask(BINDERS + ":=", header=LOGIC, proof=" ⟨h.2, h.1⟩")
    keys = {task_key(environment_id(s, B(n, i)), task, 60) for n, i in (("cli", "a"), ("server", "a"), ("cli", "b"))}
    assert len(keys) == 3
    untrusted = ProofTask(BINDERS + ":=", header=LOGIC, proof=" ⟨h.2, h.1⟩", header_trusted=False)
    assert task_key("e", task, 60) != task_key("e", untrusted, 60)


def test_health_tells_no_paths(tmp_path):
    from fastapi.testclient import TestClient

    from lean_env.cache import VerdictCache
    from lean_env.service.app import create_app

    class Stub:
        backend = type("B", (), {"name": "cli", "isolation": "x"})()
        cache = VerdictCache(tmp_path / "secret-dir" / "v.sqlite")

        def submit(self, task):
            raise AssertionError("no check expected")

    body = TestClient(create_app(Stub())).get("/health").json()
    assert body["cache"] is True and "secret-dir" not in str(body) and str(tmp_path) not in str(body)


# -- on the bundled Lean ------------------------------------------------------------------------

PROBES = probes(3)


@pytest.fixture(scope="module")
def lean_run(tmp_path_factory):
    return lean_runner(tmp_path_factory.mktemp("seams"))


@pytest.mark.lean
@settings(derandomize=True, max_examples=40, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(st.sampled_from(STATEMENT_ENDINGS), st.sampled_from(STARTS), st.sampled_from(STARTS))
def test_lean_reads_the_judged_region_as_the_allowlist_does(lean_run, ending, start, middle):
    """For joins the allowlist passes: which of the proof's `#print axioms probe_k` lines Lean runs
    is exactly which the allowlist read as code in the composed file (Lean runs no fewer where a
    Mathlib token the logic environment lacks, `''`, makes the lexer see more code: never less)."""
    proof = start + mark(0) + middle + mark(1) + "-- " + mark(2)
    try:
        cf = compose(ProofTask(BINDERS + ending, header=LOGIC + PROBES, proof=proof), nonce="0123456789abcdef")
    except ValueError:
        return
    if {v.rule for v in check_file_violations(cf)} & {"seam", "lexical_error"}:
        return
    toks = judged_tokens(cf)["proof"]
    predicted = {c.text for a, b, c in zip(toks, toks[1:], toks[2:])
                 if a.text == "#print" and b.text == "axioms" and c.text.startswith("probe_")}
    lean = lean_run(cf.text)
    over = any(t.kind == "symbol" and t.text in ("''", "//", "\\/") for t in toks)
    assert lean <= predicted and (over or lean == predicted), (repr(ending), repr(proof), lean, predicted)


@pytest.fixture(scope="module")
def service(server_checker):
    from fastapi.testclient import TestClient

    from lean_env.service.app import create_app

    with TestClient(create_app(server_checker)) as client:
        yield client


@pytest.mark.lean
def test_api_check_refuses_a_snippet_whose_import_line_carries_commands(service, server_checker, monkeypatch):
    smuggled = ("prelude\nimport ProverLogic set_option debug.skipKernelTC true\n"
                "unsafe def bad : False := bad\ntheorem f : False := bad\n")
    mathlib = "import Mathlib\ntheorem g (p : Prop) (hp : p) : p := hp\n"
    honest = LOGIC + "-- note\n" + BINDERS + ":= ⟨h.2, h.1⟩\n"
    r = service.post("/api/check", json={"snippets": [{"id": "s", "code": smuggled}, {"id": "m", "code": mathlib},
                                                      {"id": "ok", "code": honest}], "timeout": 60})
    assert r.status_code == 200
    res = {x["id"]: x for x in r.json()["results"]}
    for sid in ("s", "m"):
        v = res[sid]["response"]["verdict"]
        assert v["status"] == "refused" and not v["ok"], v
        assert any(m["severity"] == "error" for m in res[sid]["response"]["messages"])
    assert "debug.skipKernelTC" in " ".join(res["s"]["response"]["verdict"]["reasons"])
    assert "prelude import ProverLogic" in " ".join(res["m"]["response"]["verdict"]["reasons"])
    assert res["ok"]["response"]["verdict"]["ok"], res["ok"]


@pytest.mark.lean
def test_v1_verify_refuses_seams_and_keeps_honest_joins(service):
    rows = [
        {"env": "logic", "formal_statement": "theorem f : False := by", "proof": 'r#""\naxiom c : False\n-- "#'},
        {"header": LOGIC + "set_option debug.skipKernelTC true\n", "formal_statement": BINDERS + ":=",
         "proof": " ⟨h.2, h.1⟩"},
        {"header": "import Mathlib\n", "formal_statement": BINDERS + ":=", "proof": " ⟨h.2, h.1⟩"},
        {"env": "logic", "formal_statement": BINDERS + ":= by", "proof": "\r\n  exact ⟨h.2, h.1⟩"},
        {"header": LOGIC, "formal_statement": BINDERS + ":=", "proof": "⟨h.2, h.1⟩"},
        {"header": LOGIC + "set_option maxHeartbeats 400000\n", "formal_statement": BINDERS + ":=", "proof": " ⟨h.2, h.1⟩"},
    ]
    r = service.post("/v1/verify", json={"tasks": rows, "timeout": 60})
    assert r.status_code == 200, r.text
    got = [(v["status"], v["ok"]) for v in r.json()["verdicts"]]
    assert got == [("refused", False)] * 3 + [("proved", True)] * 3, r.json()["verdicts"]
    reasons = [" ".join(v["reasons"]) for v in r.json()["verdicts"]]
    assert "'seam'" in reasons[0] and "debug.skipKernelTC" in reasons[1] and "known environment" in reasons[2]


# Attacks of the review round (2026-12-07), each run on the real Lean: none may be ok, and the
# ones that smuggle a command past a seam or a comment are refused before Lean runs.
_REVIEW_STATEMENT = "theorem r (p : Prop) (hp : p) : p :="
REVIEW_ATTACKS = [
    # (statement ending, proof or None, code or None, expected status)
    (" by", "_x\n#eval 1\n exact hp", None, "refused"),  # `by_x`: an identifier across the join
    ("", "= hp", None, "rejected"),  # `:=` then `=`: no merged symbol, a plain parse error
    (" by", "«\n#eval 1»\n exact hp", None, "rejected"),  # a guillemet name holds the `#eval`: not a command
    ("", None, "prelude\nimport ProverLogic /-\n-/ set_option debug.skipKernelTC true\n", "refused"),
    ("", None, "import ProverLogic\r\n#eval 1\n", "refused"),  # CRLF after an untrusted import line
    ("", " hp\n-/", None, "rejected"),  # a stray comment closer after the proof
    ("", " hp /-", None, "refused"),  # a comment left open over the checker's lines
    ("", " hp\n\"\n", None, "refused"),  # a string left open over the checker's lines
]


@pytest.mark.lean
@pytest.mark.parametrize("ending,proof,code,status", REVIEW_ATTACKS)
def test_review_round_attacks_are_not_ok(cli_checker, ending, proof, code, status):
    statement = _REVIEW_STATEMENT + ending
    if code is not None:
        task = ProofTask(statement, header=LOGIC, code=code + statement + " hp")
    else:
        task = ProofTask(statement, header=LOGIC, proof=proof)
    verdict = cli_checker.check(task)
    assert not verdict.ok and verdict.status == status, verdict.reasons
