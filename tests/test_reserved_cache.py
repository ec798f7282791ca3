"""The cache layer that reserves the answer's room: it must hold exactly what transformers' own
growing layer holds, through every operation generate may apply to a cache."""

import pytest
import torch
from transformers.cache_utils import DynamicLayer

from advisor.backends.reserved_cache import ReservedLayer, reserved_cache


def states(batch: int, positions: int, seed: int):
    generator = torch.Generator().manual_seed(seed)
    return (torch.randn(batch, 3, positions, 8, generator=generator),
            torch.randn(batch, 3, positions, 8, generator=generator))


def filled(layer, steps=(5, 1, 1, 1)):
    for seed, positions in enumerate(steps):
        returned = layer.update(*states(4, positions, seed))
    return returned


def assert_same(reserved: ReservedLayer, growing: DynamicLayer):
    assert torch.equal(reserved.keys, growing.keys) and torch.equal(reserved.values, growing.values)
    assert reserved.get_seq_length() == growing.get_seq_length()


def test_updates_return_what_the_growing_layer_returns_and_write_in_place():
    reserved, growing = ReservedLayer(room=9), DynamicLayer()
    keys, values = filled(reserved)
    expected_keys, expected_values = filled(growing)
    assert torch.equal(keys, expected_keys) and torch.equal(values, expected_values)
    assert_same(reserved, growing)
    buffer = reserved.keys.untyped_storage().data_ptr()
    reserved.update(*states(4, 1, 99))
    assert reserved.keys.untyped_storage().data_ptr() == buffer, "a step within the room reallocates nothing"
    reserved.update(*states(4, 1, 100))
    assert reserved.keys.untyped_storage().data_ptr() != buffer, "a step past the room reallocates"
    assert reserved.get_seq_length() == 10


def test_grows_past_its_room_keeping_what_it_held():
    reserved, growing = ReservedLayer(room=6), DynamicLayer()
    filled(reserved, steps=(5, 1, 3, 1))
    filled(growing, steps=(5, 1, 3, 1))
    assert_same(reserved, growing)
    assert reserved.get_seq_length() == 10


def test_crop_then_update_overwrites_the_cropped_positions():
    reserved, growing = ReservedLayer(room=8), DynamicLayer()
    filled(reserved)
    filled(growing)
    reserved.crop(-2)
    growing.crop(-2)
    assert_same(reserved, growing)
    reserved.update(*states(4, 1, 7))
    growing.update(*states(4, 1, 7))
    assert_same(reserved, growing)


@pytest.mark.parametrize("operation, argument", [("batch_select_indices", torch.tensor([2, 0])),
                                                 ("batch_repeat_interleave", 2)])
def test_batch_operations_then_update_match_the_growing_layer(operation, argument):
    reserved, growing = ReservedLayer(room=8), DynamicLayer()
    filled(reserved)
    filled(growing)
    getattr(reserved, operation)(argument)
    getattr(growing, operation)(argument)
    assert_same(reserved, growing)
    batch = reserved.keys.shape[0]
    more = (torch.ones(batch, 3, 1, 8), torch.zeros(batch, 3, 1, 8))
    reserved.update(*more)
    growing.update(*more)
    assert_same(reserved, growing)


def test_reset_empties_the_layer_for_a_new_prompt():
    reserved = ReservedLayer(room=8)
    filled(reserved)
    reserved.reset()
    assert reserved.get_seq_length() == 0
    keys, _ = reserved.update(*states(2, 3, 5))
    assert keys.shape == (2, 3, 3, 8)


def test_reserved_cache_replaces_plain_layers_only():
    from transformers import LlamaConfig, MistralConfig

    llama = LlamaConfig(num_hidden_layers=3, hidden_size=32, num_attention_heads=4, num_key_value_heads=2,
                        intermediate_size=64, vocab_size=100)
    cache = reserved_cache(llama, room=12)
    assert len(cache.layers) == 3 and all(type(layer) is ReservedLayer and layer.room == 12
                                          for layer in cache.layers)
    assert cache.get_seq_length() == 0
    windowed = MistralConfig(num_hidden_layers=2, hidden_size=32, num_attention_heads=4, num_key_value_heads=2,
                             intermediate_size=64, vocab_size=100, sliding_window=16)
    assert reserved_cache(windowed, room=12) is None, "sliding-window layers keep their own cache"
