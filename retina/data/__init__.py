"""Reading and checking the data, and turning it into each model's input."""
