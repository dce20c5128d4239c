"""Storage and the read side: tables, migrations, query builders, search backends, exports."""
