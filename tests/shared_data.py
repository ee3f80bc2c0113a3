"""Where the tests' data is. The REPL transcripts (Apache-2.0) ship with the project under
tests/data, so their tests run from a clone. The model-written proofs have no clear license and
stay in ../shared/data (or $PROVER_SHARED_DATA): the tests that read them skip without it."""
import os
from pathlib import Path

TRANSCRIPTS = Path(__file__).resolve().parent / "data" / "repl_transcripts"
SHARED = Path(os.environ.get("PROVER_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))
