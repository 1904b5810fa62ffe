"""The Dagster code location: everything the Dagster UI shows for OneConnect."""
