import subprocess
import sys

import harness


def test_all_matches_the_lazy_table_and_every_name_resolves() -> None:
    assert set(harness.__all__) == set(harness._WHERE)
    for name in harness.__all__:
        assert getattr(harness, name) is not None, name


def test_unknown_attribute() -> None:
    try:
        harness.nope  # type: ignore[attr-defined]  # noqa: B018
    except AttributeError as exc:
        assert "no attribute 'nope'" in str(exc)
    else:
        raise AssertionError("expected AttributeError")


def test_import_is_cheap() -> None:
    heavy = "('aiohttp', 'httpx', 'faker', 'pydantic', 'rich')"
    code = f"import sys, harness; print(sorted(m for m in {heavy} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
