"""The benchmarks the papers report on, shipped in data/: Goedel-Prover-V2's and Kimina's miniF2F
test sets, ProofNet and PutnamBench (both tracks). Byte-exact copies (sha256 recorded in
data/README.md), row counts, the Kimina rebuild reproduced from ../shared, errata applied, and
each loadable by name with its profile's pins."""
import hashlib
import json

import pytest

import data
from data.loaders import DATA_DIR, VARIANTS
from tests.shared_data import SHARED

FILES = {  # shipped file -> (bytes, sha256)
    "minif2f/goedel_prover_v2_test.jsonl": (159846, "bd40c3ea5005ab76c510e9fb58ffb974cd7f628327dceda71f44975cbb6ad9b0"),
    "proofnet/deepseek_v1.5.jsonl": (245283, "4a4d4fd69f45d6180830f12a73adb8a7e04915f651f3fa44a2877082fe252132"),
    "putnambench/putnambench_lean4.jsonl": (834131, "2f25959057ec8f21a451b6cca42143ac18aca94cc0f508a64e0c10c8bbca2580"),
    "minif2f/kimina_preview_test.jsonl": (192583, "fe85dfdf4a7f4aae2655e7dc4a62f99a8628017465b8d36ea5b9c52e5796e4f1"),
}
# Kimina's statements that differ from DeepSeek-V1.5's (ERRATA.md, column K: 13 S and 1 N)
KIMINA_DIFFERS = {
    "aime_1994_p3", "algebra_cubrtrp1oncubrtreq3_rcubp1onrcubeq5778", "algebra_ineq_nto1onlt2m1on", "amc12a_2020_p10",
    "amc12a_2020_p7", "amc12a_2021_p18", "amc12a_2021_p9", "induction_pord1p1on2powklt5on2",
    "induction_prod1p1onk3le3m1onn", "mathd_algebra_158", "mathd_algebra_275", "mathd_algebra_342",
    "mathd_numbertheory_343", "mathd_numbertheory_618",
}


@pytest.mark.parametrize("rel", FILES)
def test_shipped_files_are_the_documented_bytes(rel):
    size, digest = FILES[rel]
    raw = (DATA_DIR / rel).read_bytes()
    assert len(raw) == size and hashlib.sha256(raw).hexdigest() == digest
    assert digest in (DATA_DIR / "README.md").read_text(encoding="utf-8")
    if (SHARED / rel).exists():  # a copy of the shared snapshot's file (the Kimina set is built, not copied)
        assert (SHARED / rel).read_bytes() == raw


@pytest.mark.parametrize("name,count,profile", [
    ("minif2f-goedel-v2", 244, "deepseek-v1.5"), ("minif2f-kimina", 244, "kimina-v4.15"),
    ("proofnet", 371, "deepseek-v1.5"), ("putnambench", 672, "putnambench-v4.27"),
    ("putnambench-find", 346, "putnambench-v4.27"),
])
def test_each_benchmark_loads_by_name_with_unique_keys_and_its_profile(name, count, profile):
    from lean_env.install.profiles import PROFILES

    rows = data.load(name)
    assert len(rows) == count and len({(r["split"], r["name"]) for r in rows}) == count
    assert {r["profile"] for r in rows} == {profile} and profile in PROFILES
    for r in rows:
        assert r["header"].startswith("import Mathlib") and r["source"]
        assert r["formal_statement"].lstrip().startswith(("theorem", "def", "noncomputable def"))
    assert name in VARIANTS


def test_profiles_pin_what_the_sources_say():
    from lean_env.install.profiles import PROFILES

    k, p = PROFILES["kimina-v4.15"], PROFILES["putnambench-v4.27"]
    assert (k.toolchain, k.mathlib_rev) == ("leanprover/lean4:v4.15.0", "9837ca9d65d9de6fad1ef4381750ca688774e608")
    assert (p.toolchain, p.mathlib_rev) == ("leanprover/lean4:v4.27.0", "a3a10db0e9d66acbebf76c5e6a135066525ac900")
    pins = SHARED / "putnambench" / "lean4"
    if not pins.exists():
        pytest.skip("../shared/data is not on this machine")
    manifest = json.loads((pins / "lake-manifest.json").read_text())
    assert {q["name"]: q["rev"] for q in manifest["packages"]}["mathlib"] == p.mathlib_rev
    assert (pins / "lean-toolchain").read_text().strip() == p.toolchain


def test_kimina_set_is_rebuilt_byte_for_byte_from_the_published_proofs():
    from data.kimina_minif2f import OUT, build

    if not (SHARED / "proofs" / "kimina_preview").exists():
        pytest.skip("../shared/data is not on this machine")
    text = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in build(SHARED))
    assert text == OUT.read_text(encoding="utf-8")


def test_kimina_errata_are_applied_and_the_unknown_rows_say_so():
    rows = {r["name"]: r for r in data.load("minif2f-kimina")}
    deepseek = {r["name"]: r for r in data.load("minif2f", split="test")}
    differs = {n for n, r in rows.items() if "differs" in r["statement_from"]}
    assert differs == KIMINA_DIFFERS
    for n in differs:
        assert rows[n]["formal_statement"] != deepseek[n]["formal_statement"]
        assert "Kimina-Prover-Preview" in rows[n]["source"]
    assert "∀ x" in rows["aime_1994_p3"]["formal_statement"].split(":", 1)[1]  # h0 quantified (ERRATA)
    assert "n > 0" in rows["mathd_numbertheory_618"]["formal_statement"]
    assert "1 < n" in rows["amc12a_2020_p10"]["formal_statement"]
    unknown = [r for r in rows.values() if "unknown" in r["statement_from"]]
    assert len(unknown) == 19
    assert all(r["formal_statement"] == deepseek[r["name"]]["formal_statement"] for r in unknown)


def test_goedel_v2_set_has_errata_applied():
    rows = {r["name"]: r for r in data.load("minif2f-goedel-v2")}
    deepseek = {r["name"]: r for r in data.load("minif2f", split="test")}
    changed = {n for n in rows if " ".join(rows[n]["formal_statement"].split())
               != " ".join(deepseek[n]["formal_statement"].split())}
    assert len(changed) == 15  # 14 in meaning + 1 in notation (ERRATA.md, column G)
    assert "(1 / 4 : ℝ)" in rows["mathd_algebra_314"]["formal_statement"]
    assert rows["aime_1994_p3"]["header"] == deepseek["aime_1994_p3"]["header"]


def test_proofnet_names_are_made_unique_and_defs_are_marked():
    rows = data.load("proofnet")
    renamed = [r for r in rows if "#" in r["name"]]
    assert renamed and all(r["formal_statement"].startswith(("theorem " + r["name"].split("#")[0], "def",
                                                              "noncomputable def")) for r in renamed)
    assert sum(r["kind"] == "def" for r in rows) == 14
    assert len(data.load("proofnet", split="test")) == 186


def test_putnam_given_track_substitutes_the_published_answer():
    rows = {r["name"]: r for r in data.load("putnambench")}
    r = rows["putnam_1962_a5"]
    assert "abbrev putnam_1962_a5_solution : ℕ → ℕ := fun n : ℕ => n * (n + 1) * 2^(n - 2)\n" in r["header"]
    assert "sorry" not in r["header"] and r["formal_statement"].endswith(":= by\n")
    assert r["informal_prefix"].startswith("/--")
    assert not any("sorry" in x["header"] for x in rows.values())
    assert "def num_ones" in rows["putnam_2023_a5"]["header"]  # helper definitions stay before the theorem


def test_putnam_find_track_hides_the_answer_and_keeps_the_placeholder():
    rows = {r["name"]: r for r in data.load("putnambench-find")}
    r = rows["putnam_1962_a5"]
    assert r["answer_track"] == "find" and r["solution_type"] == "ℕ → ℕ"
    assert r["published_answer"] == "fun n : ℕ => n * (n + 1) * 2^(n - 2)"
    assert "abbrev putnam_1962_a5_solution : ℕ → ℕ := sorry\n" in r["header"]
    for x in rows.values():
        assert "-- " + x["published_answer"] not in x["header"] and "--" + x["published_answer"] not in x["header"]
        assert x["solution_stub"] in x["header"] and x["solution_stub"].endswith(":= sorry\n")
