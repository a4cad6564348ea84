"""A started service collects young objects less often and keeps its start-up heap out of the
collector's walks (no I/O)."""

import gc

from shuangsui.kernel.app import YOUNG_COLLECTION_THRESHOLD, settle_garbage_collector


def test_the_start_up_heap_is_frozen_and_young_objects_collected_less_often():
    settle_garbage_collector()
    assert gc.get_threshold()[0] == YOUNG_COLLECTION_THRESHOLD
    frozen = gc.get_freeze_count()
    assert frozen > 0
    settle_garbage_collector()  # a second app in the same process: already done
    assert gc.get_freeze_count() == frozen
