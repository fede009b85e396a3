"""driftstore's v2 shards (formats.md §2): the layout (`layout`), writing (`write`),
reading and checking (`read`), decoding entries for an import (`entries`), and the fast
paths both sides take for the common row (`fast`)."""

from driftstore.formats.shards.entries import ImportedEntry, decode_v2_entries
from driftstore.formats.shards.layout import STATUS_KEYS, V2_VERSION, status_counts
from driftstore.formats.shards.read import ShardFile, is_v2_shard, read_v2_shard
from driftstore.formats.shards.write import (
    encode_v2_shard,
    entries_checksum,
    example_out,
    location_out,
    shard_path,
    v2_entry,
    variant_out,
)

__all__ = [
    "STATUS_KEYS",
    "V2_VERSION",
    "ImportedEntry",
    "ShardFile",
    "decode_v2_entries",
    "encode_v2_shard",
    "entries_checksum",
    "example_out",
    "is_v2_shard",
    "location_out",
    "read_v2_shard",
    "shard_path",
    "status_counts",
    "v2_entry",
    "variant_out",
]
