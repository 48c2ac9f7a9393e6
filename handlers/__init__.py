"""Thin operation handlers, one module per contract tag: HTTP in, one engine call, HTTP out."""
