"""Every check an order must pass before an invoice is issued.

`validate_order_item` never stops at the first problem: it returns every issue it finds, each with
a stable machine-readable code, the field it concerns and a sentence a person can act on.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, TypeAdapter, ValidationError, ValidationInfo, field_validator

from invoicing.domain.delivery import choose_channel
from invoicing.domain.money import fits_minor_units, format_money, is_known_currency
from invoicing.domain.order import (
    MAX_LINES,
    MAX_ORDER_DISCOUNTS,
    AwareDatetime,
    Customer,
    LineItem,
    Order,
    OrderDiscount,
    OrderStatus,
    Payment,
    PaymentStatus,
    Shipping,
    StorefrontTotals,
)
from invoicing.domain.payment_terms import CAPTURE_ONLY, PaymentPolicy
from invoicing.domain.pricing import PricedOrder, price_order


class IssueCode(StrEnum):
    FIELD_MISSING = "FIELD_MISSING"
    FIELD_INVALID = "FIELD_INVALID"
    FIELD_TOO_LONG = "FIELD_TOO_LONG"
    TOO_MANY_ENTRIES = "TOO_MANY_ENTRIES"
    ORDER_TOO_LARGE = "ORDER_TOO_LARGE"
    MORE_ISSUES = "MORE_ISSUES"
    """Stands for the problems beyond the first MAX_REPORTED_ISSUES, counted by code."""
    CURRENCY_UNKNOWN = "CURRENCY_UNKNOWN"
    ORDER_NOT_COMPLETED = "ORDER_NOT_COMPLETED"
    COMPLETED_AT_MISSING = "COMPLETED_AT_MISSING"
    PAYMENT_NOT_CAPTURED = "PAYMENT_NOT_CAPTURED"
    NO_REACHABLE_CHANNEL = "NO_REACHABLE_CHANNEL"
    ITEMS_EMPTY = "ITEMS_EMPTY"
    QUANTITY_NOT_POSITIVE = "QUANTITY_NOT_POSITIVE"
    QUANTITY_OUT_OF_RANGE = "QUANTITY_OUT_OF_RANGE"
    REFUND_EXCEEDS_QUANTITY = "REFUND_EXCEEDS_QUANTITY"
    AMOUNT_NEGATIVE = "AMOUNT_NEGATIVE"
    AMOUNT_OUT_OF_RANGE = "AMOUNT_OUT_OF_RANGE"
    AMOUNT_PRECISION = "AMOUNT_PRECISION"
    TAX_RATE_OUT_OF_RANGE = "TAX_RATE_OUT_OF_RANGE"
    LINE_DISCOUNT_EXCEEDS_LINE = "LINE_DISCOUNT_EXCEEDS_LINE"
    ORDER_DISCOUNT_EXCEEDS_ITEMS = "ORDER_DISCOUNT_EXCEEDS_ITEMS"
    TOTAL_MISMATCH = "TOTAL_MISMATCH"
    PAYMENT_AMOUNT_MISMATCH = "PAYMENT_AMOUNT_MISMATCH"


_FIELD_LENGTH = 200
_MESSAGE_LENGTH = 500


class ValidationIssue(BaseModel):
    model_config = ConfigDict(frozen=True)

    code: IssueCode
    field: str
    message: str

    @field_validator("field", "message", mode="before")
    @classmethod
    def _bounded(cls, value: object, info: ValidationInfo) -> object:
        """Bounded whatever the order held: a record and its event always fit their stores."""
        limit = _FIELD_LENGTH if info.field_name == "field" else _MESSAGE_LENGTH
        if isinstance(value, str) and len(value) > limit:
            return value[: limit - 1] + "…"
        return value


class ValidationResult(BaseModel):
    """Either an order with its re-derived figures, or every reason it cannot be invoiced."""

    model_config = ConfigDict(frozen=True)

    order: Order | None
    priced: PricedOrder | None
    issues: list[ValidationIssue]
    """At most MAX_REPORTED_ISSUES, the last a MORE_ISSUES summary when there were more."""
    issue_count: int = 0
    """Every problem found, including those only counted in the summary."""

    @property
    def is_valid(self) -> bool:
        return not self.issues and self.order is not None and self.priced is not None


MAX_AMOUNT = Decimal(10) ** 12
"""Every amount stays below a trillion in its currency: exact Decimal arithmetic (28 digits) then
holds with room to spare, and nothing an order could carry raises inside pricing."""
MAX_QUANTITY = 1_000_000
MAX_RATE_DECIMALS = 6
MAX_REPORTED_ISSUES = 50
"""A 5,000-line order with every quantity 0 has 5,000 problems: the first ones say what to fix,
the rest are counted by code, so the failure record and its event stay a few kilobytes."""
_UNPRICEABLE = frozenset({"AMOUNT_OUT_OF_RANGE", "QUANTITY_OUT_OF_RANGE"})


def validate_order_item(
    item: Mapping[str, Any], key: str | None = None, policy: PaymentPolicy = CAPTURE_ONLY
) -> ValidationResult:
    """Parse a raw order item (as read from DynamoDB) and run every business rule on it.

    Every problem comes out in one pass: when the item is not a well-formed order, the parts that
    are (each line, the customer, the payment, the totals ...) are still checked against the rules,
    so whoever fixes the order sees the whole list at once, not two problems and then four more.
    `key` is the order id the item is stored under: the invoice is kept under it, so the item's
    own `order_id` must be the same. `policy` says which payment methods are invoiced on completion,
    unpaid (`domain/payment_terms.py`); any other needs a captured payment.
    """
    key_issues = _key_issues(item, key)
    try:
        order = Order.model_validate(item)
    except ValidationError as error:
        return _result(
            None, None, [*key_issues, *_shape_issues(error), *_rule_issues(_parts_of(item), policy)]
        )
    issues = [*key_issues, *_rule_issues(_Parts.of(order), policy)]
    priced = None
    # Figures out of range are reported as such; pricing them would only add noise (or overflow).
    if is_known_currency(order.currency) and not any(i.code.value in _UNPRICEABLE for i in issues):
        try:
            priced = price_order(order)
        except ArithmeticError:  # decimal.InvalidOperation and friends: a safety net, never a crash
            issues.append(
                ValidationIssue(
                    code=IssueCode.AMOUNT_OUT_OF_RANGE,
                    field="items",
                    message="the order's amounts cannot be computed exactly: check prices, quantities, rates",
                )
            )
        else:
            issues.extend(_totals_issues(order, priced, policy))
    return _result(order, priced if not issues else None, issues)


def _result(
    order: Order | None, priced: PricedOrder | None, issues: list[ValidationIssue]
) -> ValidationResult:
    return ValidationResult(
        order=order, priced=priced, issues=bounded_issues(issues), issue_count=len(issues)
    )


def bounded_issues(issues: list[ValidationIssue]) -> list[ValidationIssue]:
    """The first MAX_REPORTED_ISSUES - 1 problems, and one that counts the rest by code."""
    if len(issues) <= MAX_REPORTED_ISSUES:
        return issues
    shown, rest = issues[: MAX_REPORTED_ISSUES - 1], issues[MAX_REPORTED_ISSUES - 1 :]
    counts = Counter(issue.code.value for issue in rest)
    kinds = ", ".join(f"{code} × {count:,}" for code, count in counts.most_common())
    summary = ValidationIssue(
        code=IssueCode.MORE_ISSUES,
        field="order",
        message=f"and {len(rest):,} more problems not listed one by one: {kinds}",
    )
    return [*shown, summary]


def _key_issues(item: Mapping[str, Any], key: str | None) -> list[ValidationIssue]:
    stated = item.get("order_id") if isinstance(item, Mapping) else None
    if key is None or not isinstance(stated, str) or stated.strip() == key:
        return []
    return [
        ValidationIssue(
            code=IssueCode.FIELD_INVALID,
            field="order_id",
            message=f"order_id {stated.strip()!r} is not the id the order is stored under ({key!r})",
        )
    ]


# --- the shape of the item, in words --------------------------------------------------------------

_TIMESTAMP = "{field} must be a date and time with its offset, e.g. 2026-11-21T14:02:11Z"
_MESSAGES = {
    "string_type": "{field} must be text",
    "string_too_short": "{field} must not be empty",
    "string_too_long": "{field} is longer than the {max_length:,} characters an invoice takes",
    "too_long": "{field} has more than the {max_length:,} entries an invoice takes",
    "string_pattern_mismatch": "{field} is not in the expected form{example}",
    "int_type": "{field} must be a whole number",
    "int_parsing": "{field} must be a whole number",
    "int_from_float": "{field} must be a whole number, not a fraction",
    "decimal_type": "{field} must be a number",
    "decimal_parsing": "{field} must be a number",
    "bool_type": "{field} must be true or false",
    "bool_parsing": "{field} must be true or false",
    "list_type": "{field} must be a list",
    "model_type": "{field} must be an object with its own fields",
    "dict_type": "{field} must be an object with its own fields",
    "datetime_type": _TIMESTAMP,
    "datetime_parsing": _TIMESTAMP,
    "datetime_from_date_parsing": _TIMESTAMP,
    "enum": "{field} must be one of {expected}",
}
_SHAPE_CODES = {"string_too_long": IssueCode.FIELD_TOO_LONG, "too_long": IssueCode.TOO_MANY_ENTRIES}
_EXAMPLES = {"currency": ": a three-letter ISO 4217 code such as EUR"}


def _shape_issues(error: ValidationError) -> Iterator[ValidationIssue]:
    for detail in error.errors(include_url=False, include_input=False):
        field = _field_path(detail["loc"])
        kind = detail["type"]
        if kind == "missing":
            yield ValidationIssue(code=IssueCode.FIELD_MISSING, field=field, message=f"{field} is required")
            continue
        if kind == "value_error":  # our own validators say it in words already
            message = f"{field}: {str(detail['msg']).removeprefix('Value error, ')}"
        else:
            template = _MESSAGES.get(kind, "{field}: {msg}")
            context = detail.get("ctx") or {}
            message = template.format(
                field=field,
                msg=detail["msg"],
                expected=str(context.get("expected", "")),
                max_length=int(context.get("max_length", 0)),
                example=_EXAMPLES.get(field, ""),
            )
        code = _SHAPE_CODES.get(kind, IssueCode.FIELD_INVALID)
        yield ValidationIssue(code=code, field=field, message=message[:300])


def _field_path(loc: tuple[int | str, ...]) -> str:
    path = ""
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path or "order"


# --- the parts that parsed, and the rules on them -------------------------------------------------


@dataclass
class _Parts:
    """What of an item could be read, each part on its own; None where a part could not."""

    currency: str | None = None
    status: OrderStatus | None = None
    completed_at_known: bool = False
    completed_at: datetime | None = None
    customer: Customer | None = None
    items: list[tuple[int, LineItem]] = field(default_factory=list)
    items_readable: bool = False
    """The items are a list and every line in it could be read (order-level rules need them all)."""
    items_empty: bool = False
    order_discounts: list[tuple[int, OrderDiscount]] = field(default_factory=list)
    order_discounts_readable: bool = True
    shipping: Shipping | None = None
    payment: Payment | None = None
    totals: StorefrontTotals | None = None

    @classmethod
    def of(cls, order: Order) -> _Parts:
        return cls(
            currency=order.currency,
            status=order.status,
            completed_at_known=True,
            completed_at=order.completed_at,
            customer=order.customer,
            items=list(enumerate(order.items)),
            items_readable=True,
            items_empty=not order.items,
            order_discounts=list(enumerate(order.order_discounts)),
            shipping=order.shipping,
            payment=order.payment,
            totals=order.totals,
        )


_T = TypeVar("_T")


def _part(adapter: TypeAdapter[_T], value: Any) -> _T | None:
    try:
        return adapter.validate_python(value)
    except ValidationError:
        return None


_CURRENCY = re.compile(r"[A-Z]{3}")
_STATUS: TypeAdapter[OrderStatus] = TypeAdapter(OrderStatus)
_COMPLETED_AT: TypeAdapter[datetime | None] = TypeAdapter(AwareDatetime | None)
_CUSTOMER: TypeAdapter[Customer] = TypeAdapter(Customer)
_LINE: TypeAdapter[LineItem] = TypeAdapter(LineItem)
_DISCOUNT: TypeAdapter[OrderDiscount] = TypeAdapter(OrderDiscount)
_SHIPPING: TypeAdapter[Shipping] = TypeAdapter(Shipping)
_PAYMENT: TypeAdapter[Payment] = TypeAdapter(Payment)
_TOTALS: TypeAdapter[StorefrontTotals] = TypeAdapter(StorefrontTotals)


def _parts_of(item: Mapping[str, Any]) -> _Parts:
    if not isinstance(item, Mapping):
        return _Parts()
    currency = item.get("currency")
    parts = _Parts(
        currency=currency if isinstance(currency, str) and _CURRENCY.fullmatch(currency) else None,
        status=_part(_STATUS, item.get("status")),
        customer=_part(_CUSTOMER, item.get("customer")),
        shipping=_part(_SHIPPING, item["shipping"]) if item.get("shipping") is not None else None,
        payment=_part(_PAYMENT, item.get("payment")),
        totals=_part(_TOTALS, item.get("totals")),
    )
    if "completed_at" not in item or item.get("completed_at") is None:
        parts.completed_at_known = True
    elif (moment := _part(_COMPLETED_AT, item["completed_at"])) is not None:
        parts.completed_at_known, parts.completed_at = True, moment
    lines = item.get("items")
    if isinstance(lines, list):
        # Only as many lines as an invoice takes are read: the rest is one TOO_MANY_ENTRIES.
        parsed = [(index, _part(_LINE, line)) for index, line in enumerate(lines[:MAX_LINES])]
        parts.items = [(index, line) for index, line in parsed if line is not None]
        parts.items_readable = len(parts.items) == len(lines)
        parts.items_empty = not lines
    discounts = item.get("order_discounts", [])
    if isinstance(discounts, list):
        parsed_discounts = [(i, _part(_DISCOUNT, d)) for i, d in enumerate(discounts[:MAX_ORDER_DISCOUNTS])]
        parts.order_discounts = [(i, d) for i, d in parsed_discounts if d is not None]
        parts.order_discounts_readable = len(parts.order_discounts) == len(discounts)
    else:
        parts.order_discounts_readable = False
    return parts


def _rule_issues(parts: _Parts, policy: PaymentPolicy) -> Iterator[ValidationIssue]:
    yield from _state_issues(parts, policy)
    if parts.customer is not None:
        yield from _customer_issues(parts.customer)
    currency = parts.currency or ""
    currency_known = is_known_currency(currency)
    if parts.currency is not None and not currency_known:
        yield ValidationIssue(
            code=IssueCode.CURRENCY_UNKNOWN,
            field="currency",
            message=f"{parts.currency} is not an ISO 4217 currency we invoice in",
        )
    if parts.items_empty:
        yield ValidationIssue(code=IssueCode.ITEMS_EMPTY, field="items", message="the order has no items")
    for index, item in parts.items:
        yield from _line_issues(index, item, currency, currency_known)
    for index, discount in parts.order_discounts:
        yield from _amount_issues(
            discount.amount, f"order_discounts[{index}].amount", currency, currency_known
        )
    if parts.items_readable and parts.order_discounts_readable:
        yield from _order_discount_issues(parts)
    if parts.shipping is not None:
        yield from _amount_issues(parts.shipping.cost, "shipping.cost", currency, currency_known)
        yield from _rate_issues(parts.shipping.tax_rate, "shipping.tax_rate")
    if parts.payment is not None:
        yield from _amount_issues(
            parts.payment.amount_captured, "payment.amount_captured", currency, currency_known
        )
    if parts.totals is not None:
        for name, value in parts.totals.model_dump().items():
            yield from _amount_issues(value, f"totals.{name}", currency, currency_known)


def _line_issues(
    index: int, item: LineItem, currency: str, currency_known: bool
) -> Iterator[ValidationIssue]:
    where = f"items[{index}]"
    if item.quantity <= 0:
        yield ValidationIssue(
            code=IssueCode.QUANTITY_NOT_POSITIVE,
            field=f"{where}.quantity",
            message=f"{item.sku}: quantity must be at least 1, got {item.quantity}",
        )
    elif item.quantity > MAX_QUANTITY:
        yield ValidationIssue(
            code=IssueCode.QUANTITY_OUT_OF_RANGE,
            field=f"{where}.quantity",
            message=f"{item.sku}: quantity must be at most {MAX_QUANTITY:,}, got {item.quantity}",
        )
    # Compared with the quantity only when that is valid itself (it is reported above otherwise).
    quantity_valid = 0 < item.quantity <= MAX_QUANTITY
    if item.refunded_quantity < 0 or (quantity_valid and item.refunded_quantity > item.quantity):
        yield ValidationIssue(
            code=IssueCode.REFUND_EXCEEDS_QUANTITY,
            field=f"{where}.refunded_quantity",
            message=f"{item.sku}: the refunded quantity must be between 0 and the {item.quantity} "
            f"ordered, got {item.refunded_quantity}",
        )
    yield from _amount_issues(item.unit_price, f"{where}.unit_price", currency, currency_known)
    yield from _amount_issues(item.discount, f"{where}.discount", currency, currency_known)
    yield from _rate_issues(item.tax_rate, f"{where}.tax_rate")
    if not _in_range(item.unit_price, item.discount) or not 0 < item.quantity <= MAX_QUANTITY:
        return  # the line's own figures are reported above; comparing them says nothing more
    line_amount = item.quantity * item.unit_price
    if item.discount > line_amount >= 0:
        yield ValidationIssue(
            code=IssueCode.LINE_DISCOUNT_EXCEEDS_LINE,
            field=f"{where}.discount",
            message=f"{item.sku}: discount {item.discount} is larger than the line amount {line_amount}",
        )


def _order_discount_issues(parts: _Parts) -> Iterator[ValidationIssue]:
    items = [item for _, item in parts.items]
    discounts = [discount for _, discount in parts.order_discounts]
    figures = [a for i in items for a in (i.unit_price, i.discount)] + [d.amount for d in discounts]
    if not _in_range(*figures) or not all(0 < i.quantity <= MAX_QUANTITY for i in items):
        return
    items_after_line_discounts = sum((i.quantity * i.unit_price - i.discount for i in items), Decimal(0))
    order_discount = sum((d.amount for d in discounts), Decimal(0))
    if order_discount > 0 and order_discount > items_after_line_discounts:
        yield ValidationIssue(
            code=IssueCode.ORDER_DISCOUNT_EXCEEDS_ITEMS,
            field="order_discounts",
            message=(
                f"order discounts {order_discount} are larger than the items they discount "
                f"({items_after_line_discounts})"
            ),
        )


def _state_issues(parts: _Parts, policy: PaymentPolicy) -> Iterator[ValidationIssue]:
    if parts.status is not None and parts.status is not OrderStatus.COMPLETED:
        yield ValidationIssue(
            code=IssueCode.ORDER_NOT_COMPLETED,
            field="status",
            message=f"the order is {parts.status}, an invoice is issued only for COMPLETED orders",
        )
    elif parts.status is OrderStatus.COMPLETED and parts.completed_at_known and parts.completed_at is None:
        yield ValidationIssue(
            code=IssueCode.COMPLETED_AT_MISSING,
            field="completed_at",
            message="a completed order must say when it was completed",
        )
    payment = parts.payment
    awaited = payment is not None and policy.awaits_payment(
        {"method": payment.method, "status": payment.status.value}
    )
    if payment is not None and payment.status is not PaymentStatus.CAPTURED and not awaited:
        later = policy.terms_for(payment.method) is not None
        yield ValidationIssue(
            code=IssueCode.PAYMENT_NOT_CAPTURED,
            field="payment.status",
            message=f"payment is {payment.status}, an invoice needs a CAPTURED payment"
            + (" (or, paid later by " + payment.method + ", a PENDING or AUTHORIZED one)" if later else ""),
        )


def _customer_issues(customer: Customer) -> Iterator[ValidationIssue]:
    choice = choose_channel(customer)
    if choice.undeliverable:
        reasons = "; ".join(f"{p.channel.value}: {p.reason}" for p in choice.passed_over)
        yield ValidationIssue(
            code=IssueCode.NO_REACHABLE_CHANNEL,
            field="customer",
            message=f"the invoice could not reach the customer ({reasons})",
        )


def _amount_issues(
    amount: Decimal, field: str, currency: str, currency_known: bool, *, negative_ok: bool = False
) -> Iterator[ValidationIssue]:
    if not amount.is_finite():
        yield ValidationIssue(code=IssueCode.FIELD_INVALID, field=field, message=f"{field} is not a number")
        return
    if abs(amount) >= MAX_AMOUNT:
        yield ValidationIssue(
            code=IssueCode.AMOUNT_OUT_OF_RANGE,
            field=field,
            message=f"{field} must be below {MAX_AMOUNT:,.0f}, got {amount:E}",
        )
        return
    if amount < 0 and not negative_ok:
        yield ValidationIssue(
            code=IssueCode.AMOUNT_NEGATIVE, field=field, message=f"{field} must not be negative, got {amount}"
        )
    if currency_known and not fits_minor_units(amount, currency):
        yield ValidationIssue(
            code=IssueCode.AMOUNT_PRECISION,
            field=field,
            message=f"{field} = {amount} has more decimals than {currency} allows",
        )


def _in_range(*amounts: Decimal) -> bool:
    return all(a.is_finite() and abs(a) < MAX_AMOUNT for a in amounts)


def _rate_issues(rate: Decimal, field: str) -> Iterator[ValidationIssue]:
    if not rate.is_finite() or not Decimal(0) <= rate < Decimal(1):
        yield ValidationIssue(
            code=IssueCode.TAX_RATE_OUT_OF_RANGE,
            field=field,
            message=f"{field} must be a fraction in [0, 1) (0.20 for 20 %), got {rate}",
        )
    elif -int(rate.normalize().as_tuple().exponent) > MAX_RATE_DECIMALS:
        yield ValidationIssue(
            code=IssueCode.TAX_RATE_OUT_OF_RANGE,
            field=field,
            message=f"{field} may have at most {MAX_RATE_DECIMALS} decimals (0.0725 for 7.25 %), got {rate}",
        )


def _totals_issues(order: Order, priced: PricedOrder, policy: PaymentPolicy) -> Iterator[ValidationIssue]:
    ours = priced.totals
    theirs = order.totals
    pairs = {
        "subtotal": (theirs.subtotal, ours.subtotal),
        "discount_total": (theirs.discount_total, ours.discount_total),
        "shipping_total": (theirs.shipping_total, ours.shipping_total),
        "tax_total": (theirs.tax_total, ours.tax_total),
        "grand_total": (theirs.grand_total, ours.grand_total),
    }
    for name, (stated, derived) in pairs.items():
        if stated != derived:
            yield ValidationIssue(
                code=IssueCode.TOTAL_MISMATCH,
                field=f"totals.{name}",
                message=(
                    f"the storefront says {name} is {format_money(stated, order.currency)}, the order's "
                    f"lines give {format_money(derived, order.currency)}"
                ),
            )
    awaited = policy.awaits_payment({"method": order.payment.method, "status": order.payment.status.value})
    if awaited and 0 <= order.payment.amount_captured <= ours.grand_total:
        return  # paid later: what came in so far (nothing, or a deposit) is what the invoice says is paid
    if order.payment.amount_captured != ours.grand_total:
        yield ValidationIssue(
            code=IssueCode.PAYMENT_AMOUNT_MISMATCH,
            field="payment.amount_captured",
            message=(
                f"captured {format_money(order.payment.amount_captured, order.currency)} but the invoice "
                f"total is {format_money(ours.grand_total, order.currency)}"
            ),
        )
