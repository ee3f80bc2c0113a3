"""The Mathlib profiles `prover setup NAME` knows: each pins a Lean toolchain, a Mathlib and a REPL
(full commits), the MiniF2F variant it checks, and a self-test proof; what is known slow or missing."""
from __future__ import annotations

from dataclasses import dataclass

# upstream leanprover-community/repl commit 4fc1e6d (PR #49, "avoid buffering stdout to ensure
# immediate replies"): a REPL without it never flushes stdout (see lean_env.running.backends.repl).
REPL_FLUSH_COMMIT = "4fc1e6d1dda170e8f0a6b698dd5f7e17a9cf52b4"


class SetupError(RuntimeError):
    """A step cannot run or failed; the message says what to do."""


@dataclass(frozen=True)
class Profile:
    """One pinned environment. The self-test is a MiniF2F statement of this profile's dataset
    variant with a proof written for this project (not a model's), plus a wrong proof that must
    be rejected: a Lean that accepts both is not a checker."""

    name: str
    summary: str
    toolchain: str  # elan toolchain, e.g. leanprover/lean4:v4.24.0
    mathlib_url: str
    mathlib_rev: str  # a full commit: a tag could move
    repl_url: str
    repl_rev: str
    dataset: str  # the MiniF2F variant whose statements this environment checks
    header: str  # the variant's header (imports, options, opens)
    selftest_statement: str
    selftest_proof: str
    selftest_wrong_proof: str
    # Whether `lake exe cache get` serves this Mathlib. Mathlib's cache keys mix in the hashes
    # of its lakefile.lean, lean-toolchain and lake-manifest.json, so a fork that changed them
    # (DeepSeek's added the REPL as a dependency) gets nothing: all of Mathlib is compiled.
    mathlib_cache: bool = True
    # The upstream commit that makes this REPL flush each answer, when its rev lacks it.
    repl_flush_commit: str = ""
    # Whether tactic responses carry `proofStatus` (REPL PR #63); without it tactic search
    # falls back to whole-file checks (search.tactic_env).
    repl_proof_status: bool = True

    def fingerprint(self) -> str:
        flush = f"+{self.repl_flush_commit[:7]}" if self.repl_flush_commit else ""
        return f"{self.toolchain} mathlib@{self.mathlib_rev} repl@{self.repl_rev}{flush}"


_SELFTEST = dict(
    # mathd_numbertheory_81 (valid split), identical in both variants.
    selftest_statement="theorem mathd_numbertheory_81 : 71 % 3 = 2 := by\n",
    selftest_proof="  norm_num\n",
    selftest_wrong_proof="  exact Nat.zero_ne_one\n",
)
PROFILES: dict[str, Profile] = {
    p.name: p
    for p in (
        Profile(
            name="minif2f-v4.24",
            summary="Lean v4.24.0 + Mathlib v4.24.0: the yangky11/miniF2F-lean4 port",
            toolchain="leanprover/lean4:v4.24.0",
            mathlib_url="https://github.com/leanprover-community/mathlib4.git",
            mathlib_rev="f897ebcf72cd16f89ab4577d0c826cd14afaafc7",  # tag v4.24.0
            repl_url="https://github.com/leanprover-community/repl.git",
            repl_rev="8fff8552292860d349b459d6a811e6915671dc0d",  # tag v4.24.0
            dataset="lean4_v4.24",
            header="import Mathlib\n\nset_option maxHeartbeats 0\n\nopen BigOperators Real Nat Topology Rat\n\n",
            **_SELFTEST,
        ),
        Profile(
            name="deepseek-v1.5",
            summary="Lean v4.9.0-rc1 + DeepSeek-Prover-V1.5's Mathlib fork and REPL fork (Goedel-Prover uses the same)",
            toolchain="leanprover/lean4:v4.9.0-rc1",
            mathlib_url="https://github.com/xinhjBrant/mathlib4.git",
            mathlib_rev="2f65ba7f1a9144b20c8e7358513548e317d26de1",  # branch deepseek, on upstream d1d1e4b72
            repl_url="https://github.com/xinhjBrant/repl.git",
            repl_rev="3334a97b268ecc67beb36a75787f7e831208a724",  # branch deepseek
            dataset="deepseek_v1.5",
            header="import Mathlib\nimport Aesop\n\nset_option maxHeartbeats 0\n\nopen BigOperators Real Nat Topology Rat\n\n",
            mathlib_cache=False,  # the fork's lakefile requires REPL: no cache key matches
            repl_flush_commit=REPL_FLUSH_COMMIT,  # 3334a97b ends each answer with an unflushed `IO.println ""`
            repl_proof_status=False,  # the fork predates REPL PR #63
            **_SELFTEST,
        ),
        Profile(
            name="kimina-v4.15",
            summary="Lean v4.15.0 + Mathlib v4.15.0: what Kimina-Prover Preview was checked with (minif2f-kimina)",
            toolchain="leanprover/lean4:v4.15.0",
            mathlib_url="https://github.com/leanprover-community/mathlib4.git",
            mathlib_rev="9837ca9d65d9de6fad1ef4381750ca688774e608",  # tag v4.15.0 (lake files in Kimina's zips)
            repl_url="https://github.com/leanprover-community/repl.git",
            repl_rev="21966799da3691a0912b5a15193585bd2dd7165d",  # tag v4.15.0, named in Kimina-Prover-Preview issue #9
            dataset="deepseek_v1.5",  # Kimina's statements keep DeepSeek's header; the self-test row is the same
            header="import Mathlib\nimport Aesop\n\nset_option maxHeartbeats 0\n\nopen BigOperators Real Nat Topology Rat\n\n",
            repl_proof_status=False,  # 21966799 (2025-01) predates REPL PR #63 (1631b1f, 2025-04)
            **_SELFTEST,
        ),
        Profile(
            name="putnambench-v4.27",
            summary="Lean v4.27.0 + Mathlib v4.27.0: PutnamBench's pins (trishullab/PutnamBench@3c9b9268)",
            toolchain="leanprover/lean4:v4.27.0",
            mathlib_url="https://github.com/leanprover-community/mathlib4.git",
            mathlib_rev="a3a10db0e9d66acbebf76c5e6a135066525ac900",  # tag v4.27.0 (PutnamBench lake-manifest.json)
            repl_url="https://github.com/leanprover-community/repl.git",
            repl_rev="0e9e6e2962ab0a51440513d9ee028c8aa66bb53b",  # tag v4.27.0
            dataset="lean4_v4.24",  # no PutnamBench problem has a short proof; a miniF2F row checks the install
            header="import Mathlib\n\nset_option maxHeartbeats 0\n\nopen BigOperators Real Nat Topology Rat\n\n",
            **_SELFTEST,
        ),
    )
}


def get_profile(name: str) -> Profile:
    try:
        return PROFILES[name]
    except KeyError:
        raise SetupError(f"unknown profile {name!r}; profiles: bundled, {', '.join(PROFILES)}") from None


def theorem_name(profile: Profile) -> str:
    return profile.selftest_statement.split()[1]


def profile_notes(profile: Profile) -> list[str]:
    """What is known to be slow or missing with this profile, from reading its repositories."""
    notes = []
    if not profile.mathlib_cache:
        notes.append("slow: Mathlib's cache serves no file of this fork, so setup compiles all of Mathlib "
                     "(hours even on many cores; the build also downloads ProofWidgets' release from GitHub)")
    if profile.repl_flush_commit:
        notes.append(f"REPL {profile.repl_rev[:7]} never flushes its answers: setup applies upstream's "
                     f"{profile.repl_flush_commit[:7]} (repl#49), else the repl backend reads them through a pty")
    if not profile.repl_proof_status:
        notes.append("REPL without proofStatus (before repl#63): tactic search (--search bfs with the repl "
                     "checker) decides finished-looking states by a whole-file check, one extra check each")
    notes.append("the header's `set_option maxHeartbeats` does not reach REPL tactic mode (repl#69): the "
                 "REPL tactic env sends each tactic under the header's value")
    return notes
