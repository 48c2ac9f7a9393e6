"""jobagent-mock: a contract-first mock of STAR's Jobagent and Tilmelding services."""
