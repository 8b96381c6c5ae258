"""Signs ECR API requests with Signature Version 4 for bench/run.

`call` sends one signed request and prints the response body, failing on any status but 200.
`wrk` writes a wrk Lua script that sends one signed request again and again. AWS, and
mock-ecr, reject a signature whose X-Amz-Date is more than 15 minutes from the server's
clock, so bench/run writes a new script right before each wrk run.

The signing is botocore's (`botocore.auth.SigV4Auth`), independent of the signature check in
mock-ecr. Credentials come from AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_DEFAULT_REGION.
"""

import argparse
import json
import os
import sys
import urllib.error
import urllib.request

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

TARGET_PREFIX = "AmazonEC2ContainerRegistry_V20150921."


def sign(endpoint, operation, body):
    """Return the headers of a signed POST of `body` to `endpoint` for `operation`."""
    request = AWSRequest(
        method="POST",
        url=endpoint + "/",
        data=body.encode(),
        headers={
            "Content-Type": "application/x-amz-json-1.1",
            "X-Amz-Target": TARGET_PREFIX + operation,
        },
    )
    credentials = Credentials(
        os.environ["AWS_ACCESS_KEY_ID"], os.environ["AWS_SECRET_ACCESS_KEY"]
    )
    SigV4Auth(credentials, "ecr", os.environ["AWS_DEFAULT_REGION"]).add_auth(request)
    return dict(request.headers.items())


def call(endpoint, operation, body):
    headers = sign(endpoint, operation, body)
    request = urllib.request.Request(
        endpoint + "/", data=body.encode(), headers=headers, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            sys.stdout.write(response.read().decode())
    except urllib.error.HTTPError as error:
        sys.exit(f"{operation} on {endpoint} failed with {error.code}: {error.read().decode()}")


def write_wrk_script(endpoint, operation, body, path):
    headers = sign(endpoint, operation, body)
    # JSON string literals are valid Lua string literals for ASCII text.
    lines = ['wrk.method = "POST"', f"wrk.body = {json.dumps(body)}"]
    for name, value in headers.items():
        lines.append(f"wrk.headers[{json.dumps(name)}] = {json.dumps(value)}")
    with open(path, "w", encoding="ascii") as script:
        script.write("\n".join(lines) + "\n")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mode", choices=["call", "wrk"])
    parser.add_argument("endpoint", help="base URL, such as http://127.0.0.1:5000")
    parser.add_argument("operation", help="ECR API operation, such as DescribeRepositories")
    parser.add_argument("body", nargs="?", default="{}", help="JSON request body")
    parser.add_argument("--output", help="path of the wrk Lua script (mode wrk)")
    arguments = parser.parse_args()
    if arguments.mode == "call":
        call(arguments.endpoint, arguments.operation, arguments.body)
    elif arguments.output is None:
        parser.error("mode wrk requires --output")
    else:
        write_wrk_script(
            arguments.endpoint, arguments.operation, arguments.body, arguments.output
        )


if __name__ == "__main__":
    main()
