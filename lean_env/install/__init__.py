"""Installing Mathlib profiles (`prover setup NAME`): pinned Lean + Mathlib + REPL, step by step, verified with the Checker."""
