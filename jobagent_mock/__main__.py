"""`python -m jobagent_mock`: the same as the `jobagent-mock` command."""

from jobagent_mock.cli import main

raise SystemExit(main())
