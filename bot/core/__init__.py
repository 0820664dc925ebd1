"""The engine's core: inbound handling, grammar, people, messages, the store, the outbox and its
delivery, scheduling and the clock. It imports no capability and no adapter."""
