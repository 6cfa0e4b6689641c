"""The main window, its panels and views, the status bar and event log."""
