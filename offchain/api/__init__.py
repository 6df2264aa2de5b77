"""Device-ingestion and query API: signed sensor batches in, durable store, queries and a live feed."""
