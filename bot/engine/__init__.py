"""The notes engine: notes on disk -> parsed notes -> index -> search hits."""
