"""Seeds moto's S3 for the S3 tests, and prints what it made.

Usage: seed_s3.py ENDPOINT_URL   (credentials come from AWS_ACCESS_KEY_ID etc.)

Account A gets bucket `skyglue-ci` in us-east-1 with builds/<branch>/<build>/app.tar.gz
for branches main (builds 001-005) and feature-x (001-003), plus logs/today.txt;
and bucket `skyglue-eu` in eu-west-1, versioned, whose key `report.csv` has two
versions. Prints {"ci": [keys], "eu_versions": [version ids, oldest first]}.
"""

import json
import sys

import boto3

ENDPOINT = sys.argv[1]


def main():
    us = boto3.client("s3", region_name="us-east-1", endpoint_url=ENDPOINT)
    us.create_bucket(Bucket="skyglue-ci")
    keys = []
    for branch, builds in (("main", 5), ("feature-x", 3)):
        for build in range(1, builds + 1):
            key = f"builds/{branch}/{build:03d}/app.tar.gz"
            us.put_object(Bucket="skyglue-ci", Key=key, Body=b"x" * (100 + build))
            keys.append(key)
    us.put_object(Bucket="skyglue-ci", Key="logs/today.txt", Body=b"log")
    keys.append("logs/today.txt")

    eu = boto3.client("s3", region_name="eu-west-1", endpoint_url=ENDPOINT)
    eu.create_bucket(Bucket="skyglue-eu", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    eu.put_bucket_versioning(Bucket="skyglue-eu", VersioningConfiguration={"Status": "Enabled"})
    versions = []
    for body in (b"first", b"second, longer"):
        versions.append(eu.put_object(Bucket="skyglue-eu", Key="report.csv", Body=body)["VersionId"])
    print(json.dumps({"ci": keys, "eu_versions": versions}))


if __name__ == "__main__":
    main()
