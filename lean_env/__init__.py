"""The Lean side: find/install toolchains, run untrusted Lean safely, turn Lean's messages into
a Verdict. Knows nothing about models."""
from lean_env.checker import Checker
from lean_env.running.settings import Settings
from lean_env.soundness.verdict import Message, ProofTask, Verdict

__all__ = ["Checker", "Message", "ProofTask", "Settings", "Verdict"]
