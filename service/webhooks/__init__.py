"""Alert notifications to webhooks: an outbox written with the alert, delivered by the worker."""
