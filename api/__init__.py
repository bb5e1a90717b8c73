"""Interfaces: settings, the `kgrec` command line and the HTTP API."""
