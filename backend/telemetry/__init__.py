"""Telemetry: Prometheus metrics exact across workers, OpenTelemetry traces over OTLP."""
