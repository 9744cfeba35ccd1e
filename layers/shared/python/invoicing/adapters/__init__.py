"""Small adapters around boto3: the only place that knows about DynamoDB, S3 and EventBridge."""
