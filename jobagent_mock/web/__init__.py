"""The HTTP side of the mock: the connexion app, its validators, security and problem rendering."""
