"""The Scrapy project: spiders only extract; small ordered pipelines clean, check and store."""
