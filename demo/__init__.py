"""The bundled demo: a local news site and a crawl of it (``make demo``)."""
