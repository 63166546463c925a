"""The image store: write and read through a directory and an S3 bucket (moto's in-process mock),
and a missing or unavailable store gives one clear error."""

from __future__ import annotations

import socket

import pytest

from monitor.image_store import DirectoryStore, ImageStoreError, open_store

boto3 = pytest.importorskip("boto3", reason="the s3 extra (boto3) is not installed")
moto = pytest.importorskip("moto", reason="moto is not installed (test extra)")

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture
def fake_aws(monkeypatch: pytest.MonkeyPatch):
    """Dummy credentials (never real ones) and moto's in-process S3."""
    for var, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                       "AWS_DEFAULT_REGION": "us-east-1"}.items():
        monkeypatch.setenv(var, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    with moto.mock_aws():
        boto3.client("s3", region_name="us-east-1").create_bucket(Bucket="shop-images")
        yield


def test_directory_store_writes_and_reads_by_key(tmp_path) -> None:
    store = open_store(tmp_path / "images")
    store.put("full/ab.png", PNG)
    assert store.get("full/ab.png") == PNG
    assert (tmp_path / "images" / "full" / "ab.png").read_bytes() == PNG
    assert store.key_of(store.source("full/ab.png")) == "full/ab.png"
    # Rows written before keys held absolute paths inside the directory: still read.
    assert store.key_of(str(tmp_path / "images" / "full" / "ab.png")) == "full/ab.png"
    assert store.key_of("/etc/passwd") is None
    assert not list((tmp_path / "images" / "full").glob(".*tmp"))  # no temporary file left behind


def test_directory_store_refuses_keys_that_leave_it(tmp_path) -> None:
    store = DirectoryStore(tmp_path / "images")
    for key in ("../secret", "/etc/passwd", "full/../../x", ""):
        with pytest.raises(ImageStoreError, match="not an image key"):
            store.get(key)
    with pytest.raises(ImageStoreError, match="not an image key"):
        store.get(store.key_of(store.source("../../etc/passwd")))


def test_directory_store_missing_image_and_missing_mount_say_which(tmp_path) -> None:
    store = DirectoryStore(tmp_path / "images")
    with pytest.raises(ImageStoreError, match="not there"):
        store.get("full/a.png")
    store.put("full/b.png", PNG)
    with pytest.raises(ImageStoreError, match="image full/a.png not found in the image store"):
        store.get("full/a.png")
    with pytest.raises(ImageStoreError, match="over the 10-byte limit"):
        store.get("full/b.png", max_bytes=10)


def test_directory_store_that_cannot_be_written_raises_and_keeps_what_it_had(tmp_path) -> None:
    blocker = tmp_path / "images"
    blocker.write_text("a file where the directory should be")
    with pytest.raises(ImageStoreError, match="cannot write image full/a.png"):
        DirectoryStore(blocker).put("full/a.png", PNG)
    assert blocker.read_text() == "a file where the directory should be"


def test_s3_store_writes_and_reads_by_key(fake_aws) -> None:
    store = open_store("s3://shop-images/crawl?region=us-east-1")
    store.put("full/ab.png", PNG)
    assert store.get("full/ab.png") == PNG
    raw = boto3.client("s3", region_name="us-east-1").get_object(Bucket="shop-images", Key="crawl/full/ab.png")
    assert raw["Body"].read() == PNG  # the key under the prefix, as any other worker reads it
    assert store.source("full/ab.png") == "s3://shop-images/crawl/full/ab.png"
    assert store.key_of(store.source("full/ab.png")) == "full/ab.png"
    with pytest.raises(ImageStoreError, match="over the 10-byte limit"):
        store.get("full/ab.png", max_bytes=10)


def test_s3_missing_image_and_missing_bucket_are_clear(fake_aws) -> None:
    store = open_store("s3://shop-images/crawl?region=us-east-1")
    with pytest.raises(ImageStoreError, match="image full/none.png not found in the image store s3://shop-images/crawl"):
        store.get("full/none.png")
    gone = open_store("s3://no-such-bucket?region=us-east-1")
    with pytest.raises(ImageStoreError, match="bucket 'no-such-bucket' does not exist"):
        gone.put("full/a.png", PNG)


def test_s3_endpoint_that_does_not_answer_is_one_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(var, "testing")
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    store = open_store(f"s3://shop-images?endpoint_url=http://127.0.0.1:{port}&region=us-east-1")
    with pytest.raises(ImageStoreError, match=r"cannot write image full/a.png in the image store s3://shop-images"):
        store.put("full/a.png", PNG)
    with pytest.raises(ImageStoreError, match="cannot read image"):
        store.get("full/a.png")


def test_s3_url_options_are_checked() -> None:
    with pytest.raises(ImageStoreError, match="needs a bucket"):
        open_store("s3:///prefix")
    with pytest.raises(ImageStoreError, match="unknown option"):
        open_store("s3://bucket?endpoint=http://x")
