"""Why each run failed: in the script, at initiation, or unknown because its script log was not collected.

The playbook (formats.md §5.6): a failed run **with** a linked script log failed in the script, and the
log's first ``Error:`` line is the root cause; a failed run **without** one failed at initiation (the
scheduler could not start it) — but only when the bundle holds script logs for that period, otherwise
the log was simply not collected. Classes come from :mod:`qslogs.error_classes`, the one table of error
patterns; initiation failures are class ``initiation`` and aborted runs class ``aborted``.
"""

from __future__ import annotations

from datetime import datetime

import polars as pl

from qslogs.error_classes import CLASS_HINTS, error_class_expr, error_hint_expr

#: Notes attached to runs (also shown in the report).
NOTE_NOT_COLLECTED = (
    "script log not collected: the bundle holds no script logs for this period, so it "
    "cannot tell whether the run failed in the script or at initiation"
)
NOTE_INITIATION = (
    "no script log although the bundle holds script logs for this period: the failure came before "
    "the script ran; the scheduler's lines around the start say what it did and where it stopped"
)
NOTE_LOG_SUCCESS = (
    "the script log ends without error: the run failed after the script (saving or storing the app)"
)
NOTE_LOG_CUT = (
    "the script log ends without 'Execution finished.': the reload was cut off (engine stopped or killed)"
)

#: Scheduler texts that only restate the outcome; never a root cause.
_GENERIC = r"(?i)^\s*(?:execution state change to|task finished with state|changing task state)"
#: Failure reasons that say that, not why: a better scheduler line wins over them.
_WEAK_REASON = _GENERIC + r"|max\s+retries\s+reached"
_LOG_COLUMNS = {
    "outcome": "script_outcome",
    "root_cause": "log_root",
    "root_cause_line_no": "log_line",
    "root_cause_script_line": "root_cause_script_line",
    "running_statement": "running_statement",
    "connection": "connection",
    "error_class": "log_class",
    "error_hint": "log_hint",
}


def best_scheduler_line(context: pl.DataFrame, reasons: pl.DataFrame | None = None) -> pl.DataFrame:
    """Per run, the scheduler line that best explains a failure without a script-log error.

    Order: the line that says the run's own failure reason (``reasons``: run_key, reason), then an
    initiation error ("Failed to start session", "Could not reserve an executor"), then any other
    recognised error text, then ERROR/FATAL lines, then "Max retries reached" and warnings.
    """
    if reasons is None:
        reasons = pl.DataFrame(schema={"run_key": pl.String(), "reason": pl.String()})
    context = context.join(reasons, on="run_key", how="left")
    level = pl.col("level").str.to_uppercase()
    cls = error_class_expr(pl.col("message"))
    retries = pl.col("message").str.contains(r"(?i)max\s+retries\s+reached")
    says_reason = (pl.col("message").str.strip_chars() == pl.col("reason").str.strip_chars()).fill_null(False)
    prio = (
        pl.when(says_reason)
        .then(-1)
        .when(retries)
        .then(3)
        .when(cls == "initiation")
        .then(0)
        .when(cls.is_in(["unknown"]).not_() & ~pl.col("message").str.contains(_GENERIC))
        .then(1)
        .when(level.is_in(["ERROR", "FATAL"]))
        .then(2)
        .when(level.is_in(["WARN", "WARNING"]))
        .then(3)
        .otherwise(None)
    )
    return (
        context.with_columns(prio.alias("__p"))
        .filter(pl.col("__p").is_not_null())
        .sort("run_key", "__p", "time", "line_no")
        .group_by("run_key", maintain_order=True)
        .first()
        .select(
            "run_key",
            pl.col("message").alias("sched_root"),
            pl.col("source_file").alias("sched_file"),
            pl.col("line_no").alias("sched_line"),
        )
    )


def _covered(start: pl.Expr, coverage: tuple[datetime, datetime] | None) -> pl.Expr:
    if coverage is None:
        return pl.lit(False)
    lo, hi = coverage
    return (start >= lo) & (start < hi)


def attribute_failures(
    runs: pl.DataFrame,
    links: pl.DataFrame,
    logs: pl.DataFrame,
    context: pl.DataFrame,
    coverage: tuple[datetime, datetime] | None,
) -> pl.DataFrame:
    """Add to every run its script log, and for failed or aborted runs where and why they failed.

    New columns: script_log, link, link_delta_s, script_outcome, failure_kind (script / initiation / null),
    error_class, error_hint, root_cause, root_cause_file, root_cause_line, root_cause_script_line,
    running_statement, connection, note.
    """
    log_cols = logs.select("source_file", *[pl.col(k).alias(v) for k, v in _LOG_COLUMNS.items()])
    reason = (
        pl.when(pl.col("failure_reason").str.contains(_WEAK_REASON))
        .then(None)
        .otherwise(pl.col("failure_reason"))
    )
    reasons = runs.select("run_key", reason.alias("reason"))
    frame = (
        runs.join(links, on="run_key", how="left")
        .join(log_cols, on="source_file", how="left")
        .join(best_scheduler_line(context, reasons), on="run_key", how="left")
        .rename({"source_file": "script_log"})
    )
    sched_cause = pl.coalesce(
        reason, "sched_root", pl.col("failure_reason").str.extract(r"(?i)(max retries reached)")
    )
    # The line is evidence only when it says the cause itself (FailureReason may be a text of its own).
    own_line = reason.is_null() | (pl.col("sched_root") == reason).fill_null(False)
    sched_file = pl.when(own_line).then(pl.col("sched_file")).otherwise(None)
    sched_line = pl.when(own_line).then(pl.col("sched_line")).otherwise(None)
    failed = pl.col("outcome") == "failed"
    aborted = pl.col("outcome") == "aborted"
    has_log = pl.col("script_log").is_not_null()
    covered = _covered(pl.col("start"), coverage)
    kind = (
        pl.when(failed & has_log)
        .then(pl.lit("script"))
        .when(failed & covered)
        .then(pl.lit("initiation"))
        .otherwise(None)
    )
    log_error = has_log & pl.col("log_root").is_not_null()
    root = (
        pl.when(~(failed | aborted))
        .then(None)
        .when(log_error)
        .then(pl.col("log_root"))
        .otherwise(sched_cause)
    )
    error_class = _class_expr(failed, aborted, kind, log_error, sched_cause)
    hint = _hint_expr(error_class, aborted, kind, log_error, sched_cause)
    note = _note_expr(failed, kind)
    return frame.with_columns(
        kind.alias("failure_kind"),
        error_class.alias("error_class"),
        hint.alias("error_hint"),
        root.alias("root_cause"),
        pl.when(root.is_null())
        .then(None)
        .when(log_error)
        .then(pl.col("script_log"))
        .otherwise(sched_file)
        .alias("root_cause_file"),
        pl.when(root.is_null())
        .then(None)
        .when(log_error)
        .then(pl.col("log_line"))
        .otherwise(sched_line)
        .alias("root_cause_line"),
        pl.when(log_error & (failed | aborted))
        .then(pl.col("root_cause_script_line"))
        .otherwise(None)
        .alias("root_cause_script_line"),
        pl.when(log_error & (failed | aborted))
        .then(pl.col("running_statement"))
        .otherwise(None)
        .alias("running_statement"),
        note.alias("note"),
    ).drop("log_root", "log_line", "log_class", "log_hint", "sched_root", "sched_file", "sched_line")


def _class_expr(failed: pl.Expr, aborted: pl.Expr, kind: pl.Expr, log_error: pl.Expr, sched_cause: pl.Expr) -> pl.Expr:
    """The error class of a failed or aborted run: the script log's class, else the scheduler's cause's."""
    return (
        pl.when(~(failed | aborted))
        .then(None)
        .when(aborted)
        .then(pl.lit("aborted"))
        .when(kind == "initiation")
        .then(pl.lit("initiation"))
        .when(log_error)
        .then(pl.col("log_class"))
        .when(sched_cause.is_not_null())
        .then(error_class_expr(sched_cause))
        .when(kind == "script")
        .then(pl.lit("unknown"))
        .otherwise(None)
    )


def _hint_expr(
    error_class: pl.Expr, aborted: pl.Expr, kind: pl.Expr, log_error: pl.Expr, sched_cause: pl.Expr
) -> pl.Expr:
    """What to do about the failure, from the same evidence as its class."""
    return (
        pl.when(error_class.is_null())
        .then(None)
        .when(aborted)
        .then(pl.lit(CLASS_HINTS["aborted"]))
        .when(kind == "initiation")
        .then(pl.lit(CLASS_HINTS["initiation"]))
        .when(log_error)
        .then(pl.col("log_hint"))
        .otherwise(
            pl.coalesce(error_hint_expr(sched_cause, pl.col("connection")), pl.lit(CLASS_HINTS["unknown"]))
        )
    )


def _note_expr(failed: pl.Expr, kind: pl.Expr) -> pl.Expr:
    """A note where the evidence is thin: failed at initiation, script log not collected, cut or successful."""
    return (
        pl.when(~failed)
        .then(None)
        .when(kind == "initiation")
        .then(pl.lit(NOTE_INITIATION))
        .when(kind.is_null())
        .then(pl.lit(NOTE_NOT_COLLECTED))
        .when(pl.col("script_outcome") == "success")
        .then(pl.lit(NOTE_LOG_SUCCESS))
        .when(pl.col("script_outcome") == "incomplete")
        .then(pl.lit(NOTE_LOG_CUT))
        .otherwise(None)
    )
