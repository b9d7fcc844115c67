"""Item pipeline stages: extract, language, normalize, dedupe, parquet.

Each stage is a Scrapy component in its own module; the work it does is a plain function
over bytes or strings that can be called without Scrapy.
"""
