"""The console's dialogs: settings, history, dial list, routes, routing, new room, move."""
