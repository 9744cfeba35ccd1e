"""The hosted invoice page: what an emailed or texted link opens in a browser (services/hosted_invoice.py)."""
