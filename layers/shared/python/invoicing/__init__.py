"""SayPro invoicing: turns completed marketplace orders into exact, numbered invoices.

`domain` is pure Python (no AWS), `adapters` wrap boto3, `services` orchestrate the two.
"""
