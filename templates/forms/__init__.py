"""The fillable DSR forms. `layout.py` says what is on each; `generate.py` draws the PDFs."""
