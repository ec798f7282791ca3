import math

from advisor.inputs.embeddings import EMBEDDING_MODEL, embeddings


def test_embeddings_are_local_normalized_and_loaded_once():
    emb = embeddings()
    assert embeddings() is emb
    assert EMBEDDING_MODEL == "all-MiniLM-L6-v2"
    vectors = emb.embed_documents(["The refund window is 30 days.", "Refunds are accepted for thirty days.",
                                   "The office is in Lisbon."])
    assert all(len(v) == 384 for v in vectors)
    assert all(math.isclose(sum(x * x for x in v), 1.0, rel_tol=1e-4) for v in vectors)
    dot = lambda a, b: sum(x * y for x, y in zip(a, b))  # noqa: E731
    assert dot(vectors[0], vectors[1]) > dot(vectors[0], vectors[2])
    query = emb.embed_query("How long is the refund window?")
    assert dot(query, vectors[0]) > dot(query, vectors[2])
