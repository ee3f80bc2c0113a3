"""Benchmark files shipped with the package (miniF2F variants, the logic benchmark) and loaders
for local jsonl / Hugging Face datasets. See data/README.md for provenance and licenses."""
from data.loaders import VARIANTS, load, parse_field_map, variant

__all__ = ["VARIANTS", "load", "parse_field_map", "variant"]
