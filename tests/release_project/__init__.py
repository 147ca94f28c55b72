"""A second release project, unlike the reference bot's, built with the real tools."""
