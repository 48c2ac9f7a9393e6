"""The validating proxy: `serve --upstream URL` forwards, checks both ways, reports drift."""
