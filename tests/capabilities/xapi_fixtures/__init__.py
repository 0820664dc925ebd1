"""Statements of every shape an LRS receives, written from the xAPI 1.0.3 specification's
examples and Moodle's logstore_xapi formats (account actors, site URL as homePage)."""
