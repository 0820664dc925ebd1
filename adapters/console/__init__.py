"""Console adapter: a terminal chat where you type as any person and see what cohortbot sends."""
