"""The computation core: periods, validation rules, aggregation; plain Python and pandas only."""
