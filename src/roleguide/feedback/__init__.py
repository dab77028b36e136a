"""What users asked and thought of the answers, and the questions the articles don't cover."""
