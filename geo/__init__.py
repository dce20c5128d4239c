"""Pure spatial and Japanese address code. No database, no web server."""
