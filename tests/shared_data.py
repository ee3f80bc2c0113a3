"""Where ../shared/data is (the read-only data beside the checkout: real model proofs, REPL
transcripts, MiniF2F variants), or $PROVER_SHARED_DATA. Tests that read it skip without it."""
import os
from pathlib import Path

SHARED = Path(os.environ.get("PROVER_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))
