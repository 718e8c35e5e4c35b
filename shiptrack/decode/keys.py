"""The duplicate keys of decoded rows, and the lookup of one batch's keys in another's:
what the store de-duplicates by (``shiptrack.store.load``). The loops are compiled
(:mod:`shiptrack.decode.accel.dedup`).
"""

from shiptrack.decode.accel.dedup import dup_keys, key_slots, seen_in

__all__ = ["dup_keys", "key_slots", "seen_in"]
