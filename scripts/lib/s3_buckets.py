"""Create the local stack's S3 buckets on the moto server if they are missing.

Used by ``scripts/stack up``. moto keeps its state in memory, so a restarted moto server comes
back empty and every ``up`` calls this; creating a bucket that exists is skipped.
"""

from __future__ import annotations

import argparse
import logging
import sys

import boto3

logger = logging.getLogger(__name__)


def ensure_buckets(endpoint: str, buckets: list[str], region: str = "us-east-1") -> list[str]:
    """Create each bucket not yet listed at ``endpoint``; return the bucket names now present."""
    s3 = boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        region_name=region,
    )
    present = {b["Name"] for b in s3.list_buckets().get("Buckets", [])}
    for name in buckets:
        if name not in present:
            s3.create_bucket(Bucket=name)
            logger.info("bucket created bucket=%s endpoint=%s", name, endpoint)
    return sorted(b["Name"] for b in s3.list_buckets().get("Buckets", []))


def main(argv: list[str] | None = None) -> int:
    """CLI entry point: ``s3_buckets.py --endpoint URL BUCKET...``."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--endpoint", required=True, help="S3 endpoint URL, e.g. http://127.0.0.1:30002")
    parser.add_argument("buckets", nargs="+")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    present = ensure_buckets(args.endpoint, args.buckets)
    missing = sorted(set(args.buckets) - set(present))
    if missing:
        logger.error("buckets still missing after create: %s (endpoint %s)", missing, args.endpoint)
        return 1
    logger.info("buckets present: %s", ", ".join(present))
    return 0


if __name__ == "__main__":
    sys.exit(main())
