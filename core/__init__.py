"""The ground floor: what every app may import, with no models and no import of ours.

- `core.refusals`: the one refusal exception and its codes, and their HTTP statuses;
- `core.jsonapi`: the plumbing every JSON endpoint shares;
- `core.staff`: the one OTP-verified staff gate;
- `core.admin`: the read-only admin mixin;
- `core.metrics`: the Prometheus counters the code updates.
"""
