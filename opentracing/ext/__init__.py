"""Legacy home of the standard tags (kept for 1.x-era imports)."""
