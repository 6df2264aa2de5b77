"""Oracle node daemon: detect SLA breaches, agree k-of-n on a signed verdict with peers, submit it once."""
