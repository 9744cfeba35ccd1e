"""One construct per concern; `stacks/invoicing_stack.py` composes them."""
