"""Training stages, one module each, found by prover.train.registry (see there)."""
