"""The DSR forms: reading their fields and validating them against `forms.md`."""
