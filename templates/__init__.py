"""Email texts and fillable PDF forms, shipped with the code."""
