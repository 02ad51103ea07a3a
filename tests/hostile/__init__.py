"""A hostile corpus: generated emails for each attack family, driven through the real intake
path in-process (and the moto stack for the spoofed withdrawal), each with its outcome, its
time and memory bounds, and a check that no personal data leaks (issue #9, item 6)."""
