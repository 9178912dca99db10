"""A call's answer judged, repaired by the declared ``REPAIRS``, sent back."""
