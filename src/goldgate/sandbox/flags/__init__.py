"""The sandbox's feature-flag server: a real Unleash (npm ``unleash-server``) on PostgreSQL."""
