"""Rendering of boundary histories: GIF, PNG frames, comparison grids (matplotlib, Agg)."""
