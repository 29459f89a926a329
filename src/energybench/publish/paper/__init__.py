"""Paper outputs made from stored reports alone: tables, star ratings, figures and labels.

Nothing here runs a benchmark or is part of the engine's image: editing it remakes only the
outputs it draws (rules/aggregate.smk).
"""
