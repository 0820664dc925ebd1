"""The composition root: the only layer that knows every capability and every adapter
(bootstrap, the HTTP server, the command line, the demo)."""
