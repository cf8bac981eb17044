"""Motcua: an open platform for once-only digital government."""
