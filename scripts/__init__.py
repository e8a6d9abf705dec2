"""Tools the project's own workflows run; not part of the action's image."""
