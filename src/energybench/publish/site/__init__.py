"""The static leaderboard site: plain HTML, CSS and a little JavaScript built from the
reports (and, where the paper rules made them, the ratings table, labels and per-run figures).

It only selects and draws: every figure it shows is read from a report or the ratings table.
"""

from energybench.publish.site.build import build_site

__all__ = ["build_site"]
