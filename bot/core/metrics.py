"""Prometheus metrics of one process, on its own registry (so tests and several apps don't clash).

Counters are moved where the thing happens (delivery, adapters); the outbox depth and the
scheduler lag are read from the database when `/metrics` is scraped.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

# Seconds; Slack allows 3 s for an ack, so the buckets are fine below that.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0, 10.0)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.sends = Counter(
            "cohortbot_sends", "Messages the platforms accepted.", ["platform"], registry=self.registry
        )
        self.retries = Counter(
            "cohortbot_send_retries",
            "Sends rescheduled for a later attempt.",
            ["platform"],
            registry=self.registry,
        )
        self.failures = Counter(
            "cohortbot_send_failures", "Sends given up on.", ["platform"], registry=self.registry
        )
        self.rate_limited = Counter(
            "cohortbot_rate_limited", "429 answers from a platform.", ["platform"], registry=self.registry
        )
        self.inbound_latency = Histogram(
            "cohortbot_inbound_latency_seconds",
            "Time from receiving an inbound request to answering it.",
            ["platform"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.outbox_depth = Gauge(
            "cohortbot_outbox_messages", "Outbox rows by status.", ["status"], registry=self.registry
        )
        self.scheduler_lag = Gauge(
            "cohortbot_scheduler_lag_seconds",
            "How late the oldest due and unfired planned event is (0 when none is waiting).",
            registry=self.registry,
        )

    def render(self) -> bytes:
        return generate_latest(self.registry)
