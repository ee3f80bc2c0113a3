"""Shipped datasets and the loader: byte-exact vendored files, uniform rows, field mapping,
local jsonl through `datasets`, and one registry of setup profiles."""
import hashlib
import json

import pytest

import data
from data.loaders import DATA_DIR, VARIANTS, normalize_row, parse_field_map, split_statement



def test_vendored_minif2f_files_are_the_documented_ones():
    sizes = {"minif2f/deepseek_v1.5.jsonl": 320856, "minif2f/lean4_v4.24.jsonl": 207855}
    for rel, size in sizes.items():
        assert (DATA_DIR / rel).stat().st_size == size
    readme = (DATA_DIR / "README.md").read_text(encoding="utf-8")
    for rel in sizes:
        digest = hashlib.sha256((DATA_DIR / rel).read_bytes()).hexdigest()
        assert digest in readme, f"data/README.md must record the sha256 of {rel}"
    assert "MIT" in readme and (DATA_DIR / "minif2f" / "ERRATA.md").exists()


@pytest.mark.parametrize("name,count", [("minif2f", 488), ("minif2f-deepseek", 488), ("minif2f-v4.24", 488)])
def test_minif2f_rows_are_uniform(name, count):
    rows = data.load(name)
    assert len(rows) == count and len({r["name"] for r in rows}) == count
    for r in rows:
        assert set(("name", "split", "header", "informal_prefix", "formal_statement", "source")) <= set(r)
        assert r["formal_statement"].startswith(f"theorem {r['name']}") and r["formal_statement"].endswith(":= by\n")
        assert r["header"].startswith("import Mathlib")
    assert len(data.load(name, split="valid")) == 244


def test_profiles_are_named_once_and_known_to_setup():
    from lean_env.install.profiles import PROFILES

    assert data.load("minif2f")[0]["profile"] == "deepseek-v1.5"
    assert data.load("minif2f-v4.24")[0]["profile"] == "minif2f-v4.24"
    for v in VARIANTS.values():
        assert v.profile == "bundled" or v.profile in PROFILES


def test_unknown_split_and_dataset_have_clear_errors():
    with pytest.raises(ValueError, match="splits: test, valid"):
        data.load("minif2f", split="training")
    with pytest.raises(FileNotFoundError):
        data.load("no/such/file.jsonl")


def test_local_jsonl_with_field_mapping(tmp_path):
    path = tmp_path / "mine.jsonl"
    rows = [{"id": "a1", "statement": "theorem a1 (p : Prop) (h : p) : p := by\n", "part": "test"},
            {"id": "a2", "statement": "theorem a2 : True := by\n", "part": "valid"}]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    out = data.load(str(path), fields=["formal_statement=statement", "name=id", "split=part"], profile="minif2f-v4.24")
    assert [r["name"] for r in out] == ["a1", "a2"]
    assert out[0]["formal_statement"] == rows[0]["statement"] and out[0]["split"] == "test"
    assert out[0]["header"] == "" and out[0]["informal_prefix"] == "" and out[0]["profile"] == "minif2f-v4.24"
    assert out[0]["source"] == str(path)
    assert [r["name"] for r in data.load(str(path), fields={"formal_statement": "statement", "name": "id",
                                                            "split": "part"}, split="valid")] == ["a2"]
    with pytest.raises(ValueError, match="no column 'stmt'"):
        data.load(str(path), fields=["formal_statement=stmt"])


def test_field_map_syntax():
    assert parse_field_map(["formal_statement=statement", " name = id "]) == {"formal_statement": "statement", "name": "id"}
    with pytest.raises(ValueError, match="OURS=THEIRS"):
        parse_field_map(["formal_statement"])


def test_statement_with_its_own_header_is_split_like_deepseeks():
    text = ("import Mathlib\nimport Aesop\n\nset_option maxHeartbeats 400000\n\nopen BigOperators Real Nat Topology Rat\n\n"
            "/-- Show that 1 + 1 = 2. -/\ntheorem t (x : ℕ) : 1 + 1 = 2 := by\n  sorry")
    header, informal, statement = split_statement(text)
    assert header.startswith("import Mathlib") and header.endswith("Rat\n\n")
    assert informal == "/-- Show that 1 + 1 = 2. -/\n"
    assert statement == "theorem t (x : ℕ) : 1 + 1 = 2 := by\n"
    row = normalize_row({"formal_statement": text})
    assert row["name"] == "t" and row["header"] == header


def test_logic_rows_get_the_prelude_header_and_a_short_prompt_header():
    from lean_env.running.environments import logic_header
    from protocol.prompts import build_prompt

    rows = data.load("logic", split="test")
    assert rows and all(r["split"] == "test" for r in rows)
    assert rows[0]["header"] == logic_header() and rows[0]["profile"] == "bundled"
    text = build_prompt(rows[0], "deepseek-v1.5").text
    assert text == "Complete the following Lean 4 code:\n\n```lean4\n" + rows[0]["formal_statement"]
