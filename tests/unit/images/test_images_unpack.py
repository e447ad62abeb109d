from pathlib import Path

import pytest
import zstandard

from kubelite.images import LayerError
from kubelite.images.unpack import unpack_layer
from kubelite.testing.fake_registry import Entry, digest_of, layer_tar


def test_a_layer_cannot_write_outside_its_directory(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    blob = tmp_path / "evil.tar"
    blob.write_bytes(layer_tar([
        Entry("abs", "symlink", target=str(outside)),
        Entry("abs/pwned", data=b"x"),
        Entry("rel", "symlink", target="../outside"),
        Entry("rel/pwned", data=b"x"),
        Entry("../up", data=b"x"),
        Entry("hard", "hardlink", target=str(outside / "x")),
    ]))
    dest = tmp_path / "dest"
    dest.mkdir()
    with pytest.raises(LayerError, match="tar failed"):
        unpack_layer(blob, dest, None)
    assert list(outside.iterdir()) == []
    assert not (tmp_path / "up").exists()


def test_diff_id_is_checked_for_every_compression(tmp_path: Path) -> None:
    tar = layer_tar([Entry("f", data=b"data")])
    blob = tmp_path / "layer.zst"
    blob.write_bytes(zstandard.ZstdCompressor().compress(tar))
    ok = tmp_path / "ok"
    ok.mkdir()
    assert unpack_layer(blob, ok, digest_of(tar)) == (digest_of(tar), len(tar))
    assert (ok / "f").read_bytes() == b"data"
    bad = tmp_path / "bad"
    bad.mkdir()
    with pytest.raises(LayerError, match="the image config says"):
        unpack_layer(blob, bad, "sha256:" + "0" * 64)
    broken = tmp_path / "broken.gz"
    broken.write_bytes(b"\x1f\x8b\x08\x00garbage")
    with pytest.raises(LayerError, match="bad gzip data"):
        unpack_layer(broken, bad, None)


def test_truncated_streams_are_errors(tmp_path: Path) -> None:
    import gzip

    tar = layer_tar([Entry("f", data=bytes(range(256)) * 400)])
    for name, data in (("t.gz", gzip.compress(tar)),
                       ("t.zst", zstandard.ZstdCompressor().compress(tar))):
        blob = tmp_path / name
        blob.write_bytes(data[: len(data) // 2])
        dest = tmp_path / f"d-{name}"
        dest.mkdir()
        with pytest.raises(LayerError, match="truncated"):
            unpack_layer(blob, dest, None)
