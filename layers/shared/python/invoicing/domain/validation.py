"""Every check an order must pass before an invoice is issued.

`validate_order_item` never stops at the first problem: it returns every issue it finds, each with
a stable machine-readable code, the field it concerns and a sentence a person can act on.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from decimal import Decimal
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from invoicing.domain.delivery import choose_channel
from invoicing.domain.money import fits_minor_units, format_money, is_known_currency
from invoicing.domain.order import Order, OrderStatus, PaymentStatus
from invoicing.domain.pricing import PricedOrder, price_order


class IssueCode(StrEnum):
    FIELD_MISSING = "FIELD_MISSING"
    FIELD_INVALID = "FIELD_INVALID"
    CURRENCY_UNKNOWN = "CURRENCY_UNKNOWN"
    ORDER_NOT_COMPLETED = "ORDER_NOT_COMPLETED"
    COMPLETED_AT_MISSING = "COMPLETED_AT_MISSING"
    PAYMENT_NOT_CAPTURED = "PAYMENT_NOT_CAPTURED"
    NO_REACHABLE_CHANNEL = "NO_REACHABLE_CHANNEL"
    ITEMS_EMPTY = "ITEMS_EMPTY"
    QUANTITY_NOT_POSITIVE = "QUANTITY_NOT_POSITIVE"
    QUANTITY_OUT_OF_RANGE = "QUANTITY_OUT_OF_RANGE"
    AMOUNT_NEGATIVE = "AMOUNT_NEGATIVE"
    AMOUNT_OUT_OF_RANGE = "AMOUNT_OUT_OF_RANGE"
    AMOUNT_PRECISION = "AMOUNT_PRECISION"
    TAX_RATE_OUT_OF_RANGE = "TAX_RATE_OUT_OF_RANGE"
    LINE_DISCOUNT_EXCEEDS_LINE = "LINE_DISCOUNT_EXCEEDS_LINE"
    ORDER_DISCOUNT_EXCEEDS_ITEMS = "ORDER_DISCOUNT_EXCEEDS_ITEMS"
    TOTAL_MISMATCH = "TOTAL_MISMATCH"
    PAYMENT_AMOUNT_MISMATCH = "PAYMENT_AMOUNT_MISMATCH"


class ValidationIssue(BaseModel):
    model_config = ConfigDict(frozen=True)

    code: IssueCode
    field: str
    message: str


class ValidationResult(BaseModel):
    """Either an order with its re-derived figures, or every reason it cannot be invoiced."""

    model_config = ConfigDict(frozen=True)

    order: Order | None
    priced: PricedOrder | None
    issues: list[ValidationIssue]

    @property
    def is_valid(self) -> bool:
        return not self.issues and self.order is not None and self.priced is not None


MAX_AMOUNT = Decimal(10) ** 12
"""Every amount stays below a trillion in its currency: exact Decimal arithmetic (28 digits) then
holds with room to spare, and nothing an order could carry raises inside pricing."""
MAX_QUANTITY = 1_000_000
MAX_RATE_DECIMALS = 6
_UNPRICEABLE = frozenset({"AMOUNT_OUT_OF_RANGE", "QUANTITY_OUT_OF_RANGE"})


def validate_order_item(item: Mapping[str, Any]) -> ValidationResult:
    """Parse a raw order item (as read from DynamoDB) and run every business rule on it."""
    try:
        order = Order.model_validate(item)
    except ValidationError as error:
        return ValidationResult(order=None, priced=None, issues=list(_shape_issues(error)))
    issues = list(_business_issues(order))
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
            issues.extend(_totals_issues(order, priced))
    return ValidationResult(order=order, priced=priced if not issues else None, issues=issues)


def _shape_issues(error: ValidationError) -> Iterator[ValidationIssue]:
    for detail in error.errors(include_url=False):
        field = _field_path(detail["loc"])
        if detail["type"] == "missing":
            yield ValidationIssue(code=IssueCode.FIELD_MISSING, field=field, message=f"{field} is required")
        else:
            yield ValidationIssue(
                code=IssueCode.FIELD_INVALID, field=field, message=f"{field}: {detail['msg']}"
            )


def _field_path(loc: tuple[int | str, ...]) -> str:
    path = ""
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path or "order"


def _business_issues(order: Order) -> Iterator[ValidationIssue]:
    yield from _state_issues(order)
    yield from _customer_issues(order)
    currency_known = is_known_currency(order.currency)
    if not currency_known:
        yield ValidationIssue(
            code=IssueCode.CURRENCY_UNKNOWN,
            field="currency",
            message=f"{order.currency} is not an ISO 4217 currency we invoice in",
        )
    if not order.items:
        yield ValidationIssue(code=IssueCode.ITEMS_EMPTY, field="items", message="the order has no items")
    for index, item in enumerate(order.items):
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
        yield from _amount_issues(item.unit_price, f"{where}.unit_price", order.currency, currency_known)
        yield from _amount_issues(item.discount, f"{where}.discount", order.currency, currency_known)
        yield from _rate_issues(item.tax_rate, f"{where}.tax_rate")
        if not _in_range(item.unit_price, item.discount) or not 0 < item.quantity <= MAX_QUANTITY:
            continue  # the line's own figures are reported above; comparing them says nothing more
        line_amount = item.quantity * item.unit_price
        if item.discount > line_amount >= 0:
            yield ValidationIssue(
                code=IssueCode.LINE_DISCOUNT_EXCEEDS_LINE,
                field=f"{where}.discount",
                message=f"{item.sku}: discount {item.discount} is larger than the line amount {line_amount}",
            )
    for index, discount in enumerate(order.order_discounts):
        yield from _amount_issues(
            discount.amount, f"order_discounts[{index}].amount", order.currency, currency_known
        )
    figures = [a for i in order.items for a in (i.unit_price, i.discount)] + [
        d.amount for d in order.order_discounts
    ]
    comparable = _in_range(*figures) and all(0 < i.quantity <= MAX_QUANTITY for i in order.items)
    items_after_line_discounts = (
        sum((item.quantity * item.unit_price - item.discount for item in order.items), Decimal(0))
        if comparable
        else Decimal(0)
    )
    order_discount = sum((d.amount for d in order.order_discounts), Decimal(0)) if comparable else Decimal(0)
    if comparable and order_discount > 0 and order_discount > items_after_line_discounts:
        yield ValidationIssue(
            code=IssueCode.ORDER_DISCOUNT_EXCEEDS_ITEMS,
            field="order_discounts",
            message=(
                f"order discounts {order_discount} are larger than the items they discount "
                f"({items_after_line_discounts})"
            ),
        )
    if order.shipping is not None:
        yield from _amount_issues(order.shipping.cost, "shipping.cost", order.currency, currency_known)
        yield from _rate_issues(order.shipping.tax_rate, "shipping.tax_rate")
    yield from _amount_issues(
        order.payment.amount_captured, "payment.amount_captured", order.currency, currency_known
    )
    for name, value in order.totals.model_dump().items():
        yield from _amount_issues(value, f"totals.{name}", order.currency, currency_known, negative_ok=False)


def _state_issues(order: Order) -> Iterator[ValidationIssue]:
    if order.status is not OrderStatus.COMPLETED:
        yield ValidationIssue(
            code=IssueCode.ORDER_NOT_COMPLETED,
            field="status",
            message=f"the order is {order.status}, an invoice is issued only for COMPLETED orders",
        )
    elif order.completed_at is None:
        yield ValidationIssue(
            code=IssueCode.COMPLETED_AT_MISSING,
            field="completed_at",
            message="a completed order must say when it was completed",
        )
    if order.payment.status is not PaymentStatus.CAPTURED:
        yield ValidationIssue(
            code=IssueCode.PAYMENT_NOT_CAPTURED,
            field="payment.status",
            message=f"payment is {order.payment.status}, an invoice needs a CAPTURED payment",
        )


def _customer_issues(order: Order) -> Iterator[ValidationIssue]:
    choice = choose_channel(order.customer)
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


def _totals_issues(order: Order, priced: PricedOrder) -> Iterator[ValidationIssue]:
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
    if order.payment.amount_captured != ours.grand_total:
        yield ValidationIssue(
            code=IssueCode.PAYMENT_AMOUNT_MISMATCH,
            field="payment.amount_captured",
            message=(
                f"captured {format_money(order.payment.amount_captured, order.currency)} but the invoice "
                f"total is {format_money(ours.grand_total, order.currency)}"
            ),
        )
