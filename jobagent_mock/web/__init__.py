"""The HTTP side: settings, request context, validators, security, problems, fast lane, workers."""
