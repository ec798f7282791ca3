import pytest

from advisor.storage.artifacts import ArtifactStore


def test_published_artifact_has_meta_and_key_parts(tmp_path):
    slot = ArtifactStore(tmp_path).slot("index", corpus="abc", k=4)
    assert not slot.exists()
    with slot.publish({"chunks": 3}) as folder:
        (folder / "data.txt").write_text("x")
    assert slot.exists()
    assert slot.meta()["info"] == {"chunks": 3} and slot.meta()["key_parts"] == {"corpus": "abc", "k": 4}
    assert (slot.path / "data.txt").read_text() == "x"


def test_interrupted_publish_leaves_nothing_that_looks_complete(tmp_path):
    store = ArtifactStore(tmp_path)
    slot = store.slot("adapter", params={"r": 8})
    with pytest.raises(KeyboardInterrupt):
        with slot.publish() as folder:
            (folder / "half.bin").write_bytes(b"1234")
            raise KeyboardInterrupt
    assert not slot.exists() and not slot.path.exists()
    assert not any(p.name.startswith(".tmp") for p in (tmp_path / "adapter").iterdir())


def test_keys_differ_by_parts(tmp_path):
    store = ArtifactStore(tmp_path)
    assert store.slot("a", x=1).key != store.slot("a", x=2).key != store.slot("b", x=1).key
