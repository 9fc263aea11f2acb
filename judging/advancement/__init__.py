"""Advancement under quotas, prize tiers, awards and certificates with public verification."""
