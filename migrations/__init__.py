"""Alembic migrations (shipped inside the distribution so ``kosodate db migrate`` finds them)."""
