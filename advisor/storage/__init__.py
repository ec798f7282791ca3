"""Storage: where runs and fitted state live between processes, written atomically."""
