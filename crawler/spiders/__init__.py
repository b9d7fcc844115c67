"""The project's spiders: one generic spider, driven by its arguments."""
