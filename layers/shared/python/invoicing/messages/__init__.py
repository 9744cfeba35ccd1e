"""What customers and vendors receive: the invoice email (MIME) and the SMS text."""
