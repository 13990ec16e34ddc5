"""`make bench`: throughput and latency of the whole OMS against the limits of its own stack."""
