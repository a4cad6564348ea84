"""What a bulk write raises when another transaction created or changed the same records
between reading and writing them (two systems pushing the same new subjects at once)."""


class ChangedMeanwhile(Exception):
    """Nothing of the batch may be applied: it was planned on what is no longer there."""
