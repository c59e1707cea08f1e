"""Operations: backup and restore of the whole site, Prometheus metrics."""
