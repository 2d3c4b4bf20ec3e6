"""Spreadsheet import and export endpoints (coordinators only)."""
