"""Form-encoded request bodies (core._form): Stripe's bracket notation read as the object a JSON
body gives, by the stateful double, its Idempotency-Key replay, correlation rules, the checks
reading effect bodies, and the redaction of what a report shows.

stripe-python sends ``POST /v1/transfers`` as ``amount=2000&metadata[order_id]=ord_1``: the
stateful double refused it ("needs a JSON object body"), so an automation written against
Stripe's real API could not be tested with one.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness.core._form import FormError, is_form, parse_form
from harness.core._scenario import ContractSpec, DownstreamSpec
from harness.double._contract import Contract
from harness.invariants import amounts_intact
from harness.invariants._carried import Bodies
from harness.report._redact import Redactor

from .conftest import harness
from .doubles import started
from .test_correlate import EVENTS, attribute_with, rule
from .test_export import _write
from .test_invariants import effect
from .test_report import CARD, EMAILS, SIGNING_SECRET, fixture_history
from .test_resources import call

FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def stripe_encode(params: dict[str, Any]) -> str:
    """A form body as stripe-python's ``_api_encode`` writes one (written from its rules): None
    left out, an object's members as ``name[member]``, a list's items as ``name[i]``, booleans
    as ``true``/``false``, anything else as its text; then ``urlencode``."""

    def pairs(name: str, value: Any) -> list[tuple[str, str]]:
        if value is None:
            return []
        if isinstance(value, dict):
            return [p for k, v in value.items() for p in pairs(f"{name}[{k}]", v)]
        if isinstance(value, list):
            return [p for i, v in enumerate(value) for p in pairs(f"{name}[{i}]", v)]
        if isinstance(value, bool):
            return [(name, str(value).lower())]
        return [(name, str(value))]

    return urlencode([p for k, v in params.items() for p in pairs(k, v)])


def as_read(value: Any) -> Any:
    """What a form body gives back of ``value``: text for every value, None and empty
    containers gone (they encode nothing), a list's items closed up."""
    if isinstance(value, dict):
        kept = {k: as_read(v) for k, v in value.items()}
        return {k: v for k, v in kept.items() if v not in (None, {}, [])}
    if isinstance(value, list):
        return [v for v in map(as_read, value) if v not in (None, {}, [])]
    if value is None:
        return None
    return str(value).lower() if isinstance(value, bool) else str(value)


# Names without brackets (the notation's own); a member named by digits only would read as a
# list index, in Stripe's notation as in ours, so members are never all digits.
_TEXT = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="[]"))
_MEMBER = _TEXT.filter(lambda s: s != "" and not s.isdigit())
_SCALAR = st.one_of(st.none(), st.booleans(), st.integers(), _TEXT)
_VALUE = st.recursive(
    _SCALAR,
    lambda inner: st.one_of(
        st.dictionaries(_MEMBER, inner, max_size=4),
        # stripe-python writes a list's items as scalars or objects, never lists.
        st.lists(st.one_of(_SCALAR, st.dictionaries(_MEMBER, inner, max_size=3)), max_size=4),
    ),
    max_leaves=12,
)


@given(st.dictionaries(_TEXT.filter(bool), _VALUE, max_size=5))
def test_a_body_stripe_python_encodes_reads_as_its_parameters_in_text(
    params: dict[str, Any],
) -> None:
    assert parse_form(stripe_encode(params)) == as_read(params)


def test_bracket_notation_nests_objects_and_lists_as_stripe_writes_them() -> None:
    body = (
        "amount=2000&currency=usd&metadata%5Border_id%5D=ord_1&transfer_group=grp_1"
        "&expand[]=balance_transaction&expand[]=destination"
        "&items[1][price]=p2&items[0][price]=p1&items[0][quantity]=2&description=Ada+L."
    )
    assert parse_form(body) == {
        "amount": "2000",
        "currency": "usd",
        "metadata": {"order_id": "ord_1"},
        "transfer_group": "grp_1",
        "expand": ["balance_transaction", "destination"],
        "items": [{"price": "p1", "quantity": "2"}, {"price": "p2"}],
        "description": "Ada L.",
    }
    assert parse_form("") == {}
    assert parse_form("a=1&a=2&b=") == {"a": "2", "b": ""}  # the last of a repeated name


@pytest.mark.parametrize(
    ("body", "named"),
    [
        ("a=1&a[b]=2", "'a[b]'"),
        ("a[b]=2&a=1", "'a'"),
        ("a[b=1", "'a[b'"),
        ("a[x]=1&a[]=2", "'a[]'"),
    ],
)
def test_names_that_do_not_make_one_object_are_refused_naming_the_field(
    body: str, named: str
) -> None:
    with pytest.raises(FormError, match=named.replace("[", r"\[")):
        parse_form(body)


def test_the_content_type_names_a_form_whatever_its_case_and_charset() -> None:
    assert is_form("application/x-www-form-urlencoded")
    assert is_form("Application/X-WWW-Form-Urlencoded; charset=utf-8")
    assert not is_form("application/json") and not is_form(None) and not is_form("")


# --- the stateful double ----------------------------------------------------------------------

STRIPE = DownstreamSpec("stripe", stateful=True)


async def test_the_stateful_double_stores_a_stripe_form_body_as_its_object() -> None:
    """Refused before: 400 "POST /v1/transfers needs a JSON object body"."""
    async with started(STRIPE) as (_, effects, session):
        sent = "amount=2000&currency=usd&destination=acct_1&metadata[order_id]=ord_1"
        status, made, _ = await call(session, "POST", "/v1/transfers", data=sent, headers=FORM)
        assert status == 201, made
        assert made == {
            "amount": "2000",
            "currency": "usd",
            "destination": "acct_1",
            "metadata": {"order_id": "ord_1"},
            "id": "ds_1",
        }
        assert (await call(session, "GET", "/v1/transfers/ds_1"))[:2] == (200, made)
        # Found by a field, as a JSON body's would be.
        listed = await call(session, "GET", "/v1/transfers?metadata.order_id=ord_1")
        assert listed[:2] == (200, [made])
        # The effect keeps the body as sent.
        assert effects[0].body == sent and effects[0].committed
        # A form whose names clash is refused, saying why.
        status, refused, _ = await call(
            session, "POST", "/v1/transfers", data="a=1&a[b]=2", headers=FORM
        )
        assert status == 400 and "form body whose field names" in refused["error"]
        # A body that is neither says both are taken.
        status, refused, _ = await call(session, "POST", "/v1/transfers", data="amount: 5")
        assert status == 400 and "or a form body" in refused["error"]


async def test_an_idempotency_key_replays_the_same_form_fields_and_refuses_others() -> None:
    """Stripe's rule, one for JSON and forms: the same parameters (in any order) under a used
    key get its first answer again; other parameters, or the same ones as JSON, a 400."""
    async with started(STRIPE) as (double, effects, session):
        key = {**FORM, "Idempotency-Key": "evt_1"}
        first = await call(
            session, "POST", "/v1/transfers", data="amount=5&currency=usd", headers=key
        )
        again = await call(
            session, "POST", "/v1/transfers", data="currency=usd&amount=5", headers=key
        )
        assert first[:2] == again[:2] == (201, {"amount": "5", "currency": "usd", "id": "ds_1"})
        assert again[2].get("Idempotent-Replayed") == "true"
        assert [e.committed for e in effects] == [True, False]
        other = await call(
            session, "POST", "/v1/transfers", data="amount=6&currency=usd", headers=key
        )
        assert other[0] == 400 and "Idempotency-Key 'evt_1' was first used" in other[1]["error"]
        as_json = await call(
            session,
            "POST",
            "/v1/transfers",
            json={"amount": "5", "currency": "usd"},
            headers={"Idempotency-Key": "evt_1"},
        )
        # JSON parameters equal to the form's as text are the same request: replayed.
        assert as_json[:2] == (201, first[1])
        assert len(double.resources() or []) == 1


async def test_a_stub_double_echoes_a_form_body_as_its_object() -> None:
    async with started(DownstreamSpec("api")) as (_, _effects, session):
        status, made, _ = await call(
            session, "POST", "/v1/customers", data="email=a%40b.c", headers=FORM
        )
        assert (status, made["email"]) == (201, "a@b.c")


# --- what reads effect bodies -----------------------------------------------------------------


def test_a_body_rule_reads_a_form_field_as_it_reads_json() -> None:
    f = attribute_with(rule("body", "$.metadata.session")).for_downstream("crm")
    assert f("POST", "/v1/transfers", FORM, "metadata%5Bsession%5D=cs_1") == (
        (EVENTS[1].id,),
        "cus_a",
    )
    # Numbers compare by their text: the form's "101" is the event's 101.
    g = attribute_with(rule("body", "$.n", "$.data.object.n")).for_downstream("crm")
    assert g("POST", "/x", FORM, "n=101")[0] == (EVENTS[1].id,)
    # The same text sent as JSON is no form.
    assert f("POST", "/v1/transfers", {}, "metadata%5Bsession%5D=cs_1") == ((), None)


def test_amounts_in_a_form_body_are_read_as_numbers() -> None:
    """A form's "6432" holds 64.32 in cents, and "6431" is the double-rounded one: before,
    a form body had no leaves, so amounts_intact saw nothing carried."""
    sent = effect("eff_1", ["evt_1"], 0.1, "POST", "/v1/transfers", "amount=6432", FORM)
    leaves = Bodies("").leaves(sent) or {}
    assert [v for k, v in leaves.items() if k == ("amount",)] == ["6432"]
    assert amounts_intact.kept("6432", "64.32") and not amounts_intact.kept("6431", "64.32")


def test_a_form_body_shown_is_redacted_field_by_field() -> None:
    """Shown as text, a form hid nothing its JSON twin hides: the password under a secret
    key, an email and a name (known values of the run) percent-encoded past the text scrub."""
    redactor = Redactor(values=["ada@example.com", "Ada Lovelace"])
    body = (
        "amount=2000&metadata%5Bemail%5D=ada%40example.com&description=Ada+Lovelace"
        "&metadata%5Bpassword%5D=hunter22"
    )
    shown = redactor.body(body, form=True)
    for leaked in ("ada@", "ada%40", "Lovelace", "hunter22"):
        assert leaked not in shown, shown
    assert parse_form(shown)["amount"] == "2000"
    assert parse_form(shown)["metadata"]["password"].startswith("[redacted")


def stripe_document(*kinds: str) -> dict[str, Any]:
    """``POST /v1/transfers`` taking ``kinds`` of body, its schema an integer amount."""
    schema = {
        "type": "object",
        "required": ["amount"],
        "properties": {"amount": {"type": "integer"}},
    }
    document = {
        "openapi": "3.1.0",
        "info": {"title": "stripe", "version": "1"},
        "paths": {
            "/v1/transfers": {
                "post": {
                    "requestBody": {
                        "required": True,
                        "content": {kind: {"schema": schema} for kind in kinds},
                    },
                    "responses": {"200": {"description": "made"}},
                }
            }
        },
    }
    return document


def stripe_contract(*kinds: str) -> Contract:
    return Contract(ContractSpec(stripe_document(*kinds), "stripe.openapi.yaml"))


def test_a_contract_takes_a_form_where_the_operation_lists_one_and_refuses_it_elsewhere() -> None:
    """Before: "the request body is not JSON" for an operation taking forms, as Stripe's
    does (its amount is text in a form: the schema's integer type is not applied to it)."""
    both = stripe_contract("application/json", "application/x-www-form-urlencoded")
    assert both.check("POST", "/v1/transfers", "amount=2000", form=True).problems == ()
    assert both.check("POST", "/v1/transfers", '{"amount": "x"}').problems != ()
    only_json = stripe_contract("application/json")
    refused = only_json.check("POST", "/v1/transfers", "amount=2000", form=True)
    assert refused.problems == ("the request body is a form; the operation takes a JSON body",)


async def test_a_double_with_a_contract_answers_a_stripe_form_call() -> None:
    contract = stripe_document("application/json", "application/x-www-form-urlencoded")
    spec = DownstreamSpec("stripe", contract=ContractSpec(contract, "stripe.openapi.yaml"))
    async with started(spec) as (_, effects, session):
        made = await call(session, "POST", "/v1/transfers", data="amount=2000", headers=FORM)
        status = made[0]
        assert status == 201 and effects[0].committed  # the route's answer: no schema to draw from
        refused = await call(session, "POST", "/v1/transfers", data="", headers=FORM)
        assert refused[0] == 422


def test_a_redacted_export_holds_no_personal_value_of_a_form_body(tmp_path: Path) -> None:
    """``harness export --redacted``: a form body's email (``%40``, ``+`` as ``%2B``) and its
    secret-named field were copied as sent; now each field is redacted as JSON's would be."""
    h = fixture_history()
    sent = urlencode({"email": EMAILS[0], "card[number]": CARD, "metadata[password]": "pw-77x"})
    form = dataclasses.replace(h.effects[0], id="eff_form", headers=FORM, body=sent)
    journal = tmp_path / "run.db"
    _write(dataclasses.replace(h, effects=[*h.effects, form]), journal)
    assert urlencode({"e": EMAILS[0]})[2:].encode() in journal.read_bytes()
    env = {"HARNESS_SECRET": SIGNING_SECRET}
    done = harness("export", str(journal), "-o", "shared.db", "--redacted", cwd=tmp_path, env=env)
    assert done.code == 0, done.err
    shared = (tmp_path / "shared.db").read_bytes()
    for value in (EMAILS[0], urlencode({"e": EMAILS[0]})[2:], CARD, "pw-77x"):
        assert value.encode() not in shared, value
