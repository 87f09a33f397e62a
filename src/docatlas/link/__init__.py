"""The link stage: everything that needs more than one file's facts (resolution, graph, tests <-> code, purposes)."""
