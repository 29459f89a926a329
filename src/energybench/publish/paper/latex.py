"""models.tex: the per-model table as a booktabs ``longtable`` for papers.

One block per rating group (task, and class for text generation), its rows ranked by the
figure the stars rate (GPU energy per 1,000 queries, rated models first); a stars column;
numbers right-aligned to three significant digits, trailing zeros kept, minus signs true
minus signs; an interval bound below 0, which no energy can be, shown as 0 and marked.
"""

from __future__ import annotations

import math

import pandas as pd

from energybench.publish.paper.ranking import ESTIMATE_SHARE, group_title, marked_estimated

DIGITS = 3
UNKNOWN = "--"
ESTIMATED = "*"
TRUNCATED = r"\textsuperscript{\dag}"
MINUS = "$-$"  # a true minus sign in text, in any LaTeX engine
HEADER = [
    "Model",
    "Stars",
    "GPU energy (Wh/1,000 queries)",
    "Total energy (Wh/1,000 queries)",
    "Energy per token (J)",
    "Status",
]
ALIGNMENT = "lrrrrl"
LEGEND = (
    rf"--: unknown, never 0; *: estimated components make {ESTIMATE_SHARE:.0%} of the "
    r"total or more; \dag: the interval's lower bound is below 0, shown as 0"
).replace("%", r"\%")
NOTE = (
    "% Mean over trials [95% confidence interval over trials, where at least two are valid].\n"
    "% Three significant digits (33,412 reads 33,400), as a power of ten below 0.001 and\n"
    "% from a million up.\n"
    "% Rows: per rating group, ranked by GPU energy per 1,000 queries (what the stars rate),\n"
    "% rated models first. An energy cannot be negative: a lower bound below 0 (trials too\n"
    "% few or too spread to bound it from below) is shown as 0 and marked \\dag.\n"
    "% Needs \\usepackage{booktabs,longtable}. Made by energybench from the stored reports.\n"
)


def number(value) -> str:
    """``value`` to three significant digits, trailing zeros kept (2.00, 0.0500), thousands
    separated from 1,000 up (33,400), a power of ten below 0.001 and from a million up (no
    more digits than the three a figure has); a true minus sign; ``--`` when unknown."""
    if value is None or pd.isna(value):
        return UNKNOWN
    if value < 0:
        return MINUS + number(-value)
    if value == 0:
        return "0"
    rounded = float(f"{value:.{DIGITS}g}")  # 999.7 reads 1,000, and 0.0009996 0.00100
    if rounded < 1e-3 or rounded >= 1e6:
        exponent = math.floor(math.log10(rounded))
        return f"${rounded / 10**exponent:.{DIGITS - 1}f}\\times10^{{{exponent}}}$"
    if rounded >= 10**DIGITS:
        return f"{rounded:,.0f}"
    return f"{value:#.{DIGITS}g}".rstrip(".")


def bound(value) -> str:
    """An energy interval's bound: below 0 it is shown as 0, marked (no energy is negative)."""
    return "0" + TRUNCATED if value < 0 else number(value)


def with_interval(mean, low, high) -> str:
    """``mean [low, high]``; the mean alone without an interval; ``--`` when unknown."""
    text = number(mean)
    if text != UNKNOWN and not (pd.isna(low) or pd.isna(high)):
        text += f" [{bound(low)}, {bound(high)}]"
    return text


def stars_text(stars) -> str:
    return UNKNOWN if pd.isna(stars) else str(int(stars))


def ranked(table: pd.DataFrame, ratings: pd.DataFrame) -> list[tuple[str, pd.DataFrame]]:
    """The models table joined with the ratings, per rating group (in name order), each
    group's rows ranked: the rated ones by GPU energy per 1,000 queries, then the others by
    the same figure where they have one, then by key."""
    rating = ratings.set_index("model")[["group", "stars"]]
    joined = table.join(rating, on="model")
    joined["group"] = joined["group"].fillna("not rated: no ratings row")
    joined = joined.assign(
        unrated=joined["stars"].isna(), no_figure=joined["wh_per_1000_queries"].isna()
    )
    joined = joined.sort_values(
        ["group", "unrated", "no_figure", "wh_per_1000_queries", "model"], kind="stable"
    )
    return list(joined.groupby("group", sort=True))


def cells(row: dict) -> list[str]:
    """One model's cells, as LaTeX (its text escaped)."""
    total = with_interval(
        row["total_wh_per_1000_queries"],
        row["total_wh_per_1000_queries_ci_low"],
        row["total_wh_per_1000_queries_ci_high"],
    )
    share = None if pd.isna(row["estimated_share"]) else row["estimated_share"]
    if total != UNKNOWN and marked_estimated(row["estimated"] is True, share):
        total += ESTIMATED
    status = (
        row["status"]
        if pd.isna(row["failed_checks"])
        else f"{row['status']}, checks failed: {row['failed_checks']}"
    )
    return [
        escape(row["model"]),
        stars_text(row["stars"]),
        with_interval(
            row["wh_per_1000_queries"],
            row["wh_per_1000_queries_ci_low"],
            row["wh_per_1000_queries_ci_high"],
        ),
        total,
        number(row["joules_per_token"]),
        escape(status),
    ]


def models_latex(table: pd.DataFrame, ratings: pd.DataFrame) -> str:
    """The per-model table: a ``longtable`` that breaks across pages, repeating its header,
    one block per rating group headed by the group's name."""
    columns = len(HEADER)
    header = [r"\toprule", row_line(map(escape, HEADER)), r"\midrule"]
    lines = [
        r"\begin{longtable}{" + ALIGNMENT + "}",
        *header,
        r"\endfirsthead",
        *header,
        r"\endhead",
        r"\midrule",
        rf"\multicolumn{{{columns}}}{{r}}{{\footnotesize continued}} \\",
        r"\endfoot",
        r"\bottomrule",
        rf"\multicolumn{{{columns}}}{{l}}{{\footnotesize {LEGEND}}} \\",
        r"\endlastfoot",
    ]
    for number_of_group, (group, rows) in enumerate(ranked(table, ratings)):
        if number_of_group:
            lines.append(r"\addlinespace")
        title = escape(group_title(group))
        lines.append(rf"\multicolumn{{{columns}}}{{l}}{{\textit{{{title}}}}} \\")
        lines += [row_line(cells(row)) for row in rows.to_dict("records")]
    lines.append(r"\end{longtable}")
    return "".join(line + "\n" for line in lines) + NOTE


def row_line(cells) -> str:
    return " & ".join(cells) + r" \\"


def escape(text: str) -> str:
    """``text`` with LaTeX's special characters written as text, as pandas' Styler
    (``escape="latex"``) writes them: a control word that would swallow the space after it
    is followed by ``\\space``."""
    first, *rest = (
        part.replace("&", "\\&")
        .replace("%", "\\%")
        .replace("$", "\\$")
        .replace("#", "\\#")
        .replace("_", "\\_")
        .replace("{", "\\{")
        .replace("}", "\\}")
        .replace("~ ", "~\\space ")
        .replace("~", "\\textasciitilde ")
        .replace("^ ", "^\\space ")
        .replace("^", "\\textasciicircum ")
        for part in str(text).split("\\")
    )
    return first + "".join(
        "\\textbackslash " + ("\\space" if part.startswith(" ") else "") + part for part in rest
    )
