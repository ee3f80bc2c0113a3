"""The proof-text protocol: what a model is shown and what is read back from it.

Prompt formats (prompts), pulling a proof out of a completion (extract) and the model interface
with its sampling types (policy). It sits below `search` and above `lean_env`/`data`: search
methods speak it to any model, and nothing here knows about search, training or the CLI.
"""
