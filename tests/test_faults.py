from harness.core._model import Fault
from harness.core._scenario import FaultSpec
from harness.double._faults import FaultPlan, to_fault


def fault(mode: str, start: float = 1.0, end: float = 2.0, **params: object) -> Fault:
    return Fault("crm", mode, start, end, params)


def test_windows_and_routes() -> None:
    plan = FaultPlan([fault("status", route="POST /contacts/{id}")])
    assert plan.decide("POST", "/contacts/7", 0.99) is None
    assert plan.decide("POST", "/contacts/7?x=1", 1.0) is not None
    assert plan.decide("PUT", "/contacts/7", 1.5) is None
    assert plan.decide("POST", "/contacts", 1.5) is None
    assert plan.decide("POST", "/contacts/7", 2.0) is None


def test_modes() -> None:
    at = 1.5
    status = FaultPlan([fault("status", status=500)]).decide("POST", "/x", at)
    assert status and (status.status, status.committed) == (500, False)
    throttle = FaultPlan([fault("throttle", retry_after=2.2)]).decide("POST", "/x", at)
    assert throttle and throttle.status == 429 and throttle.headers == (("Retry-After", "3"),)
    timeout = FaultPlan([fault("timeout", hold=9.0)]).decide("POST", "/x", at)
    assert timeout and (timeout.status, timeout.delay, timeout.committed) == (504, 9.0, False)
    reset = FaultPlan([fault("reset")]).decide("POST", "/x", at)
    assert reset and reset.reset and not reset.committed
    slow = FaultPlan([fault("slow", latency=0.5, jitter=0.1)], seed=3).decide("POST", "/x", at)
    assert slow and slow.status is None and slow.committed and 0.4 <= slow.delay <= 0.6
    ctf = FaultPlan([fault("commit-then-fail", status=502)]).decide("POST", "/x", at)
    assert ctf and (ctf.status, ctf.committed) == (502, True)
    held = FaultPlan([fault("commit-then-fail", then="timeout", hold=4.0)]).decide("POST", "/x", at)
    assert held and (held.status, held.committed, held.delay) == (504, True, 4.0)


def test_fail_first_n_counts_calls() -> None:
    plan = FaultPlan([fault("fail-first-n", 0.0, 10.0, count=2, status=503)])
    answers = [plan.decide("POST", "/x", 1.0) for _ in range(4)]
    assert [a.status if a else None for a in answers] == [503, 503, None, None]


def test_to_fault_scales_the_window_not_what_one_call_meets() -> None:
    spec = FaultSpec("crm", "timeout", at=10.0, duration=240.0, hold=30.0, latency=2.0)
    f = to_fault(spec, 0.02)
    assert (f.start, f.end) == (0.2, 0.2 + 4.8)
    # The automation waits out a held call on its own clock, against its own timeout.
    assert (f.params["hold"], f.params["latency"], f.params["retry_after"]) == (30.0, 2.0, 1.0)
