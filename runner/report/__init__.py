"""Reports of an apply: JSON results, JUnit XML, a Markdown step summary, the result table."""
