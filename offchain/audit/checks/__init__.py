"""One module per concern; each exposes `check(...) -> CheckResult`. Only `escrow` knows Escrow's rules."""
