"""LocalStack ready hook: create the workshop's bucket (S3_BUCKET) as soon as LocalStack serves requests.

LocalStack runs each *.py file of /etc/localstack/init/ready.d with `exec` inside its own Python process (which has
boto3), so this file is plain top-level code: no `__name__` guard, no `__file__`. The native twin test
(tests/docker/test_native_stack.py) runs the same file with `python`, against moto.

Only the bucket is created here: LocalStack's container has no project code, so the sample batches are uploaded by
the one-shot compose service `seed` (the project's own generator in the Dagster image; see docker-compose.yml).
"""

import os

import boto3
from botocore.exceptions import ClientError

bucket = os.environ.get("S3_BUCKET") or "dagster"
region = os.environ.get("AWS_REGION") or "us-east-1"
client = boto3.client(
    "s3",
    endpoint_url=os.environ.get("S3_ENDPOINT_URL") or "http://localhost:4566",
    region_name=region,
    # LocalStack accepts any non-empty pair.
    aws_access_key_id=os.environ.get("AWS_ACCESS_KEY_ID") or "test",
    aws_secret_access_key=os.environ.get("AWS_SECRET_ACCESS_KEY") or "test",
)
try:
    client.head_bucket(Bucket=bucket)
    print(f"ready hook: s3://{bucket} already exists")
except ClientError:
    # Outside us-east-1, S3 wants the region spelt out.
    location = {} if region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": region}}
    client.create_bucket(Bucket=bucket, **location)
    print(f"ready hook: created s3://{bucket}")
