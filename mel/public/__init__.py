"""The public results page: published reports and their key figures for anyone, no sign-in.

Everything it shows comes from published report runs (their stored snapshots and final PDFs), never
from live or unapproved data: queries.py picks the runs, figures.py turns a run's snapshot into the
figures and county map the published report printed, views.py serves the page (cacheable) and the PDFs.
"""
