"""Running Lean: its settings, toolchain and named environments, the sandbox, worker pools, the LSP and REPL protocols and the backends built on them."""
