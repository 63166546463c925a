"""Where crawled listing and buyer images are kept, so every worker that checks or shows them can
read them: a directory (default ``data_dir/images``; a shared volume when several machines crawl)
or an S3-compatible bucket (``listings.image_store = "s3://bucket/prefix"``, through boto3, the
optional ``s3`` extra). The database holds each image's key (``ListingImage.local_path``, a path
relative to the store), never a machine's absolute path, so any worker resolves it.

An S3 URL may name the endpoint of an S3-compatible server (MinIO, Ceph) and the region as query
parameters: ``s3://images/shopmon?endpoint_url=http://minio:9000&region=us-east-1``. Credentials
come from boto3's usual chain (``AWS_ACCESS_KEY_ID``/``AWS_SECRET_ACCESS_KEY``, a profile, an
instance role), never from the configuration file.
"""

from __future__ import annotations

import urllib.parse
from pathlib import Path, PurePosixPath
from typing import Any, Protocol

from monitor.atomic_files import write_atomic
from monitor.errors import StorageError

#: The crawl writes this before the reason when the store refused an image it had downloaded, so
#: the next crawl fetches that image again (nothing is lost while the store is away).
STORE_FAILURE = "image store unavailable: "


class ImageStoreError(StorageError):
    """The image store cannot be used, or the image is not in it."""


class ImageStore(Protocol):
    location: str  # for messages; never holds a secret

    def put(self, key: str, data: bytes) -> None: ...

    def get(self, key: str, max_bytes: int | None = None) -> bytes: ...

    def source(self, key: str) -> str: ...

    def key_of(self, source: str) -> str | None: ...


def _clean_key(key: str) -> str:
    """A relative key with no way out of the store (``..``, absolute paths, backslashes)."""
    parts = PurePosixPath(key.replace("\\", "/")).parts
    if not parts or key.startswith(("/", "\\")) or any(p in ("", ".", "..") for p in parts):
        raise ImageStoreError(f"{key!r} is not an image key (a relative path inside the store)")
    return "/".join(parts)


def _too_big(key: str, size: int, max_bytes: int | None) -> None:
    if max_bytes is not None and size > max_bytes:
        raise ImageStoreError(f"image {key} is {size} bytes, over the {max_bytes}-byte limit")


class DirectoryStore:
    """Files under ``root``; written to a temporary name first, so a reader never sees half a file."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root).resolve()
        self.location = str(self.root)

    def _path(self, key: str) -> Path:
        return self.root / _clean_key(key)

    def put(self, key: str, data: bytes) -> None:
        path = self._path(key)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            write_atomic(path, data)
        except OSError as exc:
            raise ImageStoreError(f"cannot write image {key} to the image store {self.location}: "
                                  f"{exc.strerror or exc}") from None

    def get(self, key: str, max_bytes: int | None = None) -> bytes:
        path = self._path(key)
        try:
            _too_big(key, path.stat().st_size, max_bytes)
            return path.read_bytes()
        except FileNotFoundError:
            if not self.root.is_dir():
                raise ImageStoreError(f"the image store {self.location} is not there (not mounted?)") from None
            raise ImageStoreError(f"image {key} not found in the image store {self.location}") from None
        except OSError as exc:
            raise ImageStoreError(f"cannot read image {key} from the image store {self.location}: "
                                  f"{exc.strerror or exc}") from None

    def source(self, key: str) -> str:
        return str(self.root / key) if not Path(key).is_absolute() else key

    def key_of(self, source: str) -> str | None:
        """The key of a stored image's path; rows written before keys held absolute paths here."""
        path = Path(source)
        if not path.is_absolute():
            return None
        for candidate in (path, path.resolve()):
            try:  # lexically first: a key with ``..`` stays one, and get() refuses it
                return candidate.relative_to(self.root).as_posix()
            except ValueError:
                continue
        return None


class S3Store:
    """Objects under ``prefix`` in an S3 or S3-compatible bucket."""

    def __init__(self, bucket: str, prefix: str = "", *, client: Any) -> None:
        self.bucket, self.prefix, self.client = bucket, prefix.strip("/"), client
        self.location = f"s3://{bucket}/{self.prefix}".rstrip("/")

    def _object(self, key: str) -> str:
        key = _clean_key(key)
        return f"{self.prefix}/{key}" if self.prefix else key

    def _failure(self, exc: Exception, key: str, doing: str) -> ImageStoreError:
        code = str(getattr(exc, "response", {}).get("Error", {}).get("Code", ""))
        if code in ("NoSuchKey", "404", "NotFound"):
            return ImageStoreError(f"image {key} not found in the image store {self.location}")
        if code == "NoSuchBucket":
            return ImageStoreError(f"the image store's bucket {self.bucket!r} does not exist ({self.location})")
        return ImageStoreError(f"cannot {doing} image {key} in the image store {self.location}: {code or exc}")

    def put(self, key: str, data: bytes) -> None:
        try:
            self.client.put_object(Bucket=self.bucket, Key=self._object(key), Body=data)
        except Exception as exc:  # noqa: BLE001 - botocore raises many types; each becomes one clear line
            raise self._failure(exc, key, "write") from None

    def get(self, key: str, max_bytes: int | None = None) -> bytes:
        try:
            obj = self.client.get_object(Bucket=self.bucket, Key=self._object(key))
            _too_big(key, int(obj.get("ContentLength") or 0), max_bytes)
            return obj["Body"].read()
        except ImageStoreError:
            raise
        except Exception as exc:  # noqa: BLE001 - as above
            raise self._failure(exc, key, "read") from None

    def source(self, key: str) -> str:
        return f"{self.location}/{_clean_key(key)}"

    def key_of(self, source: str) -> str | None:
        head = self.location + "/"
        return source[len(head):] if source.startswith(head) else None


def open_store(uri: str | Path) -> ImageStore:
    """A directory path (or ``file://`` URL), or ``s3://bucket/prefix[?endpoint_url=…&region=…]``."""
    text = str(uri)
    if not text.startswith("s3://"):
        return DirectoryStore(Path(text.removeprefix("file://")))
    parts = urllib.parse.urlsplit(text)
    if not parts.netloc:
        raise ImageStoreError(f"{text!r}: an S3 image store needs a bucket (s3://bucket/prefix)")
    query = dict(urllib.parse.parse_qsl(parts.query))
    unknown = set(query) - {"endpoint_url", "region"}
    if unknown:
        raise ImageStoreError(f"{text!r}: unknown option(s) {', '.join(sorted(unknown))} (endpoint_url, region)")
    try:
        # The s3 extra is optional: only a configured bucket needs boto3.
        import boto3
        from botocore.config import Config
    except ImportError:
        raise ImageStoreError("listings.image_store names an S3 bucket but boto3 is not installed "
                              "(pip install 'shopmon[s3]')") from None
    client = boto3.client("s3", endpoint_url=query.get("endpoint_url"), region_name=query.get("region"),
                          config=Config(retries={"max_attempts": 2}, connect_timeout=5, read_timeout=30))
    return S3Store(parts.netloc, parts.path, client=client)
