"""The documentation's commands stay true: every `prover` command shown in the README or under
docs/ names a real subcommand and real options, every path it names exists, and the blocks marked
`<!-- tested -->` (the cheap ones: no model) run as written and succeed."""
import os
import re
import shlex
import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest
import typer

from prover.cli import app

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
MARK = "<!-- tested -->"
FENCE = re.compile(r"^```(\w*)[^\n]*\n(.*?)^```", re.M | re.S)


def code_blocks(page: Path, language: str):
    """(tested, first line number, text) of each fenced block of a page in `language`."""
    text = page.read_text(encoding="utf-8")
    for m in FENCE.finditer(text):
        if m.group(1) != language:
            continue
        before = text[: m.start()].rstrip("\n").rsplit("\n", 1)[-1]
        yield before.strip() == MARK, text[: m.start()].count("\n") + 2, m.group(2)


def bash_blocks(page: Path):
    return code_blocks(page, "bash")


def commands(block: str):
    """The words of each shell command of a block (continuation lines joined, comments dropped,
    split at `&&`, `||`, `;`, pipes and redirections, quotes respected, also across lines)."""
    pending = ""
    for line in block.replace("\\\n", " ").splitlines():
        pending += line
        lexer = shlex.shlex(pending, posix=True, punctuation_chars=True)
        lexer.whitespace_split = True
        try:
            tokens = [*lexer, ";"]
        except ValueError:  # a quoted string goes on to the next line
            pending += "\n"
            continue
        pending = ""
        words = []
        for token in tokens:
            if token and set(token) <= set("&|;<>()"):
                yield words
                words = []
            else:
                words.append(token)
    assert not pending, f"unclosed quote in a shell block: {pending[:200]}"


def prover_invocations():
    """(page:line, argv after `prover`) of every prover command in a bash block."""
    for page in PAGES:
        for _, line_no, block in bash_blocks(page):
            for words in commands(block):
                while words and re.fullmatch(r"[A-Z_]+=\S*", words[0]):  # VAR=value prover ...
                    words = words[1:]
                if words and (words[0] == "prover" or words[0].endswith("bin/prover")):
                    yield f"{page.relative_to(ROOT)}:{line_no}", words[1:]


INVOCATIONS = list(prover_invocations())


def resolve(argv):
    """The command argv names (walking the subcommand groups), and the option words it was given."""
    command = typer.main.get_command(app)
    words = list(argv)
    while getattr(command, "commands", None) is not None and words and not words[0].startswith("-"):
        sub = command.commands.get(words[0])
        assert sub is not None, f"no subcommand {words[0]!r} (have: {', '.join(command.commands)})"
        command, words = sub, words[1:]
    options = [w.split("=", 1)[0] for w in words if re.match(r"^--?[A-Za-z]", w)]
    return command, options


def test_the_docs_show_prover_commands():
    assert len(INVOCATIONS) >= 20, INVOCATIONS  # the parser below found the docs' commands


@pytest.mark.parametrize("where,argv", INVOCATIONS, ids=[f"{w} {' '.join(a[:2])}" for w, a in INVOCATIONS])
def test_every_prover_command_shown_names_real_subcommands_and_options(where, argv):
    command, options = resolve(argv)
    known = {"--help", "-h"}
    for param in command.params:
        known.update(param.opts)
        known.update(param.secondary_opts)
    unknown = [o for o in options if o not in known]
    assert not unknown, f"{where}: `prover {' '.join(argv)}` uses {unknown}, which `{command.name}` does not have"


PATH_IN_TEXT = re.compile(r"(?<![\w/.~<-])((?:lean_env|protocol|search|prover|data|benchmarks|configs|tests)/[\w./-]*\w)")


MODULE_IN_TEXT = re.compile(r"(?<![\w/.-])((?:lean_env|protocol|search|prover|data)(?:\.[A-Za-z_]\w*)+)")
NOT_MODULES = {"json", "jsonl", "yaml", "md", "py", "lean", "png", "sqlite"}  # prover.json is a file name


def module_exists(dotted: str) -> bool:
    """The first two parts name a module or package of the project (the rest may be attributes)."""
    parts = dotted.split(".")
    if parts[1] in NOT_MODULES:
        return True
    base = ROOT.joinpath(*parts[:2])
    return base.with_suffix(".py").is_file() or base.is_dir()


def test_every_project_path_and_module_the_docs_name_exists():
    missing = []
    for page in PAGES:
        for n, line in enumerate(page.read_text(encoding="utf-8").splitlines(), 1):
            for path in PATH_IN_TEXT.findall(line):
                if not (ROOT / path).exists():
                    missing.append(f"{page.relative_to(ROOT)}:{n}: {path}")
            for dotted in MODULE_IN_TEXT.findall(line):
                if not module_exists(dotted):
                    missing.append(f"{page.relative_to(ROOT)}:{n}: {dotted}")
    assert not missing, "the docs name paths or modules that do not exist:\n" + "\n".join(missing)


def slug(heading: str) -> str:
    """The anchor Python-Markdown's toc (mkdocs) gives a heading."""
    text = unicodedata.normalize("NFKD", heading.replace("`", "")).encode("ascii", "ignore").decode()
    return re.sub(r"[-\s]+", "-", re.sub(r"[^\w\s-]", "", text).strip().lower())


def test_the_readmes_links_into_docs_resolve():
    """mkdocs --strict checks the links between docs pages; the README is outside the site."""
    broken = []
    for target in re.findall(r"\]\((docs/[^)#\s]+)(?:#([^)\s]+))?\)", (ROOT / "README.md").read_text(encoding="utf-8")):
        page, anchor = ROOT / target[0], target[1]
        if not page.exists():
            broken.append(target[0])
        elif anchor and anchor not in {slug(h) for h in re.findall(r"^#+ (.+)$", page.read_text(encoding="utf-8"), re.M)}:
            broken.append(f"{target[0]}#{anchor}")
    assert not broken, f"README links to missing pages or anchors: {broken}"


TESTED = [(f"{p.relative_to(ROOT)}:{n}", language, block) for p in PAGES for language in ("bash", "python")
          for tested, n, block in code_blocks(p, language) if tested]


def test_the_docs_mark_blocks_to_run():
    assert {language for _, language, _ in TESTED} == {"bash", "python"} and len(TESTED) >= 4, TESTED


@pytest.mark.lean
@pytest.mark.parametrize("where,language,block", TESTED, ids=[w for w, _, _ in TESTED])
def test_tested_blocks_run_as_written(where, language, block, tmp_path):
    env = dict(os.environ, PROVER_PYTHON=sys.executable,
               PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    if language == "python":
        argv = [sys.executable, "-c", block]
    else:
        argv = ["bash", "-c", "set -euo pipefail\nprover() { \"$PROVER_PYTHON\" -m prover.cli \"$@\"; }\n"
                + block.replace(".venv/bin/prover", "prover")]
    res = subprocess.run(argv, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, f"{where} failed (exit {res.returncode}):\n{res.stdout[-3000:]}\n{res.stderr[-3000:]}"


def test_the_architecture_pages_file_counts_match_the_tree():
    """docs/architecture.md's tables give the Python files per package: a module added or removed
    must update them (the failure says which row and what the tree has)."""
    page = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    rows = re.findall(r"^\| `([\w/*.]+)` \| (\d+) \|", page, re.M)
    assert len(rows) >= 10, rows
    wrong = []
    for package, stated in rows:
        if package.endswith("/*.py"):
            found = len(list((ROOT / package[:-5]).glob("*.py")))
        else:
            found = len(list((ROOT / package.rstrip("/")).rglob("*.py")))
        if found != int(stated):
            wrong.append(f"`{package}`: the page says {stated}, the tree has {found}")
    assert not wrong, "update the file counts in docs/architecture.md: " + "; ".join(wrong)
