"""Tests of the main window's panels and views, driving real widgets."""
