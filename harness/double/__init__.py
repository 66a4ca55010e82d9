"""The downstream double: the HTTP server a target writes to, its fault windows, its routes, its
optional resource store, and the final-state observers."""
