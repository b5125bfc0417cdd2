"""Report models, SVG charts and HTML/PDF rendering; plain data in, documents out (no Flask, no DB)."""
