"""Email texts: the first line is `Subject: ...`, then a blank line, then the body.

Placeholders are `$name` (Python string.Template). `$child_details` is filled only for
recipients in the secure domains; everyone else sees the case reference only.
"""
