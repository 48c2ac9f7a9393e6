"""Tools that publish the contract: catalogue, console, docs, changelog, diff, coverage, checks."""
