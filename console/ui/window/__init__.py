"""The main window: its menus and actions, dialogs it opens, status bar, event log, alerts."""
