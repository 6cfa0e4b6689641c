"""Switchboard's icon (SVG and PNG sizes) and Linux .desktop file, loaded as package data."""
