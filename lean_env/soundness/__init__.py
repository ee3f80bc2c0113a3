"""The soundness core: what "ok" means, decided on text alone (lexer, allowlist, statement comparison, the check file, the judge of Lean's messages, input limits). No processes, no settings."""
