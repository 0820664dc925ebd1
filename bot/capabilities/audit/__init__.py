"""Audit packs: one signed ZIP per cohort with everything an auditor asks for (`pack.py`), and the
small offline checker an auditor can run or rewrite (`verify.py`). Registers nothing: the CLI calls it."""
