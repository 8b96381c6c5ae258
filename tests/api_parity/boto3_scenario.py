"""Run the ECR API parity scenario through boto3 and print each step's outcome as JSON.

Standard input is one JSON object:
    {"endpoint": "http://127.0.0.1:PORT", "region": "us-east-1",
     "steps": [{"name": ..., "operation": "CreateRepository", "input": {...},
                "accessKeyId": ..., "secretAccessKey": ...}, ...]}

Inputs use the ECR API's member names and wire forms (blobs in base64). A value
{"$ref": STEP, "pointer": "/member"} is replaced by that member of an earlier step's output.

Standard output is a JSON list with one object per step: {"output": {...}} with the wire
forms (timestamps as epoch seconds, blobs in base64, no ResponseMetadata), {"error": CODE}
for an error the service returned, or {"clientError": TEXT} when boto3 rejected the call
before sending it. The pseudo-operation "FetchUrl" GETs input["url"] without credentials and
outputs {"status": HTTP_STATUS, "sha256": "sha256:<hex of the body>"}.
"""

import base64
import datetime
import hashlib
import json
import sys
import urllib.error
import urllib.request

import boto3
import botocore.config
import botocore.exceptions
from botocore import xform_name


def resolve(value, outputs):
    """Replace each {"$ref": STEP, "pointer": POINTER} in value with an earlier output's member."""
    if isinstance(value, dict):
        if "$ref" in value:
            found = outputs[value["$ref"]]
            for part in value["pointer"].lstrip("/").split("/"):
                found = found[int(part)] if isinstance(found, list) else found[part]
            return found
        return {key: resolve(item, outputs) for key, item in value.items()}
    if isinstance(value, list):
        return [resolve(item, outputs) for item in value]
    return value


def decode_blobs(value, shape):
    """Convert the base64 text of every blob member in value to bytes, as boto3 expects."""
    if shape is None:
        return value
    if shape.type_name == "blob" and isinstance(value, str):
        return base64.b64decode(value)
    if shape.type_name == "structure" and isinstance(value, dict):
        return {
            key: decode_blobs(item, shape.members.get(key))
            for key, item in value.items()
        }
    if shape.type_name == "list" and isinstance(value, list):
        return [decode_blobs(item, shape.member) for item in value]
    return value


def wire_form(value):
    """Convert boto3's output to the JSON forms of the wire: epoch seconds and base64."""
    if isinstance(value, dict):
        return {
            key: wire_form(item)
            for key, item in value.items()
            if key != "ResponseMetadata"
        }
    if isinstance(value, list):
        return [wire_form(item) for item in value]
    if isinstance(value, datetime.datetime):
        return value.timestamp()
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(value).decode("ascii")
    return value


def make_client(endpoint, region, access_key_id, secret_access_key):
    # One attempt per call, so a rejected request is reported once instead of retried.
    config = botocore.config.Config(retries={"max_attempts": 1, "mode": "standard"})
    return boto3.session.Session(
        aws_access_key_id=access_key_id,
        aws_secret_access_key=secret_access_key,
        region_name=region,
    ).client("ecr", endpoint_url=endpoint, config=config)


def fetch_url(url):
    """GET url without credentials, as the Rust runners do for the FetchUrl pseudo-operation."""
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            status, body = response.status, response.read()
    except urllib.error.HTTPError as error:
        status, body = error.code, error.read()
    except urllib.error.URLError as error:
        return {"clientError": f"GET {url} failed: {error.reason}"}
    return {"output": {"status": status, "sha256": "sha256:" + hashlib.sha256(body).hexdigest()}}


def run_step(client, step, outputs):
    if step["operation"] == "FetchUrl":
        return fetch_url(resolve(step["input"], outputs)["url"])
    operation = client.meta.service_model.operation_model(step["operation"])
    arguments = decode_blobs(resolve(step["input"], outputs), operation.input_shape)
    method = getattr(client, xform_name(step["operation"]))
    try:
        output = wire_form(method(**arguments))
    except botocore.exceptions.ClientError as error:
        return {"error": error.response["Error"]["Code"]}
    except botocore.exceptions.ParamValidationError as error:
        return {"clientError": str(error)}
    outputs[step["name"]] = output
    return {"output": output}


def main():
    scenario = json.load(sys.stdin)
    clients = {}
    outputs = {}
    results = []
    for step in scenario["steps"]:
        key = (step["accessKeyId"], step["secretAccessKey"])
        if key not in clients:
            clients[key] = make_client(scenario["endpoint"], scenario["region"], *key)
        results.append(run_step(clients[key], step, outputs))
    json.dump(results, sys.stdout)


if __name__ == "__main__":
    main()
