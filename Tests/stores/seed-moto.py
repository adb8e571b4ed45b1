"""Seeds a moto server for the S3 tests, then turns its signature checks on.

usage: seed-moto.py ENDPOINT BUCKET DIRECTORY [--no-auth]
Creates an IAM user allowed s3:GetObject on BUCKET/*, its access key, a
bucket holding every file under DIRECTORY at its relative path, and
temporary credentials with a session token, of a role allowed the same
(moto checks the session tokens of assumed roles; the key that its
get-session-token returns is a fixed example it does not accept); then a
second user allowed what examples/s3-read-policy.json allows, for BUCKET and
the prefix deep/. Prints, one a line: KEY SECRET, then SESSION_KEY
SESSION_SECRET SESSION_TOKEN, then LISTER_KEY LISTER_SECRET, then the role's ARN.
"""
import json
import os
import subprocess
import sys

import boto3

endpoint, bucket, directory = sys.argv[1:4]
common = dict(endpoint_url=endpoint, region_name="us-east-1",
              aws_access_key_id="seed", aws_secret_access_key="seed")
iam = boto3.client("iam", **common)
s3 = boto3.client("s3", **common)

read = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{bucket}/*"}]})
iam.create_user(UserName="thumbnail")
iam.put_user_policy(UserName="thumbnail", PolicyName="read", PolicyDocument=read)
key = iam.create_access_key(UserName="thumbnail")["AccessKey"]
role = iam.create_role(RoleName="thumbnail-reader", AssumeRolePolicyDocument=json.dumps({
    "Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}]}))["Role"]
iam.put_role_policy(RoleName="thumbnail-reader", PolicyName="read", PolicyDocument=read)

example = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "examples", "s3-read-policy.json")
with open(example) as file:
    listing = file.read().replace("example-images", bucket).replace("originals", "deep")
iam.create_user(UserName="lister")
iam.put_user_policy(UserName="lister", PolicyName="read-and-list", PolicyDocument=listing)
lister = iam.create_access_key(UserName="lister")["AccessKey"]

s3.create_bucket(Bucket=bucket)
for top, _, files in os.walk(directory):
    for name in files:
        path = os.path.join(top, name)
        with open(path, "rb") as file:
            s3.put_object(Bucket=bucket, Key=os.path.relpath(path, directory), Body=file.read())

sts = boto3.client("sts", endpoint_url=endpoint, region_name="us-east-1",
                   aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"])
session = sts.assume_role(RoleArn=role["Arn"], RoleSessionName="thumbnail-test")["Credentials"]

if "--no-auth" not in sys.argv:
    subprocess.run(["curl", "-sf", "-X", "POST", "--data-binary", "0", "-H", "Content-Type: text/plain",
                    endpoint + "/moto-api/reset-auth"], check=True, stdout=subprocess.DEVNULL)
print(key["AccessKeyId"], key["SecretAccessKey"])
print(session["AccessKeyId"], session["SecretAccessKey"], session["SessionToken"])
print(lister["AccessKeyId"], lister["SecretAccessKey"])
print(role["Arn"])
