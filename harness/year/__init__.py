"""A year as a scenario (``calendar:``, ``harness run year``): the planner makes twelve month
runs of a scenario's events on a calendar (``_rhythm``: the days' volume and times; ``_life``:
life events as faults, drift, schedule shapes, downstream and delivery settings; ``_plan``: the
months), and the driver runs them in turn into one journal against one target (``_drive``).
docs/year.md."""

from ._plan import MonthPlan, YearPlan, default_day_seconds, plan_year

__all__ = ["MonthPlan", "YearPlan", "default_day_seconds", "plan_year"]
