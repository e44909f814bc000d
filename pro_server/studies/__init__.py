"""Studies and their sites: the rows, their write rules, the languages a study collects in."""
