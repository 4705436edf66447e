"""Prefect flows and all I/O: source connectors, the DuckDB warehouse and the `winset` CLI."""

from flows.settings import configure_environment

configure_environment()
