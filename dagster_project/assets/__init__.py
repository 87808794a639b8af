"""Chapter 2's assets: the raw batches, the dbt models, and the two deliveries."""
