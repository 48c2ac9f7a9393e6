"""The contracts: package data of jobagent_mock (jobagent_mock.openapi in the wheel)."""
