"""The customer's LRS as an outbox target: xAPI statements cohortbot sends, batched, over HTTP."""
