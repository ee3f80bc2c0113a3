"""The HTTP verification service (`prover serve`): our API and the Kimina-compatible one over one Checker."""
