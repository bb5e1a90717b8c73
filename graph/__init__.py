"""Graph layer: schema, stores (Neo4j and in-memory), loaders and the local Neo4j launcher."""
