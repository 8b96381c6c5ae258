"""Drive mock-ecr's registry with oras-py (PyPI `oras`), for tests/registry_interop.rs.

Usage: python3 oras_client.py COMMAND, run in an empty working directory, with

  ECRLAB_REGISTRY           the registry host, such as localhost:5000 (plain HTTP)
  ECRLAB_REPOSITORY         the repository to push to, which must exist
  ECRLAB_REGISTRY_PASSWORD  a password from `aws ecr get-login-password`, for the user AWS

Commands:

  artifact-and-referrer  Pushes an artifact (one file, with an `artifactType`) as tag `note-v1`
                         and a referrer (a signature whose `subject` is the artifact) as tag
                         `note-v1-signature`, pulls both back by digest and prints a JSON report.
  push-file              Pushes one file with oras-py's `push` as tag `file-v1`.
  bad-digest             Uploads a blob under a digest that its content does not have.
  unknown-blob           Pushes a manifest that names a layer which was never uploaded.

artifact-and-referrer prints its report last. bad-digest and unknown-blob print one line of JSON
that names the digests involved before the request that fails. Errors escape as oras-py raises
them, so the test reads what a user would read: the registry's message as oras-py logs or
raises it, then the Python traceback.
"""

import hashlib
import json
import os
import sys
from dataclasses import asdict

import oras.defaults
import oras.oci
import oras.provider

NOTE_ARTIFACT_TYPE = "application/vnd.ecrlab.interop.note.v1"
NOTE_MEDIA_TYPE = "text/plain"
NOTE = b"Hello from the ecrlab registry interop test.\n"
# oras-py's push has no `artifactType` parameter, so the referrer declares its type as the
# config media type, which the referrers API reports in its place (OCI distribution
# specification 1.1, "Listing Referrers").
SIGNATURE_CONFIG_MEDIA_TYPE = "application/vnd.ecrlab.interop.signature.config.v1+json"
SIGNATURE_MEDIA_TYPE = "application/vnd.ecrlab.interop.signature.v1"
SIGNATURE_ANNOTATION = ("org.ecrlab.interop.kind", "signature")

# The empty JSON object `{}`, the config of an artifact that has none (OCI image
# specification 1.1, "Guidance for an Empty Descriptor").
EMPTY_CONFIG_MEDIA_TYPE = "application/vnd.oci.empty.v1+json"
EMPTY_CONFIG = b"{}"


def main():
    if len(sys.argv) != 2 or sys.argv[1] not in COMMANDS:
        sys.exit(f"usage: {sys.argv[0]} {{{'|'.join(COMMANDS)}}}")
    registry = Registry(
        host=os.environ["ECRLAB_REGISTRY"],
        repository=os.environ["ECRLAB_REPOSITORY"],
        password=os.environ["ECRLAB_REGISTRY_PASSWORD"],
    )
    COMMANDS[sys.argv[1]](registry)


class Registry:
    """An oras-py client for one repository, authenticated with HTTP Basic as ECR expects."""

    def __init__(self, host, repository, password):
        self.host = host
        self.repository = repository
        # The `basic` backend responds to a 401 with Basic credentials, the scheme of ECR's
        # challenge. The default `token` backend would request a bearer token from the realm.
        self.client = oras.provider.Registry(
            hostname=host, insecure=True, auth_backend="basic"
        )
        self.client.auth.set_basic_auth("AWS", password)

    def reference(self, tag_or_digest):
        separator = "@" if tag_or_digest.startswith("sha256:") else ":"
        return f"{self.host}/{self.repository}{separator}{tag_or_digest}"

    def container(self, tag_or_digest):
        return self.client.get_container(self.reference(tag_or_digest))

    def check(self, response):
        """Return `response` if it is a 2xx, else raise the error oras-py's `push` raises.

        oras-py first logs the message of each error in the registry's response.
        """
        # The method is private, but it is the check that `push` applies to each request.
        self.client._check_200_response(response)
        return response


def push_artifact_and_referrer(registry):
    """Push an artifact and a referrer of it, pull both back and print what was seen."""
    note = write_file("note.txt", NOTE)
    artifact = push_note(registry, note)

    signature = write_file("note.sig", b"not a real signature, only its bytes\n")
    subject = oras.oci.Subject(
        mediaType=oras.defaults.default_manifest_media_type,
        digest=artifact["digest"],
        size=artifact["size"],
    )
    config = write_file("signature-config.json", EMPTY_CONFIG)
    response = registry.client.push(
        target=registry.reference("note-v1-signature"),
        files=[f"{signature}:{SIGNATURE_MEDIA_TYPE}"],
        manifest_config=f"{config}:{SIGNATURE_CONFIG_MEDIA_TYPE}",
        manifest_annotations=dict([SIGNATURE_ANNOTATION]),
        subject=subject,
        quiet=True,
    )
    referrer_digest = response.headers["Docker-Content-Digest"]

    report = {
        "artifact": pulled(registry, artifact["digest"], "pulled-artifact"),
        "referrer": pulled(registry, referrer_digest, "pulled-referrer"),
        "subject": asdict(subject),
    }
    print_json(report)


def push_note(registry, note):
    """Push `note` as an artifact with an `artifactType` and return its descriptor.

    oras-py's `push` cannot set `artifactType`, so the manifest is built here and sent with
    oras-py's blob and manifest calls.
    """
    container = registry.container("note-v1")
    layer = oras.oci.NewLayer(note, media_type=NOTE_MEDIA_TYPE)
    layer["annotations"] = {oras.defaults.annotation_title: os.path.basename(note)}
    registry.check(registry.client.upload_blob(note, container, layer))
    config = push_empty_config(registry, container)

    manifest = {
        "schemaVersion": 2,
        "mediaType": oras.defaults.default_manifest_media_type,
        "artifactType": NOTE_ARTIFACT_TYPE,
        "config": config,
        "layers": [layer],
    }
    response = registry.check(registry.client.upload_manifest(manifest, container))
    # A subject descriptor names the exact bytes sent, which `requests` serialized.
    return {
        "digest": response.headers["Docker-Content-Digest"],
        "size": len(response.request.body),
    }


def push_empty_config(registry, container):
    """Upload the empty config blob and return its descriptor."""
    config_file = write_file("empty-config.json", EMPTY_CONFIG)
    config = {
        "mediaType": EMPTY_CONFIG_MEDIA_TYPE,
        "digest": sha256(EMPTY_CONFIG),
        "size": len(EMPTY_CONFIG),
    }
    registry.check(registry.client.upload_blob(config_file, container, config))
    return config


def pulled(registry, digest, directory):
    """Pull `digest` into `directory` with oras-py and describe the manifest and files."""
    manifest = registry.client.get_manifest(registry.reference(digest))
    files = registry.client.pull(target=registry.reference(digest), outdir=directory)
    return {
        "digest": digest,
        "manifest": manifest,
        "files": {os.path.basename(path): read_text(path) for path in files},
    }


def push_file(registry):
    """Push one file with oras-py's `push`."""
    note = write_file("note.txt", NOTE)
    registry.client.push(
        target=registry.reference("file-v1"), files=[f"{note}:{NOTE_MEDIA_TYPE}"]
    )


def push_bad_digest(registry):
    """Upload a blob whose content does not match the digest named in the request."""
    content = b"the uploaded content\n"
    blob = write_file("layer.txt", content)
    layer = oras.oci.NewLayer(blob, media_type=NOTE_MEDIA_TYPE)
    layer["digest"] = sha256(b"other content, whose digest the request names\n")
    print_json({"uploaded": sha256(content), "named": layer["digest"]})
    registry.check(registry.client.upload_blob(blob, registry.container("bad-digest"), layer))


def push_unknown_blob(registry):
    """Push a manifest whose only layer was never uploaded to the repository."""
    container = registry.container("unknown-blob")
    config = push_empty_config(registry, container)

    never_uploaded = b"a layer that no request uploads\n"
    print_json({"layer": sha256(never_uploaded)})
    manifest = {
        "schemaVersion": 2,
        "mediaType": oras.defaults.default_manifest_media_type,
        "artifactType": NOTE_ARTIFACT_TYPE,
        "config": config,
        "layers": [
            {
                "mediaType": NOTE_MEDIA_TYPE,
                "digest": sha256(never_uploaded),
                "size": len(never_uploaded),
            }
        ],
    }
    registry.check(registry.client.upload_manifest(manifest, container))


def print_json(value):
    """Print `value` as one line of JSON and flush it, so it precedes a traceback."""
    print(json.dumps(value), flush=True)


def write_file(name, content):
    with open(name, "wb") as file:
        file.write(content)
    return name


def read_text(path):
    with open(path, encoding="utf-8") as file:
        return file.read()


def sha256(content):
    return "sha256:" + hashlib.sha256(content).hexdigest()


COMMANDS = {
    "artifact-and-referrer": push_artifact_and_referrer,
    "push-file": push_file,
    "bad-digest": push_bad_digest,
    "unknown-blob": push_unknown_blob,
}

if __name__ == "__main__":
    main()
